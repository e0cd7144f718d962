"""The environment and the launcher: pins agree, Binder is strict, the README's commands, a headless start."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, stop_process_group

from course.delivery import environment

sys.path.insert(0, str(ROOT))
import run


def quick_start_commands() -> list:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"^#+\s*Quick start.*?$", text, re.IGNORECASE | re.MULTILINE)
    assert m, "README needs a 'Quick start' section"
    block = re.search(r"```[^\n]*\n(.*?)```", text[m.end():], re.DOTALL)
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
    res = subprocess.run(["git", "check-ignore", "-q", "my-work/01-ml-recap/01-ml-recap.ipynb"], cwd=ROOT, check=False)
    assert res.returncode == 0, "my-work/ must be git-ignored so that git pull never touches answers"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


def _terminal_output(port: int, token: str, line: str) -> str:
    """Run one line in a JupyterLab terminal, as a learner's terminal tab would, and return its output."""
    import websocket  # websocket-client: a dependency of Jupyter Server

    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/terminals", data=b"{}", method="POST",
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        name = json.load(r)["name"]
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/terminals/websocket/{name}?token={token}", timeout=20)
    try:
        ws.send(json.dumps(["stdin", line + "; echo END-$((40+2))\r"]))
        out, t0 = "", time.time()
        while "END-42" not in out and time.time() - t0 < 20:
            msg = json.loads(ws.recv())
            if msg[0] == "stdout":
                out += msg[1]
        return out
    finally:
        ws.close()


def test_the_main_command_opens_the_learners_view_on_lesson_00(tmp_path):
    port = _free_port()
    token = "course-test-token"
    env = dict(os.environ, JUPYTER_TOKEN=token, COURSE_NO_BROWSER="1", JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--no-browser", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        start = f"http://127.0.0.1:{port}/lab/tree/lessons/lesson-00-welcome.ipynb?token={token}"
        while time.time() < deadline and proc.poll() is None and start not in log.read_text():
            time.sleep(0.5)
        assert proc.poll() is None, "the server exited: " + log.read_text()[-3000:]
        assert start in log.read_text(), "run.py prints lesson 00's URL: " + log.read_text()[-3000:]
        # the file browser's root is the learner's workspace: their copies, no instructor material
        root = {item["name"] for item in json.loads(_get(f"http://127.0.0.1:{port}/api/contents", token))["content"]}
        assert {"lessons", "01-ml-recap"} <= root
        assert not root & {"solutions", "tests", "course", "workshop", "exercises", "nbgrader_config.py"}, root
        lessons = json.loads(_get(f"http://127.0.0.1:{port}/api/contents/lessons", token))["content"]
        assert "lesson-00-welcome.ipynb" in {item["name"] for item in lessons}
        # lesson 00 itself is served, and JupyterLab's page leaves out the instructor tools and the news
        assert json.loads(_get(f"http://127.0.0.1:{port}/api/contents/lessons/lesson-00-welcome.ipynb", token))["type"] == "notebook"
        page = _get(f"http://127.0.0.1:{port}/lab", token).decode()
        for plugin in ("@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
                       "@jupyterlab/apputils-extension:announcements"):
            assert plugin in page, f"{plugin} should be in the page's disabledExtensions"
        with pytest.raises(urllib.error.HTTPError) as err:
            _get(f"http://127.0.0.1:{port}/formgrader", token)
        assert err.value.code == 404, "formgrader is not served in the learner's view"
        # the `course` command works in JupyterLab's own terminal (a login shell would reset PATH)
        out = _terminal_output(port, token, "command -v course || echo NO-$((1+1))-COURSE")
        assert "NO-2-COURSE" not in out and str(Path(run.venv_bin("course"))) in out, out[-500:]
    finally:
        stop_process_group(proc, timeout=30)


def test_the_instructor_keeps_nbgrader_tools_and_the_learner_gets_the_learner_view(monkeypatch):
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    cmd, env = run.lab_command(8899, "lessons/lesson-00-welcome.ipynb", no_browser=True, instructor=False)
    assert f"--ServerApp.root_dir={run.WORKSPACE}" in cmd
    assert "--LabApp.default_url=/lab/tree/lessons/lesson-00-welcome.ipynb" in cmd
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(run.LEARNER_VIEW)
    cmd, env = run.lab_command(8899, "lessons/lesson-00-welcome.ipynb", no_browser=True, instructor=True)
    assert f"--ServerApp.root_dir={ROOT}" in cmd and "JUPYTER_CONFIG_PATH" not in env
    page_config = json.loads((run.LEARNER_VIEW / "labconfig" / "page_config.json").read_text())
    assert all(page_config["disabledExtensions"].values())
    assert run.START_PAGES and all((ROOT / p).exists() for p in run.START_PAGES)
