"""A real browser against the course's own JupyterLab (slow): Debian's Chromium driven by playwright.

Starts `python3 run.py --no-browser --port P`, opens lesson 01, runs all cells, moves the
"L2 budget" slider and checks that the figure and the readout change, opens the learner's copy
of exercise 01, and saves screenshots to test-artifacts/. With CI=true, a missing Chromium or
playwright is a failure.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import IN_CI, ROOT, require, stop_process_group

ARTIFACTS = ROOT / "test-artifacts"
LESSON = "lessons/01-ml-recap.ipynb"
EXERCISE = "my-work/01-ml-recap/01-ml-recap.ipynb"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def _playwright():
    """playwright's sync API; installed from requirements/browser.txt when missing (an extra)."""
    try:
        from playwright.sync_api import sync_playwright
        return sync_playwright
    except ImportError:
        pass
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                          "-r", str(ROOT / "requirements" / "browser.txt")], env=env, capture_output=True, text=True,
                         timeout=600)
    try:
        from playwright.sync_api import sync_playwright
        return sync_playwright
    except ImportError:
        message = "playwright is not installed and could not be installed: " + res.stderr[-1000:]
        pytest.fail(message) if IN_CI else pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_lesson_widget_and_exercise_in_headless_chromium(tmp_path):
    chromium = require("chromium")
    sync_playwright = _playwright()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "browser-failure.png").unlink(missing_ok=True)
    lesson_bytes = (ROOT / LESSON).read_bytes()
    checkpoints = [(ROOT / path).parent / ".ipynb_checkpoints" for path in (LESSON, EXERCISE)]
    had_checkpoints = {c: c.exists() for c in checkpoints}

    # A fresh JupyterLab: its own config, settings and workspaces, autosave off (the lesson in the
    # repository must stay without outputs).
    settings = tmp_path / "settings" / "@jupyterlab" / "docmanager-extension"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    port, token = _free_port(), "browser-test-token"
    env = dict(os.environ, JUPYTER_TOKEN=token, COURSE_NO_BROWSER="1", JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--no-browser", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=open(tmp_path / "lab.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    timings = {}
    try:
        deadline = time.time() + 120
        while time.time() < deadline and server.poll() is None:
            try:
                req = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(req, timeout=5).close()
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-3000:])

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(60_000)
                t0 = time.perf_counter()
                page.goto(f"{base}/lab/tree/{LESSON}?token={token}")
                page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
                page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']",
                                       timeout=120_000)
                timings["open_lesson_s"] = round(time.perf_counter() - t0, 1)

                t0 = time.perf_counter()
                accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")  # "Select Kernel": Select
                for attempt in range(4):  # a click before the kernel has connected runs nothing: retry
                    if accept.count():
                        accept.first.click()
                    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
                    page.wait_for_timeout(1000)
                    if accept.count():  # JupyterLab asks for a kernel when the session is not ready yet
                        accept.first.click()
                    try:
                        page.wait_for_function(
                            "() => [...document.querySelectorAll('.jp-InputPrompt')].some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))",
                            timeout=20_000, polling=250)
                        break
                    except Exception:  # noqa: BLE001 - playwright's TimeoutError
                        if attempt == 3:
                            raise
                slider = page.locator(".widget-hslider", has=page.locator(".widget-label", has_text="L2 budget"))
                slider.wait_for(state="attached", timeout=180_000)  # off-screen cells count as hidden
                cell = page.locator(".jp-CodeCell", has=slider)
                figure = cell.locator(".jp-OutputArea-output img").first
                figure.wait_for(state="attached", timeout=60_000)
                page.wait_for_function(
                    "() => ![...document.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('*'))",
                    timeout=240_000, polling=500)
                timings["run_all_s"] = round(time.perf_counter() - t0, 1)

                cell.scroll_into_view_if_needed()
                readout = slider.locator(".widget-readout")
                before_value, before_image = readout.inner_text().strip(), figure.get_attribute("src")
                handle = slider.locator(".noUi-handle").first
                t0 = time.perf_counter()
                handle.focus()
                for _ in range(5):
                    page.keyboard.press("ArrowRight")
                page.wait_for_function(
                    """([before, src]) => {
                        const cells = [...document.querySelectorAll('.jp-CodeCell')].filter(
                            c => c.querySelector('.widget-hslider'));
                        const cell = cells.find(c => c.textContent.includes('L2 budget'));
                        if (!cell) return false;
                        const r = cell.querySelector('.widget-readout');
                        const img = cell.querySelector('.jp-OutputArea-output img');
                        return r && img && r.textContent.trim() !== before && img.getAttribute('src') !== src;
                    }""",
                    arg=[before_value, before_image], timeout=30_000, polling=100)
                timings["slider_update_s"] = round(time.perf_counter() - t0, 2)
                # let the last of the five updates arrive: the figure's image stops changing
                last, stable_since = None, time.time()
                while time.time() - stable_since < 1.5 and time.time() - t0 < 30:
                    src = cell.locator(".jp-OutputArea-output img").first.get_attribute("src")
                    if src != last:
                        last, stable_since = src, time.time()
                    time.sleep(0.25)
                after_value = readout.inner_text().strip()
                assert after_value != before_value, (before_value, after_value)
                assert float(after_value) > float(before_value)
                figure = cell.locator(".jp-OutputArea-output img").first
                assert figure.get_attribute("src") != before_image, "the figure did not change with the budget"
                errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
                tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
                assert not tracebacks, tracebacks[:2]
                news = page.locator(".jp-toast-button", has_text="No")  # JupyterLab's news question
                if news.count():
                    news.first.click()
                cell.screenshot(path=str(ARTIFACTS / "browser-lesson-01-widget.png"))
                page.screenshot(path=str(ARTIFACTS / "browser-lesson-01.png"))

                t0 = time.perf_counter()
                page.goto(f"{base}/lab/tree/{EXERCISE}?token={token}")
                title = page.locator(".jp-NotebookPanel .jp-MarkdownCell h1", has_text="Exercise 01").first
                title.wait_for(state="attached", timeout=120_000)
                tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", has_text="01-ml-recap.ipynb")
                assert tab.count() >= 1
                title.scroll_into_view_if_needed()
                timings["open_exercise_s"] = round(time.perf_counter() - t0, 1)
                page.screenshot(path=str(ARTIFACTS / "browser-exercise-01.png"))
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "browser-failure.png"))
                raise
            finally:
                browser.close()
        (ARTIFACTS / "browser-timings.json").write_text(json.dumps(timings, indent=1) + "\n")
        print("browser timings:", timings)
    finally:
        stop_process_group(server, timeout=30)
        if (ROOT / LESSON).read_bytes() != lesson_bytes:  # never leave outputs in the repository's lesson
            (ROOT / LESSON).write_bytes(lesson_bytes)
        for folder, existed in had_checkpoints.items():  # JupyterLab makes a checkpoint when it opens a file
            if not existed:
                shutil.rmtree(folder, ignore_errors=True)
