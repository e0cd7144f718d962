#!/usr/bin/env python3
"""Install the adversarial ML course from this offline bundle, with no network at all.

    python3 install.py                  # install into ~/aml-course, then say how to start
    python3 install.py --dest DIR       # install somewhere else
    python3 install.py --open           # and open the course in JupyterLab when done
    python3 install.py --tests          # also the test tools (when the bundle has them)

It unpacks the repository (aml-course.zip) and runs the course's own launcher (run.py) with
pip told to use only this bundle's wheelhouse: PIP_NO_INDEX=1, PIP_FIND_LINKS=<bundle>/wheelhouse.
An existing installation is kept as it is (your answers in my-work/ are never touched).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def this_platform() -> str:
    """The platform's name as `course bundle` writes it in manifest.json (e.g. linux-x86_64, macos-arm64)."""
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(machine, machine)
    if sys.platform.startswith("linux"):
        return f"linux-{arch}"
    if sys.platform == "darwin":
        return f"macos-{'arm64' if arch in ('arm64', 'aarch64') else arch}"
    if sys.platform == "win32":
        return f"windows-{arch}"
    return f"{sys.platform}-{arch}"


def main() -> int:
    p = argparse.ArgumentParser(description="Install the course from this offline bundle.")
    p.add_argument("--dest", default=str(Path.home() / "aml-course"), help="where to install (default: ~/aml-course)")
    p.add_argument("--open", action="store_true", help="open the course in JupyterLab when done")
    p.add_argument("--tests", action="store_true", help="also install the test tools")
    args = p.parse_args()

    manifest = json.loads((HERE / "manifest.json").read_text())
    want = tuple(int(x) for x in manifest["python"].split("."))
    if sys.version_info[:2] != want:
        print(f"This bundle holds packages for Python {manifest['python']}; this is Python "
              f"{sys.version.split()[0]}.\nRun it with Python {manifest['python']}: "
              f"`python{manifest['python']} install.py` (Windows: `py -{manifest['python']} install.py`).", file=sys.stderr)
        return 1

    here = this_platform()
    if here in manifest.get("incomplete", {}):
        print(f"This bundle has no wheel of {', '.join(manifest['incomplete'][here])} for {here}: it cannot install "
              "the course on this computer. Ask the facilitator for the room's JupyterHub or Binder link.",
              file=sys.stderr)
        return 1
    if here not in manifest["platforms"]:
        print(f"[bundle] note: this bundle was built for {', '.join(manifest['platforms'])}, this is {here}; trying anyway")

    dest = Path(args.dest).expanduser().resolve()
    if (dest / "run.py").exists():
        print(f"[bundle] {dest} already holds the course: keeping it as it is")
    else:
        print(f"[bundle] unpacking the course into {dest} ...")
        with tempfile.TemporaryDirectory(dir=dest.parent if dest.parent.exists() else None) as tmp:
            with zipfile.ZipFile(HERE / "aml-course.zip") as z:
                z.extractall(tmp)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(Path(tmp) / "aml-course"), str(dest))

    env = dict(os.environ)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        env.pop(name, None)
    env["PIP_NO_INDEX"] = "1"
    env["PIP_FIND_LINKS"] = str(HERE / "wheelhouse")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    print("[bundle] installing from the bundle's wheelhouse (no network) ...")
    code = f"import run; run.ensure_env(with_tests={bool(args.tests)}); run.copy_workspace()"
    res = subprocess.run([sys.executable, "-c", code], cwd=dest, env=env)
    if res.returncode != 0:
        print("[bundle] the installation failed; the message is above. Ask the facilitator for the room's "
              "JupyterHub or Binder link, or pair with a neighbour.", file=sys.stderr)
        return res.returncode
    start = f"cd {dest} && {Path(sys.executable).name} run.py"
    print(f"[bundle] installed. Start the course with:\n    {start}")
    if args.open:
        return subprocess.call([sys.executable, "run.py"], cwd=dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
