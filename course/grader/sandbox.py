"""Run untrusted learner code in a sandbox: its own process group, limits, no network, a scratch folder.

What is used depends on what the platform really offers, and `Sandbox.protections` says which
layers were active for a run, so that every grading report can state it:

- **bubblewrap** (`bwrap`, Linux; Debian package `bubblewrap`): new user, PID, IPC, UTS and network
  namespaces (no network; loopback only, for the kernel), uid 65534, a read-only view of just the
  interpreter, the environment and the `course` package, a private /tmp, and a writable scratch folder.
  Nothing else of the machine is visible: not `solutions/`, not the gradebook, not other submissions.
- **cgroups**, v1 (`pids` and `memory` controllers) or v2 (the unified hierarchy of Debian 12, Ubuntu 24.04,
  RHEL 9: `pids.max`, `memory.max`, no swap), detected, when writable (root, or a subtree delegated to the
  grading user, named by `$COURSE_CGROUP`): a process count limit (a fork bomb stops there; RLIMIT_NPROC is
  not enforced for root) and a memory limit for the whole sandbox.
- **rlimits** (every POSIX system): CPU seconds, address space, file size, open files, core dumps off.
- **a process group and a wall-clock limit**, enforced by the grader, which kills the group (and the cgroup).

Without bubblewrap (macOS, Windows, a Linux without it) only the last two layers are active: the code then
runs as the grading user and can read and write what that user can. `course grade` says so loudly.
"""
from __future__ import annotations

import os
import resource  # here, not in the child after fork: an import there can deadlock on a lock another thread held
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Limits:
    wall_seconds: float = 600.0  # the whole submission: every cell and every check call
    cell_seconds: int = 60  # one cell or one call of a learner function
    cpu_seconds: int = 900
    memory_bytes: int = 2 * 1024**3  # the whole sandbox (cgroup), or each process (rlimit)
    address_space_bytes: int = 8 * 1024**3  # per process; numpy/BLAS reserve a lot of virtual memory
    processes: int = 128  # threads count too
    file_bytes: int = 64 * 1024**2  # the largest file the learner's code may write
    output_bytes: int = 2 * 1024**2  # what the grader reads back per message / per cell


_PROBED: dict = {}  # bubblewrap's path -> "" or why it does not work here
KEYS = Path(__file__).resolve().parent.parent / "checks" / "keys"  # never mounted in the sandbox


def python_roots() -> list:
    """Folders the interpreter and the environment live in (read-only in the sandbox)."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent}
    import course

    roots.add(Path(course.__file__).resolve().parent)
    return sorted(roots)


@dataclass
class Sandbox:
    """How untrusted code is started; `protections` lists the layers that are active."""

    limits: Limits = field(default_factory=Limits)
    use_bwrap: bool = True
    use_cgroups: bool = True

    def __post_init__(self):
        self.bwrap = shutil.which("bwrap") if self.use_bwrap and sys.platform.startswith("linux") else None
        self.cgroup_version = cgroup_version() if self.use_cgroups and sys.platform.startswith("linux") else 0
        self.cgroups = bool(self.cgroup_version) and cgroups_writable(self.cgroup_version)

    @property
    def protections(self) -> list:
        p = ["own process group, killed at the wall-clock limit", "rlimits: CPU time, address space, file size, open files"]
        if self.bwrap:
            p += ["bubblewrap: no network (own network namespace, loopback only)", "bubblewrap: uid 65534 in a user namespace",
                  "bubblewrap: read-only view of the interpreter, environment and course package only",
                  "bubblewrap: the answer keys (course/checks/keys) hidden",
                  "bubblewrap: private /tmp; only the submission's scratch folder is writable"]
        if self.cgroups:
            p += [f"cgroup v{self.cgroup_version}: at most {self.limits.processes} processes/threads",
                  f"cgroup v{self.cgroup_version}: memory at most {self.limits.memory_bytes // 2**20} MiB"]
        return p

    @property
    def missing(self) -> list:
        m = []
        if not self.bwrap:
            m.append("no bubblewrap: learner code runs as the grading user, with its network and files "
                     "(install the Debian package `bubblewrap` on Linux)")
        if not self.cgroups:
            m.append("no writable cgroups (v1 or v2): no process-count limit for root, memory limited per process only "
                     "(grade as root, or delegate a cgroup v2 subtree and name it in $COURSE_CGROUP)")
        return m

    def probe(self) -> str:
        """"" when bubblewrap is here and really starts a sandbox; otherwise why not (in words).

        bubblewrap may be installed and still fail: user namespaces are often restricted on container
        platforms and by AppArmor (`kernel.apparmor_restrict_unprivileged_userns`). Probed once per process.
        """
        if not self.bwrap:
            return "bubblewrap is not installed" if sys.platform.startswith("linux") else f"no bubblewrap on {sys.platform}"
        key = self.bwrap
        if key not in _PROBED:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
                try:
                    res = subprocess.run(self.command(Path(tmp), [sys.executable, "-c", "pass"]), capture_output=True,
                                         text=True, timeout=60, check=False)
                    _PROBED[key] = "" if res.returncode == 0 else \
                        f"bubblewrap cannot start a sandbox here: {(res.stderr or '').strip()[-200:] or res.returncode}"
                except (OSError, subprocess.TimeoutExpired) as e:
                    _PROBED[key] = f"bubblewrap cannot start a sandbox here: {e}"
        return _PROBED[key]

    def command(self, scratch: Path, argv: list) -> list:
        """The command line that runs argv inside the sandbox with `scratch` as its working folder."""
        if not self.bwrap:
            return list(argv)
        cmd = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--uid", "65534", "--gid", "65534",
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for d in ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc/ssl", "/etc/alternatives"):
            if Path(d).exists():
                cmd += ["--ro-bind", d, d]
        for f in ("/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/hosts", "/etc/localtime"):
            if Path(f).exists():
                cmd += ["--ro-bind", f, f]
        for root in python_roots():
            cmd += ["--ro-bind", str(root), str(root)]
        cmd += ["--tmpfs", str(KEYS)]  # the answer keys: an empty folder in the sandbox
        cmd += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch), "--setenv", "HOME", str(scratch)]
        return cmd + list(argv)

    def start(self, scratch: Path, argv: list, env: dict, pass_fds=()) -> "Running":
        cgroup = make_cgroup(self.limits, self.cgroup_version) if self.cgroups else None
        limits = self.limits

        def preexec():  # runs in the child, before exec
            os.setsid()
            if cgroup:
                for path in cgroup:
                    (path / "cgroup.procs").write_text(str(os.getpid()))
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
            resource.setrlimit(resource.RLIMIT_AS, (limits.address_space_bytes, limits.address_space_bytes))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
            resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if not cgroup and os.geteuid() != 0:
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))

        proc = subprocess.Popen(
            self.command(scratch, argv), cwd=scratch, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=preexec if os.name == "posix" else None, close_fds=True,
            pass_fds=tuple(pass_fds),
        )
        return Running(proc, cgroup, time.monotonic() + limits.wall_seconds)


class Running:
    """A started sandbox: the process, its cgroups and its deadline."""

    def __init__(self, proc, cgroup, deadline):
        self.proc, self.cgroup, self.deadline = proc, cgroup, deadline

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def kill(self) -> None:
        """Kill everything the sandbox started (process group, then every process of its cgroup)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
        for path in self.cgroup or []:
            if (path / "cgroup.kill").exists():  # cgroup v2 (Linux 5.14+): one write kills every process
                try:
                    (path / "cgroup.kill").write_text("1")
                except OSError:
                    pass
            for _ in range(50):
                try:
                    pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.05)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for path in self.cgroup or []:
            try:
                path.rmdir()
            except OSError:
                pass

    def oom_count(self) -> int:
        """How often the sandbox's memory limit was hit so far (its cgroup's counter; 0 without cgroups)."""
        for path in self.cgroup or []:
            events = path / "memory.events"  # cgroup v2
            if events.exists():
                try:
                    counts = dict(line.split() for line in events.read_text().splitlines() if len(line.split()) == 2)
                    return int(counts.get("oom_kill", 0)) + int(counts.get("oom", 0))
                except (OSError, ValueError):
                    return 0
            f = path / "memory.failcnt"
            if f.exists():
                try:
                    return int(f.read_text().strip() or 0)
                except (OSError, ValueError):
                    return 0
        return 0

    def oom_killed(self) -> bool:
        return self.oom_count() > 0


def cgroup_version(root: Path | None = None) -> int:
    """2 for the unified hierarchy, 1 for v1 controllers, 0 when there are none."""
    root = Path(root or CGROUP_ROOT)
    if (root / "cgroup.controllers").exists():
        return 2
    if (root / "pids" / "cgroup.procs").exists() and (root / "memory" / "cgroup.procs").exists():
        return 1
    return 0


def v2_parent(root: Path | None = None) -> Path:
    """Where the sandboxes' cgroups are made under v2: $COURSE_CGROUP (a delegated subtree), or the root."""
    root = Path(root or CGROUP_ROOT)
    named = os.environ.get("COURSE_CGROUP", "").strip()
    return (root / named.lstrip("/")) if named else root


def cgroups_writable(version: int, root: Path | None = None) -> bool:
    root = Path(root or CGROUP_ROOT)
    if version == 1:
        return all((root / c / "cgroup.procs").exists() and os.access(root / c, os.W_OK) for c in ("pids", "memory"))
    if version == 2:
        parent = v2_parent(root)
        try:
            available = (parent / "cgroup.controllers").read_text().split()
        except OSError:
            return False
        return {"pids", "memory"} <= set(available) and os.access(parent, os.W_OK) \
            and os.access(parent / "cgroup.subtree_control", os.W_OK)
    return False


def make_cgroup(limits: Limits, version: int = 1, root: Path | None = None):
    """The cgroup(s) one sandbox runs in, with its limits; None if they cannot be made."""
    root = Path(root or CGROUP_ROOT)
    name = f"course-grade-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if version == 2:
        parent = v2_parent(root)
        group = parent / name
        try:
            enabled = (parent / "cgroup.subtree_control").read_text().split()
            missing = [c for c in ("pids", "memory") if c not in enabled]
            if missing:  # controllers must be enabled for the children (fails if the parent holds processes)
                (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in missing))
            group.mkdir()
            (group / "pids.max").write_text(str(limits.processes))
            (group / "memory.max").write_text(str(limits.memory_bytes))
            try:
                (group / "memory.swap.max").write_text("0")  # absent without swap accounting
            except OSError:
                pass
            return [group]
        except OSError:
            try:
                group.rmdir()
            except OSError:
                pass
            return None
    pids, mem = root / "pids" / name, root / "memory" / name
    try:
        pids.mkdir()
        (pids / "pids.max").write_text(str(limits.processes))
        mem.mkdir()
        (mem / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
        return [pids, mem]
    except OSError:
        for p in (pids, mem):
            try:
                p.rmdir()
            except OSError:
                pass
        return None
