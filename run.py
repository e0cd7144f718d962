#!/usr/bin/env python3
"""Set up the course environment, then open the course or run its tests.

    python3 run.py                 # set up what is missing, copy exercises to my-work/, open JupyterLab
    python3 run.py test            # set up what is missing (with test tools), run the default test tier
    python3 run.py test --slow     # the slow tier (every round trip, hostile submissions, ...)
    python3 run.py lock            # maintainers: re-resolve requirements/lock.txt and environment.yml

Options for opening the course: --no-browser (or COURSE_NO_BROWSER=1), --port N (or COURSE_PORT).
Only the Python standard library is used here, so this works on a machine with nothing but
Python 3.11 (or 3.12) and git. Everything is installed into .venv/ beside this file.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
REQ = ROOT / "requirements"
WORKSPACE = ROOT / "my-work"
START_PAGES = ["lessons/00-welcome.ipynb", "lessons/01-ml-recap.ipynb"]
SUPPORTED = ((3, 11), (3, 12))


def say(msg: str) -> None:
    print(f"[course] {msg}", flush=True)


def fail(msg: str, hint: str = "") -> "NoReturn":  # noqa: F821
    print(f"\n[course] ERROR: {msg}", file=sys.stderr)
    if hint:
        print(f"[course] What to do: {hint}", file=sys.stderr)
    sys.exit(1)


def venv_bin(name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" and name in ("python", "pip", "jupyter", "pytest", "course") else ""
    return VENV / sub / f"{name}{suffix}"


def run(cmd: list, **kw) -> None:
    res = subprocess.run([str(c) for c in cmd], **kw)
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


def copy_workspace() -> list:
    """Copy exercises/ into my-work/; never overwrite a file that is already there."""
    copied = []
    src_root = ROOT / "exercises"
    for src in sorted(src_root.rglob("*")):
        if not src.is_file() or ".ipynb_checkpoints" in src.parts:
            continue
        dst = WORKSPACE / src.relative_to(src_root)
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        copied.append(dst)
    return copied


def course_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(venv_bin("python").parent) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(VENV)
    env.pop("PYTHONHOME", None)
    return env


def cmd_open(args: list) -> int:
    no_browser = "--no-browser" in args or os.environ.get("COURSE_NO_BROWSER") == "1"
    port = os.environ.get("COURSE_PORT")
    if "--port" in args:
        i = args.index("--port")
        if i + 1 >= len(args) or not args[i + 1].isdigit():
            fail("--port needs a number, e.g. --port 8899")
        port = args[i + 1]
    ensure_env()
    copied = copy_workspace()
    if copied:
        say(f"copied {len(copied)} exercise file(s) into my-work/ (your answers live there; nothing overwrites them)")
    start = next((p for p in START_PAGES if (ROOT / p).exists()), "")
    cmd = [venv_bin("jupyter"), "lab", f"--ServerApp.root_dir={ROOT}"]
    if no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root; Jupyter refuses that by default
    if port:
        cmd += [f"--port={port}", "--ServerApp.port_retries=0"]
    if start:
        cmd.append(start)
    say("opening the course in JupyterLab (stop it with Ctrl-C) ...")
    try:
        return subprocess.call([str(c) for c in cmd], cwd=ROOT, env=course_env())
    except KeyboardInterrupt:
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
