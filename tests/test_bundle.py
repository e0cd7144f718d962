"""The offline bundle (slow): built for this platform, installed with the network unavailable.

`course bundle` downloads the wheels of the pins (lock, secml, test tools) for the current
platform and archives the repository; its install.py then sets up the course through run.py
inside `unshare -n` (no network interface but a downed loopback), and `import course, secml,
nbgrader` must work from the new environment. Size and times go to test-artifacts/bundle.json.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile

import pytest
from conftest import IN_CI, ROOT, require

from course.delivery import environment
from course.delivery.workshop import bundle, hub

ARTIFACTS = ROOT / "test-artifacts"


def _no_network_prefix() -> list:
    """A command prefix that runs without network: `unshare -n` (root) or `unshare -rn`."""
    unshare = require("unshare")
    prefix = [unshare, "-n"] if os.geteuid() == 0 else [unshare, "-rn"]
    probe = subprocess.run(prefix + ["true"], capture_output=True)
    if probe.returncode != 0:
        message = f"{' '.join(prefix)} does not work here: {probe.stderr.decode()[-300:]}"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    return prefix


@pytest.mark.slow
def test_bundle_builds_and_installs_with_no_network(tmp_path):
    offline = _no_network_prefix()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    report = bundle.build_bundle(tmp_path / "bundle", platforms=["current"], log=print)
    out = report.out
    wheels = {p.name.split("-")[0].lower().replace("_", "-") for p in (out / "wheelhouse").glob("*.whl")}
    tests = environment.lock_pins(ROOT / "requirements" / "test.txt")
    for pin in environment.lock_pins() + environment.lock_pins(ROOT / "requirements" / "secml.txt") + tests:
        name = hub.pin_name(pin)
        assert name in wheels, f"{name} is missing from the wheelhouse"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["python"] == "3.11" and manifest["platforms"] == [bundle.current_platform()]
    assert manifest["incomplete"] == {}
    with zipfile.ZipFile(out / "aml-course.zip") as z:
        names = set(z.namelist())
    assert {"aml-course/run.py", "aml-course/course/__init__.py", "aml-course/requirements/lock.txt"} <= names
    assert not any("/.venv/" in n or "/my-work/" in n for n in names)
    for script in ("install.py", "install.sh", "install.bat", "README.txt"):
        assert (out / script).exists()

    # Install it, as a learner would from a USB stick, with no network at all.
    dest = tmp_path / "learner" / "aml-course"
    start = time.perf_counter()
    res = subprocess.run(offline + [sys.executable, str(out / "install.py"), "--dest", str(dest)], env=env,
                         capture_output=True, text=True, timeout=900)
    install_seconds = time.perf_counter() - start
    output = "\n".join(l for l in (res.stdout + res.stderr).splitlines() if not l.startswith("WARNING: Location"))
    assert res.returncode == 0, output[-4000:]
    assert "installed. Start the course with" in output
    python = dest / ".venv" / "bin" / "python"
    check = subprocess.run(offline + [str(python), "-c",
                           "import course, secml, nbgrader; print(course.__file__, secml.__version__, nbgrader.__version__)"],
                           env=dict(env, SECML_HOME_DIR=str(tmp_path / "secml")), capture_output=True, text=True,
                           timeout=300, cwd=tmp_path)  # not this checkout's folder: its course/ would shadow
    assert check.returncode == 0, check.stderr[-3000:]
    course_file, secml_version, nbgrader_version = check.stdout.split()
    assert course_file.startswith(str(dest)), course_file  # the course from the bundle, not this checkout
    assert secml_version == "0.15.6" and nbgrader_version == "0.9.6"
    assert (dest / "my-work" / "01-ml-recap" / "01-ml-recap.ipynb").exists()

    # Running the installer again keeps the installation (and the learner's work) as it is.
    (dest / "my-work" / "01-ml-recap" / "01-ml-recap.ipynb").write_text("my answers")
    again = subprocess.run(offline + [sys.executable, str(out / "install.py"), "--dest", str(dest)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "keeping it" in again.stdout
    assert (dest / "my-work" / "01-ml-recap" / "01-ml-recap.ipynb").read_text() == "my answers"

    ARTIFACTS.mkdir(exist_ok=True)
    record = {"platforms": report.platforms, "wheels": report.wheels, "size_mb": round(report.size_bytes / 1e6, 1),
              "build_seconds": round(report.seconds, 1), "offline_install_seconds": round(install_seconds, 1)}
    (ARTIFACTS / "bundle.json").write_text(json.dumps(record, indent=1) + "\n")
    print(report.summary(), f"; offline install {install_seconds:.0f} s")
    shutil.rmtree(tmp_path / "learner", ignore_errors=True)


@pytest.mark.slow
def test_supported_json_matches_what_pip_resolves_today(tmp_path):
    """workshop/bundle/supported.json is what `course bundle --check-platforms` finds with the pins of today."""
    fresh = bundle.check_platforms(out=tmp_path / "supported.json", log=lambda *_: None)
    recorded = json.loads(bundle.SUPPORTED.read_text())
    assert {p: r["installable"] for p, r in fresh["platforms"].items()} == \
        {p: r["installable"] for p, r in recorded["platforms"].items()}, "run course bundle --check-platforms"
