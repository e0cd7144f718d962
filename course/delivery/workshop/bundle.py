"""`course bundle`: an offline install bundle - a wheelhouse of the pinned packages per platform, the
repository as a git archive, and install scripts that install with `pip --no-index` through run.py."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from course import ROOT
from course.delivery.workshop.catalogue import BUILD, REQ, WORKSHOP
from course.delivery.workshop.hub import pin_name, read_pins


def _manylinux(arch: str, newest: int = 28) -> list:
    """manylinux tags from glibc 2.<newest> down to 2.17 (pip expands only the legacy aliases itself)."""
    tags = [f"manylinux_2_{m}_{arch}" for m in range(newest, 16, -1)] + [f"manylinux2014_{arch}"]
    if arch == "x86_64":
        tags += [f"manylinux_2_12_{arch}", f"manylinux2010_{arch}", f"manylinux_2_5_{arch}", f"manylinux1_{arch}"]
    return tags


# pip --platform tags per platform: glibc 2.28+ (Debian 10, Ubuntu 18.10, RHEL 8 and later); pip
# itself expands a macOS tag to the older macOS versions and universal2.
PLATFORMS = {
    "linux-x86_64": _manylinux("x86_64"),
    "linux-aarch64": _manylinux("aarch64"),
    "macos-x86_64": ["macosx_13_0_x86_64"],
    "macos-arm64": ["macosx_14_0_arm64"],
    "windows-x86_64": ["win_amd64"],
    "windows-arm64": ["win_arm64"],
}


# The marker environment of each platform, to pick the conditional dependencies of the lock
# (pip evaluates markers for the machine it runs on, not for --platform).
MARKERS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "aarch64"},
    "macos-x86_64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "x86_64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"},
    "windows-x86_64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
    "windows-arm64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "ARM64"},
}
# How the README names each platform (its list of supported systems is checked against supported.json).
PLATFORM_NAMES = {
    "linux-x86_64": "Linux x86-64", "linux-aarch64": "Linux arm64", "macos-x86_64": "macOS on Intel",
    "macos-arm64": "macOS on Apple silicon", "windows-x86_64": "Windows x86-64", "windows-arm64": "Windows on arm64",
}
SUPPORTED = WORKSHOP / "bundle" / "supported.json"  # written by `course bundle --check-platforms`


PLATFORM_PINS = WORKSHOP / "bundle" / "platform-pins.txt"


def current_platform() -> str:
    import platform

    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(machine, machine)
    if sys.platform.startswith("linux"):
        return f"linux-{arch}"
    if sys.platform == "darwin":
        return f"macos-{'arm64' if arch in ('arm64', 'aarch64') else arch}"
    if sys.platform == "win32":
        return f"windows-{arch}"
    return f"{sys.platform}-{arch}"


def platform_pins(platform_name: str) -> list:
    """The pins of workshop/bundle/platform-pins.txt whose marker holds on that platform."""
    env = dict(MARKERS.get(platform_name, {}))
    pins = []
    for line in PLATFORM_PINS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req, _, marker = line.partition(";")
        if not marker.strip() or _marker_holds(marker.strip(), env):
            pins.append(req.strip())
    return pins


def _marker_holds(marker: str, env: dict) -> bool:
    """Evaluate a simple marker (`name == "value"` joined by and/or) against env, stdlib only."""
    def atom(m):
        name, op, value = m.group(1), m.group(2), m.group(3)
        have = env.get(name, "")
        return str(have == value if op == "==" else have != value)
    expr = re.sub(r'(\w+)\s*(==|!=)\s*["\']([^"\']*)["\']', atom, marker)
    if not re.fullmatch(r"[\s()]*((True|False)[\s()]*((and|or)[\s()]*)?)*", expr):
        raise ValueError(f"unsupported marker: {marker!r}")
    return bool(eval(expr, {"__builtins__": {}}))  # noqa: S307 - only True/False/and/or/() remain


@dataclass
class BundleReport:
    out: Path
    platforms: list
    wheels: int
    size_bytes: int
    seconds: float
    incomplete: dict = field(default_factory=dict)

    def summary(self) -> str:
        text = (f"bundle: {self.out} — {self.wheels} wheels for {', '.join(self.platforms) or 'no platform'}, "
                f"{self.size_bytes / 1e6:.0f} MB, built in {self.seconds:.0f} s")
        for plat, pins in self.incomplete.items():
            text += f"\n  NOT for {plat}: no wheel of {', '.join(pins)} (those learners need the hub or Binder)"
        return text


def _pip_download(args: list, pins: list, env: dict, check_only: bool = False) -> list:
    """Download exact pins (no dependency resolution: the pins are the complete set); return the
    pins that have no wheel for the target, after fetching all the others.

    check_only: resolve the wheels without downloading them (`pip install --dry-run` into a
    throw-away target), to learn which platforms are installable."""
    noise = "WARNING: Location"
    pins, missing = list(pins), []
    with tempfile.TemporaryDirectory() as tmp:
        while pins:
            req = Path(tmp) / "pins.txt"
            req.write_text("\n".join(pins) + "\n")
            verb = ["install", "--dry-run", "--ignore-installed", "--target", str(Path(tmp) / "t")] if check_only else ["download"]
            cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *verb, "--quiet",
                   "--no-deps", *args, "-r", str(req)]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if res.returncode == 0:
                break
            msg = "\n".join(l for l in (res.stdout + res.stderr).splitlines() if not l.startswith(noise))
            m = re.search(r"No matching distribution found for (\S+)", msg)
            found = [p for p in pins if m and pin_name(p) == pin_name(m.group(1))]
            if not found:
                raise RuntimeError(f"pip download failed:\n{msg[-3000:]}")
            missing.append(found[0])
            pins.remove(found[0])
    return missing


def _python_version(python: str) -> tuple:
    """(major.minor, the full version pip checks Requires-Python against, cpXY, same as this interpreter)."""
    major_minor = ".".join(python.split(".")[:2])
    pyver = major_minor.replace(".", "")
    same_python = f"{sys.version_info[0]}{sys.version_info[1]}" == pyver
    # pip checks Requires-Python against a full version: "3.11" would mean 3.11.0, and some pins
    # need a later 3.11 (soupsieve 4 needs 3.11.5). Use this interpreter's release of that minor.
    if python.count(".") < 2:
        python = f"{major_minor}.{sys.version_info[2]}" if same_python else f"{major_minor}.0"
    return major_minor, python, pyver, same_python


def _target_args(plat: str, python: str, pyver: str) -> list:
    args = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp",
            "--abi", f"cp{pyver}", "--abi", "abi3", "--abi", "none"]
    for tag in PLATFORMS[plat]:
        args += ["--platform", tag]
    return args


def check_platforms(python: str = "3.11", out: Path | None = SUPPORTED, env: dict | None = None, log=print) -> dict:
    """Which platforms the course installs on: every pin must have a wheel there (none is built from source).

    Resolves the wheels of the lock, the platform's own pins, secml and the test tools for every
    platform of PLATFORMS without downloading them, and writes the answer to `out`
    (workshop/bundle/supported.json), which the README's list of systems must match.
    """
    env = dict(env or os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PIP_NO_INDEX", None)
    major_minor, full, pyver, _ = _python_version(python)
    result = {"python": major_minor, "checked": datetime.now().isoformat(timespec="seconds"), "platforms": {}}
    for plat in PLATFORMS:
        log(f"resolving wheels for {plat}, Python {full} ...")
        args = _target_args(plat, full, pyver)
        pins = read_pins(REQ / "lock.txt") + platform_pins(plat) + read_pins(REQ / "test.txt")
        missing = _pip_download(args, pins, env, check_only=True)
        missing += _pip_download(args + ["--ignore-requires-python"], read_pins(REQ / "secml.txt"), env, check_only=True)
        result["platforms"][plat] = {"installable": not missing, "missing": missing}
        log(f"  {plat}: {'installable' if not missing else 'NOT installable, no wheel of ' + ', '.join(missing)}")
    if out is not None:
        Path(out).write_text(json.dumps(result, indent=1) + "\n")
    return result


def supported_platforms(path: Path = SUPPORTED) -> list:
    """The platforms that supported.json says the course installs on."""
    data = json.loads(Path(path).read_text())
    return [p for p, r in data["platforms"].items() if r["installable"]]


def build_bundle(out: Path | None = None, platforms=None, python: str = "3.11", with_tests: bool = True,
                 ref: str = "HEAD", log=print) -> BundleReport:
    """Build the offline bundle into `out` (default build/bundle/aml-course-bundle)."""
    start = time.perf_counter()
    requested = list(platforms or ["current"])
    if "all" in requested:
        requested = list(PLATFORMS)
    unknown = [p for p in requested if p not in PLATFORMS and p != "current"]
    if unknown:
        raise ValueError(f"unknown platform(s) {unknown}; choose from current, all, {', '.join(PLATFORMS)}")
    here = current_platform()
    out = Path(out or BUILD / "bundle" / "aml-course-bundle")
    if out.exists():
        shutil.rmtree(out)
    wheelhouse = out / "wheelhouse"
    wheelhouse.mkdir(parents=True)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the tests' no-network sitecustomize must not reach pip
    env.pop("PIP_NO_INDEX", None)
    major_minor, python, pyver, same_python = _python_version(python)
    platforms, missing = [], {}
    for plat in dict.fromkeys(requested):
        name = here if plat == "current" else plat
        platforms.append(name)
        log(f"downloading wheels for {name}, Python {python} ...")
        target = ["--only-binary=:all:", "-d", str(wheelhouse)]
        if plat != "current" or not same_python:
            target += ["--python-version", python, "--implementation", "cp",
                       "--abi", f"cp{pyver}", "--abi", "abi3", "--abi", "none"]
        if plat != "current":  # the named platforms: wheels for the oldest systems they cover
            for tag in PLATFORMS[plat]:
                target += ["--platform", tag]
        pins = read_pins(REQ / "lock.txt") + platform_pins(name) + (read_pins(REQ / "test.txt") if with_tests else [])
        missing[name] = _pip_download(target, pins, env)
        # secml's metadata caps Python below 3.11 (wrongly): fetched as run.py installs it.
        missing[name] += _pip_download(target + ["--ignore-requires-python"], read_pins(REQ / "secml.txt"), env)
        if missing[name]:
            log(f"  no wheel for {name}: {', '.join(missing[name])} — learners on {name} cannot install offline")
    if missing.get(here) and "current" in requested:
        raise RuntimeError(f"no wheel for this platform ({here}): {', '.join(missing[here])}")
    log("archiving the repository ...")
    archive = out / "aml-course.zip"
    res = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=zip", "--prefix=aml-course/",
                          "-o", str(archive), ref], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"git archive failed: {res.stderr.strip()}")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", ref], capture_output=True, text=True).stdout.strip()
    for name in ("install.py", "install.sh", "install.bat", "README.txt"):
        shutil.copy2(WORKSHOP / "bundle" / name, out / name)
    (out / "install.sh").chmod(0o755)
    wheels = sorted(p.name for p in wheelhouse.glob("*.whl"))
    complete = [p for p in platforms if not missing.get(p)]
    manifest = {"commit": commit, "ref": ref, "python": major_minor, "pip_python_version": python,
                "platforms": complete, "incomplete": {p: m for p, m in missing.items() if m},
                "built": datetime.now().isoformat(timespec="seconds"), "wheels": wheels}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return BundleReport(out, complete, len(wheels), size, time.perf_counter() - start,
                        {p: m for p, m in missing.items() if m})
