"""Shared test helpers: paths, the CI rule for missing tools, and offline notebook execution."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OFFLINE = Path(__file__).resolve().parent / "offline"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Every kernel a test starts sees no network (tests/offline/sitecustomize.py), and exercises'
# self-check cells do not grade themselves again.
os.environ["PYTHONPATH"] = str(OFFLINE) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
os.environ["COURSE_NO_SELF_CHECK"] = "1"
# nbgrader runs a bare `alembic`: the environment's bin/ must be on PATH.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def require(tool: str) -> str:
    """The path of a command-line tool; skip without it, but fail in CI (CI=true)."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing tool is a failure, not a skip)")
        pytest.skip(message)
    return path


def ensure_extra(requirements: str, module: str):
    """Import `module`, installing requirements/<requirements> into this environment first when it is missing
    (the extras: site, browser). Skips when it cannot be installed; fails instead in CI (CI=true)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                          "-r", str(ROOT / "requirements" / requirements)], env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{module} (requirements/{requirements}) is not installed and could not be installed: {res.stderr[-800:]}"
        pytest.fail(message) if IN_CI else pytest.skip(message)


def lesson_paths() -> list:
    return sorted((ROOT / "lessons").glob("*.ipynb"))


def solution_paths() -> list:
    return sorted(p for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def assignment_ids() -> list:
    return [p.parent.name for p in solution_paths()]


def stop_process_group(proc, timeout: float = 30) -> None:
    """Stop a server started with start_new_session=True: SIGTERM to its group, SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
