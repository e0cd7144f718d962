#!/usr/bin/env python3
"""Set up the course environment, then open the course or run its tests.

    python3 run.py                 # set up what is missing, update my-work/, open lesson 00 in JupyterLab
    python3 run.py --instructor    # JupyterLab on the repository itself, with nbgrader's instructor tools
    python3 run.py test            # set up what is missing (with test tools), run the default test tier
    python3 run.py test --slow     # the slow tier (every round trip, hostile submissions, ...)
    python3 run.py lock            # maintainers: re-resolve requirements/lock.txt and environment.yml

Options for opening the course: --no-browser (or COURSE_NO_BROWSER=1), --port N (or COURSE_PORT);
COURSE_WORKSPACE=DIR puts the learner's copies elsewhere than my-work/ (tests, a shared machine).
The learner's view: JupyterLab's root is my-work/ (the learner's own copies of the lessons and exercises,
see update_copies), its configuration comes first from learner-view/.
Only the Python standard library is used here, so this works on a machine with nothing but
Python 3.11 (or 3.12) and git. Everything is installed into .venv/ beside this file.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
REQ = ROOT / "requirements"
WORKSPACE = Path(os.environ.get("COURSE_WORKSPACE") or ROOT / "my-work")  # the learner's own copies
LEARNER_VIEW = ROOT / "learner-view"  # the learner's Jupyter configuration (see its README.md)
START_PAGES = ["lessons/lesson-00-welcome.ipynb", "lessons/lesson-01-ml-recap.ipynb"]
SUPPORTED = ((3, 11), (3, 12))


def say(msg: str) -> None:
    print(f"[course] {msg}", flush=True)


def fail(msg: str, hint: str = "") -> NoReturn:
    print(f"\n[course] ERROR: {msg}", file=sys.stderr)
    if hint:
        print(f"[course] What to do: {hint}", file=sys.stderr)
    sys.exit(1)


def venv_bin(name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" and name in ("python", "pip", "jupyter", "pytest", "course") else ""
    return VENV / sub / f"{name}{suffix}"


def run(cmd: list, **kw) -> None:
    res = subprocess.run([str(c) for c in cmd], check=False, **kw)
    if res.returncode != 0:
        raise subprocess.CalledProcessError(res.returncode, cmd)


def check_python() -> None:
    if sys.version_info[:2] == (3, 11) and sys.version_info < (3, 11, 5):
        fail(
            f"this course needs Python 3.11.5 or newer (a pinned package requires it); this is {sys.version.split()[0]}.",
            "install a newer Python 3.11 or 3.12 (python.org, pyenv, or your package manager) and run this file with it.",
        )
    if sys.version_info[:2] not in SUPPORTED:
        fail(
            f"this course needs Python 3.11 or 3.12; this is {sys.version.split()[0]} ({sys.executable}).",
            "install Python 3.11 (python.org, your package manager, or pyenv) and run this file with it, "
            "e.g. `python3.11 run.py`.",
        )


def wanted_stamp(with_tests: bool) -> str:
    h = hashlib.sha256()
    for name in ["lock.txt", "secml.txt"] + (["test.txt"] if with_tests else []):
        h.update((REQ / name).read_bytes())
    h.update((ROOT / "pyproject.toml").read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def ensure_env(with_tests: bool = False) -> None:
    """Create .venv and install the pinned set, unless it is already there and up to date."""
    check_python()
    stamp_file = VENV / ".course-stamp"
    want = wanted_stamp(with_tests)
    have = stamp_file.read_text().split() if stamp_file.exists() else []
    # a stamp written with the test tools also serves the plain course
    if want in have or (not with_tests and wanted_stamp(True) in have):
        return
    if not venv_bin("python").exists():
        say(f"creating the virtual environment in {VENV} ...")
        try:
            import venv  # noqa: F401
            run([sys.executable, "-m", "venv", VENV])
        except (ImportError, subprocess.CalledProcessError):
            shutil.rmtree(VENV, ignore_errors=True)
            fail(
                "Python's venv module is missing or broken (it could not create .venv).",
                "on Debian/Ubuntu: `sudo apt install python3.11-venv` (or python3-venv); "
                "on Fedora: `sudo dnf install python3.11`; then run this command again.",
            )
    py = venv_bin("python")
    pip = [py, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    say("installing the pinned packages (first time: about a minute) ...")
    try:
        run(pip + ["install", "--quiet", "-r", REQ / "lock.txt"])
        # secml's metadata wrongly caps Python below 3.11; its needs are pinned in lock.txt.
        run(pip + ["install", "--quiet", "--no-deps", "--ignore-requires-python", "-r", REQ / "secml.txt"])
        run(pip + ["install", "--quiet", "--no-deps", "--no-build-isolation", "--editable", ROOT])
        if with_tests:
            run(pip + ["install", "--quiet", "-r", REQ / "test.txt"])
    except subprocess.CalledProcessError as e:
        fail(
            f"installing packages failed (command exited with {e.returncode}); pip's message is above.",
            "if pip could not reach the package index, check your connection (or use the workshop's "
            f"offline bundle) and run the same command again; to start clean, delete {VENV}.",
        )
    stamp_file.write_text(want + "\n")


MANIFEST = ".course-copies.json"  # in the workspace: the hash of every file as it was copied
COPY_SKIP = (".ipynb_checkpoints", "__pycache__")


def content_hash(path: Path) -> str:
    """What a learner's edit changes: for a notebook, its cells' types, sources, tags and nbgrader
    metadata (not outputs, execution counts or JupyterLab's metadata, which running it changes);
    for any other file, its bytes."""
    data = Path(path).read_bytes()
    if Path(path).suffix == ".ipynb":
        try:
            cells = json.loads(data.decode("utf-8"))["cells"]
            data = json.dumps([
                [c.get("cell_type"), "".join(c.get("source", "")),
                 c.get("metadata", {}).get("tags", []), c.get("metadata", {}).get("nbgrader", {})]
                for c in cells
            ], sort_keys=True).encode()
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # not a notebook after all: its bytes
    return hashlib.sha256(data).hexdigest()


def beside_name(path: Path, new_hash: str) -> Path:
    """Where the new version of an edited copy goes: next to it, named after the version."""
    return path.with_name(f"{path.stem}.new-{new_hash[:8]}{path.suffix}")


def update_copies(sources: dict, dest: Path, prepare=None) -> list:
    """Bring the learner's copies in `dest` up to date with the course, never losing their work.

    `sources` maps a folder inside `dest` ("" for `dest` itself) to the course folder copied
    there, e.g. {"lessons": ROOT / "lessons", "": ROOT / "exercises"}. For every file:
    - not in `dest` yet: copied ("new");
    - in `dest` and unedited (its content hash is the one recorded when it was copied): replaced
      when the course's version changed ("updated");
    - edited: kept as it is; a changed course version is placed beside it, under
      `beside_name(...)` ("kept"), once per version.
    The hashes are recorded in `dest`/.course-copies.json. `prepare(path)`, when given, is called on
    every file just copied (see `kernel_metadata`). Returns [(what, path, beside or None)].
    Only the standard library: the JupyterHub setup uses it for learners' home folders too.
    """
    def copy(src: Path, dst: Path) -> None:
        shutil.copy2(src, dst)
        if prepare is not None:
            prepare(dst)

    dest = Path(dest)
    manifest_path = dest / MANIFEST
    try:
        recorded = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        recorded = {}
    changes = []
    for sub, src_root in sources.items():
        src_root = Path(src_root)
        for src in sorted(src_root.rglob("*")):
            if not src.is_file() or any(part in COPY_SKIP for part in src.relative_to(src_root).parts):
                continue
            rel = (Path(sub) / src.relative_to(src_root)).as_posix()
            dst = dest / rel
            new = content_hash(src)
            if not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                copy(src, dst)
                recorded[rel] = new
                changes.append(("new", dst, None))
                continue
            have = content_hash(dst)
            if have == new:
                recorded[rel] = new
            elif rel not in recorded:
                # copied before copies were recorded: assume it came from this version
                recorded[rel] = new
            elif have == recorded[rel]:
                copy(src, dst)
                recorded[rel] = new
                changes.append(("updated", dst, None))
            elif new != recorded[rel]:
                beside = beside_name(dst, new)
                if not beside.exists():
                    copy(src, beside)
                    changes.append(("kept", dst, beside))
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps({"files": recorded}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return changes


def kernel_metadata(path: Path) -> None:
    """Give a copied notebook the full `language_info` that the course's kernel reports.

    The repository stores notebooks with `language_info: {"name": "python"}` only (it cannot know the
    learner's Python). JupyterLab writes the kernel's full record into the notebook as soon as the
    kernel connects, and marks the notebook unsaved: every notebook would open with the unsaved dot.
    With the record already there, it opens clean. Only metadata changes: not what content_hash reads.
    """
    path = Path(path)
    if path.suffix != ".ipynb":
        return
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if nb["metadata"].get("kernelspec", {}).get("language", "python") != "python":
            return
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    nb["metadata"]["language_info"] = {
        "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
        "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3", "version": venv_python_version(),
    }
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def venv_python_version() -> str:
    """The Python version of .venv (the kernel's), from its pyvenv.cfg; this Python's otherwise."""
    import platform

    try:
        for line in (VENV / "pyvenv.cfg").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                return value.strip()
    except OSError:
        pass
    return platform.python_version()


def copy_workspace() -> list:
    """The lessons into my-work/lessons/, the exercises into my-work/<assignment>/ (see update_copies)."""
    return update_copies({"lessons": ROOT / "lessons", "": ROOT / "exercises"}, WORKSPACE, prepare=kernel_metadata)


def report_copies(changes: list) -> None:
    """Tell the learner what changed in their workspace."""
    new = [c for c in changes if c[0] == "new"]
    updated = [c for c in changes if c[0] == "updated"]
    if new:
        say(f"copied {len(new)} new file(s) of the course into my-work/ (your own copies: run, edit and save them freely)")
    if updated:
        say(f"updated {len(updated)} file(s) in my-work/ that you had not edited, to the course's new version")
    for _, path, beside in (c for c in changes if c[0] == "kept"):
        say(f"the course changed {path.relative_to(WORKSPACE).as_posix()}, which you edited: yours is kept as it is, "
            f"the new version is beside it as {beside.name}")


def course_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(venv_bin("python").parent) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("PYTHONHOME", None)
    return env


def free_port(start: int = 8888, tries: int = 50) -> int:
    """The first port from `start` on that nobody listens on (JupyterLab's own choice, made here so
    that the start URL can be printed)."""
    import socket

    for port in range(start, start + tries):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    fail(f"no free port between {start} and {start + tries - 1}", "pass one with --port N")


def start_url(port: int, token: str, page: str = "") -> str:
    """The URL that opens `page` (a path under JupyterLab's root) with the token."""
    return f"http://127.0.0.1:{port}/lab{'/tree/' + page if page else ''}?token={token}"


def lab_command(port: int, page: str, no_browser: bool, instructor: bool) -> tuple:
    """The `jupyter lab` command and its environment: the learner's view (my-work/ as the root,
    learner-view/ first on JUPYTER_CONFIG_PATH), or the instructor's (the repository, all tools)."""
    env = course_env()
    root = ROOT if instructor else WORKSPACE
    cmd = [venv_bin("jupyter"), "lab", f"--ServerApp.root_dir={root}", f"--port={port}", "--ServerApp.port_retries=0"]
    if page:
        cmd.append(f"--LabApp.default_url=/lab/tree/{page}")
    if not instructor:
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (str(LEARNER_VIEW), os.environ.get("JUPYTER_CONFIG_PATH", "")) if p)
    if no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root; Jupyter refuses that by default
    return cmd, env


def wait_for_server(proc, port: int, token: str, timeout: float = 120) -> bool:
    import time
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"})
            urllib.request.urlopen(req, timeout=5).close()
            return True
        except OSError:
            time.sleep(0.5)
    return False


def cmd_open(args: list) -> int:
    import secrets

    no_browser = "--no-browser" in args or os.environ.get("COURSE_NO_BROWSER") == "1"
    instructor = "--instructor" in args
    port = os.environ.get("COURSE_PORT")
    if "--port" in args:
        i = args.index("--port")
        if i + 1 >= len(args) or not args[i + 1].isdigit():
            fail("--port needs a number, e.g. --port 8899")
        port = args[i + 1]
    ensure_env()
    report_copies(copy_workspace())
    port = int(port) if port else free_port()
    start = next((p for p in START_PAGES if (ROOT / p).exists()), "")
    page = start if instructor else (f"lessons/{Path(start).name}" if start else "")
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    cmd, env = lab_command(port, page, no_browser, instructor)
    env["JUPYTER_TOKEN"] = token  # the environment, not the command line: other users can read that
    say("opening the course in JupyterLab (stop it with Ctrl-C) ...")
    proc = subprocess.Popen([str(c) for c in cmd], cwd=ROOT if instructor else WORKSPACE, env=env)
    import signal

    if hasattr(signal, "SIGTERM"):  # stopping the launcher stops JupyterLab (and with it, its kernels)
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        if wait_for_server(proc, port, token):
            say(f"{'the instructor view' if instructor else 'lesson 00'} is at {start_url(port, token, page)}")
        return proc.wait()
    except KeyboardInterrupt:
        try:
            return proc.wait(timeout=30)  # JupyterLab got the Ctrl-C too and shuts down
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            proc.terminate()
            return 0


def cmd_test(args: list) -> int:
    ensure_env(with_tests=True)
    tier = ["-m", "slow"] if "--slow" in args else ["-m", "not slow"]
    rest = [a for a in args if a != "--slow"]
    cmd = [venv_bin("python"), "-m", "pytest", *tier, *rest]
    say("running: " + " ".join(str(c) for c in cmd[2:]))
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=course_env())


def cmd_lock(args: list) -> int:
    """Resolve requirements/course.in in a scratch venv and write lock.txt and environment.yml."""
    import tempfile

    check_python()
    with tempfile.TemporaryDirectory() as tmp:
        run([sys.executable, "-m", "venv", tmp])
        py = Path(tmp) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        run([py, "-m", "pip", "install", "--quiet", "-r", REQ / "course.in"])
        frozen = subprocess.run([py, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True).stdout
    lines = sorted(
        (l for l in frozen.splitlines() if "==" in l and not l.lower().startswith(("pip==", "wheel=="))),
        key=str.lower,
    )
    header = (
        "# The full pinned set of the learner environment. Generated by `python3 run.py lock` from\n"
        "# requirements/course.in; do not edit by hand. secml comes from requirements/secml.txt.\n"
    )
    (REQ / "lock.txt").write_text(header + "\n".join(lines) + "\n")
    sys.path.insert(0, str(ROOT))
    from course.delivery.environment import write_environment_yml  # stdlib-only module

    write_environment_yml()
    say(f"wrote requirements/lock.txt ({len(lines)} packages) and environment.yml")
    return 0


def main(argv: list) -> int:
    if argv and argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if argv and argv[0] == "test":
        return cmd_test(argv[1:])
    if argv and argv[0] == "lock":
        return cmd_lock(argv[1:])
    if argv and not argv[0].startswith("-"):
        fail(f"unknown command {argv[0]!r}", "run `python3 run.py --help` to see the commands.")
    return cmd_open(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
