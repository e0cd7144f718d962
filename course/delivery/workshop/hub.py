"""The workshop hub's user environment: one venv every learner's server runs, readable by all users.

Only the standard library is imported: `.ci/install-system` runs
`python3 course/delivery/workshop/hub.py hub-env` before any course environment exists.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # the repository (this file must run before `course` is importable)
REQ = ROOT / "requirements"



HUB_ENV = Path(os.environ.get("COURSE_HUB_ENV", "/opt/aml-course/hub-env"))


HUB_PYTHON = os.environ.get("COURSE_HUB_PYTHON", "/usr/bin/python3.11")


def pin_name(line: str) -> str:
    """The package name of a requirement line ("Foo_Bar==1.0 ; marker" -> "foo-bar")."""
    return re.split(r"[=<>!~ ;\[]", line, 1)[0].strip().lower().replace("_", "-")


def read_pins(path: Path) -> list:
    """The requirement lines of a pins file, comments and blank lines left out."""
    return [l.split("#", 1)[0].strip() for l in Path(path).read_text().splitlines() if l.split("#", 1)[0].strip()]


def hub_requirements() -> list:
    """The hub's pins: requirements/hub.txt, plus the lock's pins that hub.txt does not replace."""
    hub = read_pins(REQ / "hub.txt")
    replaced = {pin_name(p) for p in hub}
    return [p for p in read_pins(REQ / "lock.txt") if pin_name(p) not in replaced] + hub


def ensure_hub_env(env_dir: Path = HUB_ENV, python: str = HUB_PYTHON, log=print) -> Path:
    """Create (or update) the hub's environment; a no-op when its pins have not changed."""
    env_dir = Path(env_dir)
    reqs = hub_requirements()
    secml = (REQ / "secml.txt").read_text()
    stamp = hashlib.sha256(("\n".join(reqs) + secml + python).encode()).hexdigest()
    stamp_file = env_dir / ".hub-stamp"
    if stamp_file.exists() and stamp_file.read_text().strip() == stamp and (env_dir / "bin" / "jupyterhub").exists():
        return env_dir
    log(f"building the hub's user environment in {env_dir} with {python} ...")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if not (env_dir / "bin" / "python").exists():
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, "-m", "venv", str(env_dir)], check=True, env=env)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--no-input", "install", "--quiet"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(reqs) + "\n")
    try:
        for cmd in (pip + ["-r", f.name], pip + ["--no-deps", "--ignore-requires-python", "-r", str(REQ / "secml.txt")]):
            res = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if res.returncode != 0:
                noise = "WARNING: Location"
                raise RuntimeError("building the hub environment failed:\n" + "\n".join(
                    l for l in (res.stdout + res.stderr).splitlines() if not l.startswith(noise))[-3000:])
    finally:
        os.unlink(f.name)
    _readable(env_dir)
    stamp_file.write_text(stamp + "\n")
    return env_dir


def install_course(env_dir: Path = HUB_ENV) -> None:
    """Install this repository's `course` package (a copy, not a link) into the hub's environment."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT / "course", src / "course", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(ROOT / "pyproject.toml", src / "pyproject.toml")
        shutil.copy2(ROOT / "README.md", src / "README.md")
        res = subprocess.run([str(Path(env_dir) / "bin" / "python"), "-m", "pip", "--disable-pip-version-check",
                              "install", "--quiet", "--no-deps", "--no-build-isolation", "--force-reinstall", str(src)],
                             env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("installing the course package into the hub environment failed:\n" + res.stderr[-2000:])
    _readable(env_dir)


def _readable(path: Path) -> None:
    """Every user must be able to read and run the environment (chmod -R a+rX)."""
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=False)


if __name__ == "__main__":  # `python3 course/delivery/workshop/hub.py hub-env [DIR]`, before the course environment exists
    if sys.argv[1:2] != ["hub-env"]:
        sys.exit("usage: python3 course/delivery/workshop/hub.py hub-env [ENV_DIR]")
    print(f"hub environment ready: {ensure_hub_env(Path(sys.argv[2]) if len(sys.argv) > 2 else HUB_ENV)}")
