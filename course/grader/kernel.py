"""Runs INSIDE the grading sandbox: a kernel server that imports the libraries once and forks a fresh kernel
process for every submission; each kernel runs one notebook and answers the grader's calls, then exits.

Everything here is untrusted from the grader's point of view: the learner's code runs in the kernel process
and could change any of it. The grader only ever receives plain data (`course.grader.protocol`) and judges
it itself.

**The server** (`serve`) starts in a sandbox (`course.grader.sandbox`), imports what the assignment's
notebook imports, then waits on its control socket. For each submission the grader sends a socket of its own
(`SCM_RIGHTS`) and the server forks:

- with `namespaces` isolation (Linux, the default inside bubblewrap), the child enters new user, mount, PID
  and IPC namespaces, mounts a fresh /tmp and /dev/shm, hides every other scratch folder, binds its own
  submission's folder at the one working path, forks again so that the kernel is PID 1 of its namespace
  (when it dies, every process it started dies with it), and the kernel drops every capability. Two
  submissions never share a process, a file, a temporary folder or an IPC object; the server, which never
  runs a learner's code, is invisible to them.
- with `fork` isolation (no bubblewrap, or nested namespaces refused) the kernel is a plain fork in its own
  session; the sandbox's protections are then the process-level ones only, as `course grade` reports.

**The kernel** runs each code cell in an IPython shell with a time limit per cell, streams one message per
cell, then answers the grader's calls (protocol, one JSON object per line on its socket):

    kernel -> grader  {"event": "cell", "index": i, "status": .., "ename": .., "evalue": .., "outputs": [..]}
    kernel -> grader  {"event": "executed", "timings": {..}}
    grader -> kernel  {"op": "call", "id": n, "task": id, "args": <wire>}   (call the learner's function)
    grader -> kernel  {"op": "value", "id": n, "task": id}                  (send the learner's value)
    grader -> kernel  {"op": "method", "id": n, "handle": h, "name": .., "args": <wire>, "getattr": bool}
    kernel -> grader  {"id": n, "ok": true, "result": <wire>} | {"id": n, "ok": false, "ename": .., "evalue": ..}
    grader -> kernel  {"op": "quit"}

A kernel that dies (os._exit, a crash, the memory limit) closes its socket: the grader marks the cell it
was running as the one where the kernel died, and the later cells as not run.
"""
from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import sys
import time

CELL_PADDING = 5  # seconds a cell may overrun its limit (catching the interrupt) before the kernel is stopped


# --------------------------------------------------------------------------- outputs
def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... [output cut at {limit} characters]"


def safe_outputs(outputs: list, limit: int) -> list:
    """Outputs worth showing in feedback: text and PNG only (no HTML or JavaScript from the learner)."""
    kept, used = [], 0
    for out in outputs:
        t = out.get("output_type")
        if t == "stream":
            text = _clip(str(out.get("text", "")), max(0, limit - used))
            kept.append({"output_type": "stream", "name": out.get("name", "stdout"), "text": text})
            used += len(text)
        elif t in ("execute_result", "display_data"):
            data = out.get("data") if isinstance(out.get("data"), dict) else {}
            d = {}
            if isinstance(data.get("image/png"), str) and len(data["image/png"]) < limit:
                d["image/png"] = data["image/png"]
            if "text/plain" in data:
                d["text/plain"] = _clip(str(data["text/plain"]), 4000)
            if d:
                kept.append({"output_type": "display_data", "data": d, "metadata": {}})
        elif t == "error":
            kept.append({"output_type": "error", "ename": str(out.get("ename", ""))[:200],
                         "evalue": _clip(str(out.get("evalue", "")), 4000),
                         "traceback": [_clip(str(x), 4000) for x in out.get("traceback", [])[-20:]]})
        if used >= limit:
            break
    return kept


class _Outputs:
    """The outputs of the cell that runs, as nbformat dicts, with at most `limit` characters of text."""

    def __init__(self, limit: int):
        self.limit, self.items, self.used = limit, [], 0

    def stream(self, name: str, text: str) -> None:
        if self.used >= self.limit or not text:
            return
        text = text[: self.limit - self.used]
        self.used += len(text)
        last = self.items[-1] if self.items else None
        if last and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.items.append({"output_type": "stream", "name": name, "text": text})

    def add(self, item: dict) -> None:
        if len(self.items) < 200:
            self.items.append(item)


class _Stream:
    """sys.stdout / sys.stderr of the kernel: text goes to the running cell's outputs."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, name: str, sink):
        self.name, self.sink = name, sink

    def write(self, text) -> int:
        text = str(text)
        self.sink().stream(self.name, text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("the grading kernel's streams have no file descriptor")

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False


def _shell(outputs):
    """An IPython shell whose displays, results and tracebacks go to `outputs()` (the running cell's)."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            outputs().add({"output_type": "display_data", "data": dict(data), "metadata": dict(metadata or {})})

        def clear_output(self, wait=False):
            pass

    class Hook(DisplayHook):
        def start_displayhook(self):
            pass

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            outputs().add({"output_type": "execute_result", "data": dict(format_dict), "metadata": dict(md_dict or {}),
                           "execution_count": self.prompt_count})

        def finish_displayhook(self):
            pass

    class Shell(InteractiveShell):
        def _showtraceback(self, etype, evalue, stb):
            outputs().add({"output_type": "error", "ename": getattr(etype, "__name__", str(etype)),
                           "evalue": str(evalue), "traceback": [str(s) for s in stb]})

        def enable_gui(self, gui=None):  # no event loop in a grading kernel
            pass

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.autocall = 0
    Shell.display_pub_class = Publisher
    Shell.displayhook_class = Hook
    return Shell.instance(config=config)


# --------------------------------------------------------------------------- the kernel: one submission
class CellTimeout(KeyboardInterrupt):
    """What a cell sees when its time is up (a KeyboardInterrupt, as a Jupyter kernel's interrupt)."""


class Kernel:
    """One submission's notebook, run cell by cell in this process, then its answers served."""

    def __init__(self, channel, spec: dict):
        self.channel = channel
        self.reader = channel.makefile("rb")
        self.cell_seconds = int(spec.get("cell_timeout", 60))
        self.limit = int(spec.get("output_bytes", 2 * 2**20))
        self.notebook = spec["notebook"]
        self.current = _Outputs(self.limit // 8)
        self.answers, self.handles = {}, {}
        self.timed_out = False
        self.forked = float(spec.get("forked", time.perf_counter()))

    # the wire
    def send(self, obj) -> None:
        data = (json.dumps(obj) + "\n").encode()
        self.channel.sendall(data)

    # time limits: an interrupt at the limit, then a hard stop if the code swallows it
    def _alarm(self, signum, frame):
        self.timed_out = True
        signal.setitimer(signal.ITIMER_REAL, CELL_PADDING)
        signal.signal(signal.SIGALRM, self._stop)
        raise CellTimeout(f"the cell ran past its limit of {self.cell_seconds} s")

    def _stop(self, signum, frame):
        self.send({"event": "stopped", "why": "the code kept running after its time limit"})
        os._exit(70)

    def _limited(self, fn, *args):
        self.timed_out = False
        signal.signal(signal.SIGALRM, self._alarm)
        signal.setitimer(signal.ITIMER_REAL, self.cell_seconds)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def export(self, task, getter):
        try:
            self.answers[task] = getter()
        except NameError as e:
            self.answers[task] = _Missing(str(e))

    def run(self) -> None:
        import nbformat

        t0 = time.perf_counter()
        shell = _shell(lambda: self.current)
        sys.stdout, sys.stderr = _Stream("stdout", lambda: self.current), _Stream("stderr", lambda: self.current)
        shell.user_ns["__course_export__"] = self.export
        nb = nbformat.read(self.notebook, as_version=4)
        timings = {"fork": round(t0 - self.forked, 3), "kernel_start": round(time.perf_counter() - t0, 3)}
        t1 = time.perf_counter()
        index = -1
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            index += 1
            self.current = _Outputs(self.limit // 8)
            try:
                result = self._limited(shell.run_cell, cell.source, True)
                ok = result.success
            except KeyboardInterrupt:  # the alarm landed outside the cell's own code
                ok = False
            status = "timeout" if self.timed_out else ("ok" if ok else "error")
            outs = self.current.items
            err = next((o for o in outs if o.get("output_type") == "error"), {})
            self.send({"event": "cell", "index": index, "status": status, "ename": err.get("ename", ""),
                       "evalue": _clip(str(err.get("evalue", "")), 2000), "outputs": safe_outputs(outs, self.limit // 8)})
        timings["cells"] = round(time.perf_counter() - t1, 3)
        self.send({"event": "executed", "timings": timings})
        self.current = _Outputs(0)  # what the learner's functions print while called is not kept
        self.serve_calls()

    def serve_calls(self) -> None:
        from course.grader import protocol, remote

        for line in self.reader:
            try:
                req = json.loads(line)
            except ValueError:
                continue
            if req.get("op") == "quit":
                return
            rid = req.get("id")
            try:
                reply = self._limited(self._answer, req, protocol, remote)
            except BaseException as e:  # noqa: BLE001 - the learner's code may raise anything, even SystemExit
                name = "Timeout" if self.timed_out else type(e).__name__
                reply = {"ok": False, "ename": name, "evalue": str(e)[:2000]}
            reply["id"] = rid
            try:
                text = json.dumps(reply)
            except (TypeError, ValueError) as e:
                text = json.dumps({"id": rid, "ok": False, "ename": "NoAnswer", "evalue": f"no usable answer ({e})"})
            if len(text) > self.limit * 16:
                text = json.dumps({"id": rid, "ok": False, "ename": "NoAnswer",
                                   "evalue": f"the answer is larger than {self.limit * 16 // 2**20} MiB"})
            self.channel.sendall((text + "\n").encode())

    def _register(self, obj) -> dict:
        self.handles[len(self.handles) + 1] = obj
        kind = type(obj)
        methods = sorted(n for n in dir(kind) if not n.startswith("_") and callable(getattr(kind, n, None))
                         and not isinstance(getattr(kind, n, None), property))
        return {"handle": len(self.handles), "cls": kind.__name__, "methods": methods, "callable": callable(obj)}

    def _answer(self, req: dict, protocol, remote) -> dict:
        args = protocol.decode(req.get("args", "[]"), remote=remote.proxy, files=remote.receive_file)
        if req.get("op") == "method":
            obj, name = self.handles[int(req["handle"])], str(req["name"])
            if name.startswith("_") and name != "__call__":
                raise AttributeError(name)
            if req.get("getattr"):
                result = getattr(obj, name)
                if callable(result):
                    return {"ok": True, "callable": True}
            else:
                result = (obj if name == "__call__" else getattr(obj, name))(*args)
        else:
            task = str(req.get("task", ""))
            a = self.answers.get(task, _Missing("the answer was never defined"))
            if isinstance(a, _Missing):
                raise NameError(a.why)
            result = a if req.get("op") == "value" else a(*args)
        return {"ok": True, "result": protocol.encode(result, remote=self._register)}


class _Missing:
    def __init__(self, why):
        self.why = why


# --------------------------------------------------------------------------- isolation (Linux namespaces)
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWIPC = 0x00020000, 0x10000000, 0x20000000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 4, 38, 47


def _libc():
    import ctypes

    return ctypes, ctypes.CDLL(None, use_errno=True)


def _check(ctypes, result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, target, fstype, flags, data=None) -> None:
    ctypes, libc = _libc()
    enc = lambda s: s.encode() if s else None  # noqa: E731
    _check(ctypes, libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _under(path: str, folder: str) -> bool:
    return (path.rstrip("/") + "/").startswith(folder.rstrip("/") + "/")


def enter_namespaces(scratch: str, work: str, root: str, tmp_bytes: int, keep=()) -> None:
    """New user, mount, PID and IPC namespaces; a fresh /tmp and /dev/shm; `scratch` bound at `work`, and the
    other scratch folders (under `root`) hidden. The next fork is PID 1 of the new PID namespace.

    `keep`: the read-only folders of the interpreter, the environment and the course package; those that
    lie under /tmp (a checkout in /tmp, say) are bound again over the fresh /tmp, with what is mounted in them.
    """
    ctypes, libc = _libc()
    uid, gid = os.geteuid(), os.getegid()
    _check(ctypes, libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    fd = os.open(scratch, os.O_PATH | os.O_DIRECTORY)  # opened in the new mount namespace, as binds require
    kept = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep if _under(p, "/tmp") and os.path.isdir(p)}
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_bytes},mode=1777")
    if not (root + "/").startswith("/tmp/"):
        _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for path, kfd in sorted(kept.items()):
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{kfd}", path, None, MS_BIND | MS_REC)  # read-only as it was (mount flags are copied)
        os.close(kfd)
    os.makedirs(work, exist_ok=True)
    _mount(f"/proc/self/fd/{fd}", work, None, MS_BIND)
    os.close(fd)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_bytes},mode=1777")


def drop_privileges() -> None:
    """No capability left (they would let the learner's code undo the mounts) and no way to gain one."""
    ctypes, libc = _libc()

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    libc.prctl(PR_CAP_AMBIENT, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    _check(ctypes, libc.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()), "capset")
    _check(ctypes, libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _prctl(option: int, value: int) -> None:
    ctypes, libc = _libc()
    libc.prctl(option, value, 0, 0, 0)


def namespaces_work(root: str, work: str, keep=()) -> str:
    """"" when a forked child can enter its own namespaces here; otherwise why not."""
    probe = os.path.join(root, "probe")
    os.makedirs(probe, exist_ok=True)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            enter_namespaces(probe, work, root, 2**20, keep)
            g = os.fork()
            if g == 0:
                try:
                    drop_privileges()
                    seen = os.getpid() == 1 and os.path.isdir(work) and all(os.path.isdir(p) for p in keep)
                    os._exit(0 if seen else 2)  # the environment's folders are still there for lazy imports
                finally:
                    os._exit(3)
            code = os.waitstatus_to_exitcode(os.waitpid(g, 0)[1])
        except BaseException:  # noqa: BLE001
            code = 1
        os._exit(code)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return "" if status == 0 else f"a forked kernel cannot enter its own namespaces here (probe exit {status})"


# --------------------------------------------------------------------------- the server
def _limits(spec: dict) -> None:
    import resource

    lim = spec.get("limits", {})
    for name, key in (("RLIMIT_CPU", "cpu_seconds"), ("RLIMIT_AS", "address_space_bytes"), ("RLIMIT_FSIZE", "file_bytes")):
        if key in lim:
            v = int(lim[key])
            resource.setrlimit(getattr(resource, name), (v, v + (5 if key == "cpu_seconds" else 0)))
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _close_fds(keep) -> None:
    for name in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _kernel_main(chan_fd: int, spec: dict, work: str) -> None:
    """In the forked kernel process: set up, run the notebook, serve the calls, exit. Never returns."""
    code = 0
    try:
        os.chdir(work)
        for d in spec.get("dirs", []):  # the folders the server's imports made in its own working folder
            os.makedirs(os.path.join(work, d), exist_ok=True)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        err = os.open(os.path.join(work, ".stderr"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(err, 1)
        os.dup2(err, 2)
        for fd in (devnull, err):
            os.close(fd)
        _limits(spec)
        try:
            with open("/proc/self/oom_score_adj", "w") as f:  # the kernel, not the server, goes first at the memory limit
                f.write("1000")
        except OSError:
            pass
        channel = socket.socket(fileno=chan_fd)
        Kernel(channel, spec).run()
    except BaseException:  # noqa: BLE001 - nothing of the kernel may reach the server's loop
        code = 1
    finally:
        os._exit(code)


def _fork_kernel(spec: dict, chan_fd: int, mode: str, root: str, work: str) -> tuple:
    """(pid to signal, read end that closes when the kernel is gone)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(w)
        return pid, r
    # the child
    os.close(r)
    _close_fds({chan_fd, w})
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        if mode == "namespaces":
            enter_namespaces(os.path.join(root, spec["scratch"]), work, root, int(spec.get("tmp_bytes", 256 * 2**20)),
                             spec.get("keep", ()))
            g = os.fork()
            if g == 0:
                os.close(w)
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                drop_privileges()
                _prctl(PR_SET_DUMPABLE, 1)
                _kernel_main(chan_fd, spec, work)
            os.close(chan_fd)

            def stop(signum, frame):
                os.kill(g, signal.SIGKILL)  # PID 1 of the namespace: every process in it dies

            signal.signal(signal.SIGTERM, stop)
            _, status = os.waitpid(g, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        os.setsid()
        own = os.path.join(root, spec["scratch"])
        for name, value in list(os.environ.items()):  # HOME, the services' folder, caches: the submission's own
            if value == work or value.startswith(work + "/"):
                os.environ[name] = own + value[len(work):]
        _kernel_main(chan_fd, spec, own)
    except BaseException:  # noqa: BLE001
        os._exit(1)


def _preload(modules) -> dict:
    loaded, failed = [], {}
    for name in modules:
        try:
            __import__(name)
            loaded.append(name)
        except BaseException as e:  # noqa: BLE001 - the notebook will meet the same error itself
            failed[name] = f"{type(e).__name__}: {e}"[:200]
    return {"loaded": loaded, "failed": failed}


def serve(ctl_fd: int) -> int:
    """The kernel server's loop: preload, then one forked kernel per submission, one at a time."""
    ctl = socket.socket(fileno=ctl_fd)
    hello = json.loads(ctl.recv(1 << 20))
    root, work = hello["root"], hello["work"]
    t0 = time.perf_counter()
    os.chdir(work)
    sys.modules.setdefault("rfc3987_syntax", None)  # see `preload_list`: an unused grammar, 1.6 s to build
    import IPython.core.interactiveshell  # noqa: F401 - the kernel's shell
    import nbformat  # noqa: F401

    import course.grader.protocol  # noqa: F401
    import course.grader.remote  # noqa: F401

    done = _preload(hello.get("preload", []))
    _prctl(PR_SET_DUMPABLE, 0)  # the kernels cannot read the server's memory or descriptors
    mode = hello.get("isolation", "namespaces")
    why = ""
    if mode == "namespaces":
        why = namespaces_work(root, work, hello.get("keep", ()))
        if why:
            mode = "fork"
    dirs = sorted(os.path.relpath(os.path.join(d, n), work) for d, ns, _ in os.walk(work) for n in ns)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    ctl.sendall((json.dumps({"event": "ready", "isolation": mode, "why": why, "seconds": round(time.perf_counter() - t0, 2),
                             **done}) + "\n").encode())
    while True:
        msg, fds, _, _ = socket.recv_fds(ctl, 1 << 20, 1)
        if not msg:
            return 0
        cmd = json.loads(msg)
        if cmd.get("op") != "fork" or not fds:
            for fd in fds:
                os.close(fd)
            continue
        spec = {**cmd, "dirs": dirs, "keep": hello.get("keep", []), "forked": time.perf_counter()}
        pid, gone = _fork_kernel(spec, fds[0], mode, root, work)
        os.close(fds[0])
        while True:
            ready, _, _ = select.select([ctl, gone], [], [])
            if gone in ready:
                _, status = os.waitpid(pid, 0)
                os.close(gone)
                ctl.sendall((json.dumps({"event": "exited", "id": cmd.get("id"), "status": status}) + "\n").encode())
                break
            msg, extra, _, _ = socket.recv_fds(ctl, 4096, 1)
            for fd in extra:
                os.close(fd)
            if not msg:
                os.kill(pid, signal.SIGKILL)
                return 0
            if json.loads(msg).get("op") == "kill":
                try:
                    os.kill(pid, signal.SIGTERM if mode == "namespaces" else signal.SIGKILL)
                    if mode != "namespaces":
                        os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass


IMPORT = re.compile(r"^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*))", re.M)


def preload_list(sources) -> list:
    """The modules a notebook's cells import (what the server imports once, for every kernel)."""
    names = []
    for text in sources:
        for frm, imp in IMPORT.findall(text):
            for name in ([frm] if frm else [n.strip() for n in imp.split(",")]):
                if name and not name.startswith(".") and name not in names:
                    names.append(name)
    return names


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
