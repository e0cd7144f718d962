"""The environment and the launcher: pins agree, Binder is strict, the README's commands, a headless start."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

from conftest import ROOT, stop_process_group

from course.delivery import environment

sys.path.insert(0, str(ROOT))
import run  # noqa: E402  - the launcher, stdlib only


def quick_start_commands() -> list:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"^#+\s*Quick start.*?$", text, re.I | re.M)
    assert m, "README needs a 'Quick start' section"
    block = re.search(r"```[^\n]*\n(.*?)```", text[m.end():], re.S)
    assert block, "the Quick start section opens with a fenced code block"
    return [l.strip() for l in block.group(1).splitlines() if l.strip() and not l.strip().startswith("#")]


def test_environment_yml_agrees_with_the_lock():
    assert environment.environment_yml_pins() == environment.lock_pins()
    assert (ROOT / "environment.yml").read_text() == environment.render_environment_yml(environment.lock_pins())
    assert f"python={environment.PYTHON}" in (ROOT / "environment.yml").read_text()


def test_lock_pins_everything_the_course_needs_and_no_torch():
    pins = {p.split("==")[0].lower(): p.split("==")[1] for p in environment.lock_pins()}
    assert all("==" in p for p in environment.lock_pins()), "every line of the lock is an exact pin"
    assert pins["nbgrader"] == "0.9.6"
    assert pins["jupyterlab"].startswith("4.6.") and pins["notebook"].startswith("7.6.")
    assert pins["ipywidgets"].startswith("8.1.") and pins["numpy"].startswith("1.26.")
    assert int(pins["setuptools"].split(".")[0]) < 82
    for name in ("scikit-learn", "scipy", "matplotlib", "tqdm", "joblib", "pillow", "requests", "python-dateutil"):
        assert name in pins, f"{name} missing from the lock"
    assert "torch" not in pins
    assert (ROOT / "requirements" / "secml.txt").read_text().count("secml==0.15.6") == 1


def test_postbuild_is_strict_and_installs_secml_and_the_course():
    lines = [l for l in (ROOT / "postBuild").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert lines[0].strip() == "set -e"
    text = "\n".join(lines)
    assert "--no-deps --ignore-requires-python -r requirements/secml.txt" in text
    assert os.access(ROOT / "postBuild", os.X_OK)


def test_readme_quick_start_has_two_commands_and_ci_runs_the_second():
    cmds = quick_start_commands()
    assert len(cmds) == 2, cmds
    assert cmds[0] == "python3 run.py" and cmds[1] == "python3 run.py test"
    assert cmds[1] in (ROOT / ".ci" / "run").read_text()


def test_workspace_copy_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "WORKSPACE", tmp_path / "my-work")
    first = run.copy_workspace()
    assert first, "the exercises are copied the first time"
    answered = next((tmp_path / "my-work").rglob("*.ipynb"))
    answered.write_text("my answers")
    assert run.copy_workspace() == []
    assert answered.read_text() == "my answers"


def test_workspace_is_ignored_by_git():
    res = subprocess.run(["git", "check-ignore", "-q", "my-work/01-ml-recap/01-ml-recap.ipynb"], cwd=ROOT)
    assert res.returncode == 0, "my-work/ must be git-ignored so that git pull never touches answers"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_main_command_starts_headless_and_serves_the_lessons(tmp_path):
    port = _free_port()
    token = "course-test-token"
    env = dict(os.environ, JUPYTER_TOKEN=token, COURSE_NO_BROWSER="1", JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--no-browser", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 120
        listing = None
        while time.time() < deadline and proc.poll() is None:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/contents/lessons", headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(req, timeout=5) as r:
                    listing = json.load(r)
                break
            except OSError:
                time.sleep(1)
        assert proc.poll() is None, "the server exited: " + (proc.stdout.read() if proc.stdout else "")
        assert listing is not None, "the server did not answer within 120 s"
        names = {item["name"] for item in listing["content"]}
        assert "01-ml-recap.ipynb" in names
        req = urllib.request.Request(f"http://127.0.0.1:{port}/lab", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
    finally:
        stop_process_group(proc, timeout=30)
