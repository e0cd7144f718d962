"""The grader's side of the kernel servers (`course.grader.kernel`): started in a sandbox, reused, one per worker.

A kernel server imports what an assignment's notebook imports once; each submission then gets a kernel
process forked from it, in namespaces of its own (`course.grader.kernel`), so that the 1-2 s of imports and
kernel start are not paid per submission. A server runs one kernel at a time and is only reused when its
kernels really are isolated from each other: with bubblewrap, when the forked kernel could enter its own
namespaces (`isolation == "namespaces"`); without bubblewrap there is no isolation to keep. Otherwise (nested
user namespaces refused) each submission gets a server, and so a bubblewrap sandbox, of its own.

`Pool.acquire` hands out an idle server for the same sandbox settings and imports, or starts one; `release`
gives it back (or stops it if it broke). Servers stop when the grading process exits (and, with bubblewrap,
when it dies: `--die-with-parent`).
"""
from __future__ import annotations

import atexit
import concurrent.futures as cf
import json
import os
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from course.grader.sandbox import Sandbox, python_roots

START_SECONDS = 180  # importing the libraries on a loaded machine
NAMESPACES = True  # ask the server to give each kernel namespaces of its own (False: plain forks, never reused in bubblewrap)


class ServerBroken(RuntimeError):
    """The kernel server did not start, or stopped (it is never reused then)."""


def base_env(home: Path) -> dict:
    """The environment of the sandbox: no grader secrets, one thread per library, caches under `home`."""
    env = {
        "PATH": str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin",
        "HOME": str(home), "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "SECML_HOME_DIR": str(home / ".secml"), "JUPYTER_RUNTIME_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".jupyter-data"), "IPYTHONDIR": str(home / ".ipython"),
        "MPLCONFIGDIR": str(home / ".mpl"), "XDG_CACHE_HOME": str(home / ".cache"),  # font caches too
        "COURSE_NO_SELF_CHECK": "1", "NBGRADER_EXECUTION": "autograde",
        "PYTHONDONTWRITEBYTECODE": "1", "COURSE_RPC_DIR": str(home / ".rpc"),
    }
    if os.environ.get("PYTHONPATH"):  # the tests' offline guard, for instance
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


class KernelServer:
    """One kernel server in its sandbox; one kernel at a time."""

    def __init__(self, sandbox: Sandbox, preload: tuple):
        self.sandbox, self.preload = sandbox, preload
        self.root = Path(tempfile.mkdtemp(prefix="course-kernels-"))
        self.work = self.root / "work"  # the server's working folder; each kernel's own scratch is bound here
        self.work.mkdir()
        for p in (self.root, self.work):
            os.chmod(p, 0o777)  # uid 65534 in the sandbox writes here
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ctl = ours
        self.kernels = 0
        self.broken = ""
        self._oom_seen = 0
        try:
            self.run = sandbox.start(self.root, [sys.executable, "-m", "course.grader.kernel", str(theirs.fileno())],
                                     base_env(self.work), pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        self.stderr = []
        threading.Thread(target=self._drain, daemon=True).start()
        isolation = "namespaces" if NAMESPACES and sandbox.bwrap and sys.platform.startswith("linux") else "fork"
        self._send({"root": str(self.root), "work": str(self.work), "preload": list(preload), "isolation": isolation,
                    "keep": [str(p) for p in python_roots()]})
        ready = self._receive(START_SECONDS)
        if not ready or ready.get("event") != "ready":
            tail = "".join(self.stderr)[-300:].strip()
            self.close()
            raise ServerBroken(f"the kernel server did not start{': ' + tail if tail else ''}")
        self.isolation, self.why = ready.get("isolation", "fork"), ready.get("why", "")
        self.start_seconds = ready.get("seconds")
        self.reusable = self.isolation == "namespaces" or not sandbox.bwrap

    def _drain(self):
        kept = 0
        for raw in iter(lambda: self.run.proc.stderr.read(65536), b""):
            if kept < 20000:
                self.stderr.append(raw[: 20000 - kept].decode("utf-8", "replace"))
                kept += len(raw)

    def _send(self, obj, fds=()) -> None:
        data = json.dumps(obj).encode()
        if fds:
            socket.send_fds(self.ctl, [data], list(fds))
        else:
            self.ctl.send(data)

    def _receive(self, timeout: float):
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            ready, _, _ = select.select([self.ctl], [], [], max(0.0, min(1.0, deadline - time.monotonic())))
            if ready:
                break
            if self.run.proc.poll() is not None:  # bubblewrap holds the socket too: no end-of-file from it
                self.broken = self.broken or f"the kernel server stopped (exit code {self.run.proc.returncode})"
                return None
            if time.monotonic() >= deadline:
                return None
        try:
            data = self.ctl.recv(1 << 20)
        except OSError:
            data = b""
        if not data:
            self.broken = self.broken or "the kernel server stopped"
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def new_scratch(self) -> Path:
        """A fresh folder for one submission, under the server's root (the only place its kernel can see)."""
        path = self.root / f"s-{uuid.uuid4().hex[:12]}"
        path.mkdir()
        os.chmod(path, 0o777)
        return path

    def start_kernel(self, scratch: Path, spec: dict) -> socket.socket:
        """Fork a kernel for the submission in `scratch`; the socket the kernel speaks on."""
        if self.broken or self.run.proc.poll() is not None:
            raise ServerBroken(self.broken or "the kernel server stopped")
        self.kernels += 1
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._send({"op": "fork", "id": self.kernels, "scratch": scratch.name, **spec}, fds=(theirs.fileno(),))
        except OSError as e:
            ours.close()
            self.broken = f"the kernel server does not answer ({e})"
            raise ServerBroken(self.broken) from e
        finally:
            theirs.close()
        self._oom_seen = self.oom_count()
        return ours

    def finish_kernel(self, wait: float = 5.0) -> bool:
        """Wait until the kernel (and everything it started) is gone; stop it if it is not. True when gone."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            msg = self._receive(deadline - time.monotonic())
            if msg and msg.get("event") == "exited" and msg.get("id") == self.kernels:
                return True
            if msg is None and self.broken:
                return False
        try:
            self._send({"op": "kill"})
        except OSError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = self._receive(deadline - time.monotonic())
            if msg and msg.get("event") == "exited" and msg.get("id") == self.kernels:
                return True
            if msg is None and self.broken:
                break
        self.broken = self.broken or "a kernel could not be stopped"
        return False

    def oom_count(self) -> int:
        return self.run.oom_count()

    def oom_since_start(self) -> bool:
        return self.oom_count() > self._oom_seen

    def close(self) -> None:
        try:
            self.ctl.close()
        except OSError:
            pass
        self.run.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class Pool:
    """Idle kernel servers by (sandbox settings, imports); thread-safe."""

    def __init__(self):
        self.idle: dict = {}
        self.warming: dict = {}  # key -> servers starting in the background (`warm`)
        self.starter = None  # the threads that start them
        self.cond = threading.Condition()
        self.all: list = []

    @staticmethod
    def key(sandbox: Sandbox, preload: tuple) -> tuple:
        return (sandbox.bwrap, sandbox.cgroups, tuple(sorted(vars(sandbox.limits).items())), preload,
                os.environ.get("PYTHONPATH", ""))

    def warm(self, sandbox: Sandbox, preload: tuple, n: int) -> None:
        """Start n servers in the background, while the grader does its own preparation; `acquire` waits for them.

        They are started from threads that live as long as the pool: bubblewrap's --die-with-parent stops a
        sandbox when the thread that started it ends, not only the process.
        """
        k = self.key(sandbox, preload)

        def start():
            try:
                server = KernelServer(sandbox, preload)
            except Exception:  # noqa: BLE001 - `acquire` starts one itself and reports why it cannot
                server = None
            with self.cond:
                self.warming[k] -= 1
                if server is not None:
                    self.all.append(server)
                    self.idle.setdefault(k, []).append(server)
                self.cond.notify_all()

        with self.cond:
            self.warming[k] = self.warming.get(k, 0) + n
            if self.starter is None:
                self.starter = cf.ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                                     thread_name_prefix="course-kernel-server")
        for _ in range(n):
            self.starter.submit(start)

    def acquire(self, sandbox: Sandbox, preload: tuple) -> KernelServer:
        k = self.key(sandbox, preload)
        with self.cond:
            while True:
                while self.idle.get(k):
                    server = self.idle[k].pop()
                    if not server.broken and server.run.proc.poll() is None:
                        return server
                    server.close()
                if not self.warming.get(k):
                    break
                self.cond.wait()  # a server being started in the background is nearly there
        server = KernelServer(sandbox, preload)
        with self.cond:
            self.all.append(server)
        return server

    def release(self, server: KernelServer, healthy: bool = True) -> None:
        if healthy and server.reusable and not server.broken and server.run.proc.poll() is None:
            with self.cond:
                self.idle.setdefault(self.key(server.sandbox, server.preload), []).append(server)
                self.cond.notify_all()
            return
        server.close()
        with self.cond:
            if server in self.all:
                self.all.remove(server)

    def close(self) -> None:
        with self.cond:
            self.cond.wait_for(lambda: not any(self.warming.values()), timeout=START_SECONDS)
            servers, self.all, self.idle = list(self.all), [], {}
        for s in servers:
            s.close()


POOL = Pool()
atexit.register(POOL.close)
