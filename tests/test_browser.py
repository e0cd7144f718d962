"""The learner's path in a real browser (slow): Debian's Chromium, driven by playwright, against
`python3 run.py --no-browser --port P`.

It opens lesson 00 from the URL run.py prints, runs lesson 01 and moves its "L2 budget" slider,
answers task 1 of exercise 01 wrongly and then rightly, saves and runs the self-check. It checks
that every notebook opens without the unsaved mark, that no check's output shows a traceback,
that the self-check lists the hand-graded part as pending, and that `git status --porcelain` is
the same afterwards: the learner works in their own copies. The learner's workspace is a scratch
folder (COURSE_WORKSPACE), so a developer's own my-work/ is never touched. Screenshots and timings
go to test-artifacts/ (git-ignored). With CI=true, a missing Chromium or playwright is a failure.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, ensure_extra, require, stop_process_group

ARTIFACTS = ROOT / "test-artifacts"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the current tab
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

WRONG_REPORT = '''def fraud_threshold(y_val, scores_val, cost_missed, cost_false_alarm):
    candidates = np.r_[np.unique(scores_val), np.inf]
    costs = [cost_missed * np.sum((y_val == 1) & (scores_val < t)) + cost_false_alarm * np.sum((y_val == 0) & (scores_val >= t))
             for t in candidates]
    return candidates[int(np.argmin(costs))], min(costs)'''
RIGHT_REPORT = WRONG_REPORT.replace(", min(costs)", "")  # the slip: the threshold and its cost, not one number


def _playwright():
    """playwright's sync API; installed from requirements/browser.txt when missing (an extra)."""
    return ensure_extra("browser.txt", "playwright.sync_api").sync_playwright


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


@contextlib.contextmanager
def learner_server(tmp_path):
    """`python3 run.py --no-browser` with a fresh JupyterLab (its own config, settings, workspaces) and a
    scratch learner's workspace; yields (base URL, token, the start URL run.py printed)."""
    port, token = _free_port(), "browser-test-token"
    env = dict(os.environ, JUPYTER_TOKEN=token, COURSE_NO_BROWSER="1", JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"), COURSE_WORKSPACE=str(tmp_path / "my-work"))
    env.pop("COURSE_NO_SELF_CHECK", None)  # the learner's self-check runs for real here
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--no-browser", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        m = None
        while time.time() < deadline and server.poll() is None and m is None:
            m = re.search(r"\[course\] lesson 00 is at (\S+)", log.read_text())
            time.sleep(0.5)
        if m is None:
            pytest.fail("run.py printed no start URL: " + log.read_text()[-3000:])
        yield f"http://127.0.0.1:{port}", token, m.group(1)
    finally:
        stop_process_group(server, timeout=30)


def _browser(p, chromium):
    browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    return browser, page


class Learner:
    """The few things a learner does in JupyterLab, as playwright steps."""

    def __init__(self, page, base: str, token: str):
        self.page, self.base, self.token = page, base, token

    def open(self, path: str, url: str = "") -> None:
        self.page.goto(url or f"{self.base}/lab/tree/{path}?token={self.token}")
        self.page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=120_000)
        self.page.wait_for_selector(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        self.page.wait_for_timeout(1500)  # the kernel's info arrives: a notebook that changes would turn dirty

    def current_tab(self) -> str:
        return self.page.locator(".lm-DockPanel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel").inner_text()

    def dirty(self) -> bool:
        """The current notebook's tab shows the unsaved mark."""
        return self.page.locator(".lm-DockPanel .lm-TabBar-tab.lm-mod-current.jp-mod-dirty").count() > 0

    def cells(self):
        return self.page.locator(f"{PANEL} .jp-Notebook .jp-Cell")

    def busy(self) -> bool:
        return self.page.evaluate(
            f"() => [...document.querySelectorAll('{PANEL} .jp-InputPrompt')].some(e => e.textContent.includes('*'))")

    def wait_idle(self, timeout_s: float = 240) -> None:
        self.page.wait_for_timeout(300)
        deadline = time.time() + timeout_s
        while self.busy():
            if time.time() > deadline:
                raise TimeoutError("cells still running")
            self.page.wait_for_timeout(250)

    def run_cell(self, index: int, source: str | None = None) -> None:
        cell = self.cells().nth(index)
        cell.scroll_into_view_if_needed()
        if source is not None:
            cell.locator(".cm-content").click()
            self.page.keyboard.press("Control+a")
            self.page.keyboard.insert_text(source)  # as a paste: no auto-indent
        else:
            cell.locator(".jp-InputArea-prompt").click()
        for _ in range(3):  # a run before the kernel is connected does nothing: retry
            cell.locator(".jp-InputArea-prompt").click()
            self.page.keyboard.press("Control+Enter")
            try:
                self.page.wait_for_function(
                    "(el) => /\\[(\\*|\\d+)\\]/.test(el.textContent)",
                    arg=cell.locator(".jp-InputPrompt").element_handle(), timeout=15_000, polling=200)
                break
            except Exception:  # noqa: BLE001 - playwright's TimeoutError
                continue
        self.wait_idle()

    def run_all(self) -> None:
        """Run → Run All Cells, retried while the kernel is still connecting; returns once something runs."""
        page = self.page
        accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")  # "Select Kernel": Select
        for attempt in range(4):  # a click before the kernel has connected runs nothing: retry
            if accept.count():
                accept.first.click()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            page.wait_for_timeout(1000)
            if accept.count():
                accept.first.click()
            try:
                page.wait_for_function(
                    f"() => [...document.querySelectorAll('{PANEL} .jp-InputPrompt')].some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))",
                    timeout=20_000, polling=250)
                return
            except Exception:  # noqa: BLE001 - playwright's TimeoutError
                if attempt == 3:
                    raise

    def save(self) -> None:
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function(
            "() => !document.querySelector('.lm-DockPanel .lm-TabBar-tab.lm-mod-current.jp-mod-dirty')", timeout=30_000)

    def tracebacks(self) -> list:
        errors = self.page.locator(f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        return [t for t in errors.all_text_contents() if "Traceback" in t or "Error" in t]

    def output_text(self, index: int) -> str:
        return "\n".join(self.cells().nth(index).locator(".jp-OutputArea-output").all_text_contents())

    def index_of(self, text: str) -> int:
        for i, t in enumerate(self.cells().all_text_contents()):
            if text in t:
                return i
        raise AssertionError(f"no cell contains {text!r}")


@pytest.mark.slow
def test_the_learners_path_in_headless_chromium(tmp_path):
    chromium = require("chromium")
    sync_playwright = _playwright()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "browser-failure.png").unlink(missing_ok=True)
    status_before = _git_status()
    started = time.perf_counter()

    timings = {}
    with learner_server(tmp_path) as (base, token, start_url):
        assert start_url == f"{base}/lab/tree/lessons/lesson-00-welcome.ipynb?token={token}"

        with sync_playwright() as p:
            browser, page = _browser(p, chromium)
            learner = Learner(page, base, token)
            try:
                # 1. The start: lesson 00, clean, no news question, no instructor tools.
                t0 = time.perf_counter()
                learner.open("", url=start_url)
                timings["open_lesson_00_s"] = round(time.perf_counter() - t0, 1)
                assert learner.current_tab() == "lesson-00-welcome.ipynb"
                assert not learner.dirty(), "lesson 00 opened with the unsaved mark"
                assert not page.locator(".jp-toast-button", has_text="No").count(), "the news question is shown"
                menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
                assert "Nbgrader" not in menus, menus
                page.screenshot(path=str(ARTIFACTS / "browser-start-lesson-00.png"))

                # 2. Lesson 01: run every cell, move the budget slider.
                t0 = time.perf_counter()
                learner.open("lessons/lesson-01-ml-recap.ipynb")
                assert not learner.dirty(), "lesson 01 opened with the unsaved mark"
                learner.run_all()
                slider = page.locator(".widget-hslider", has=page.locator(".widget-label", has_text="L2 budget"))
                slider.wait_for(state="attached", timeout=180_000)
                cell = page.locator(".jp-CodeCell", has=slider)
                cell.locator(".jp-OutputArea-output img").first.wait_for(state="attached", timeout=60_000)
                learner.wait_idle()
                timings["run_lesson_01_s"] = round(time.perf_counter() - t0, 1)

                cell.scroll_into_view_if_needed()
                readout = slider.locator(".widget-readout")
                before_value = readout.text_content().strip()  # text, whatever the notebook's windowing shows
                before_image = cell.locator(".jp-OutputArea-output img").first.get_attribute("src")
                t0 = time.perf_counter()
                slider.locator(".noUi-handle").first.focus()
                for _ in range(5):
                    page.keyboard.press("ArrowRight")
                page.wait_for_function(
                    """([before, src]) => {
                        const cell = [...document.querySelectorAll('.jp-CodeCell')].find(
                            c => c.querySelector('.widget-hslider') && c.textContent.includes('L2 budget'));
                        const r = cell && cell.querySelector('.widget-readout');
                        const img = cell && cell.querySelector('.jp-OutputArea-output img');
                        return r && img && r.textContent.trim() !== before && img.getAttribute('src') !== src;
                    }""", arg=[before_value, before_image], timeout=30_000, polling=100)
                timings["slider_update_s"] = round(time.perf_counter() - t0, 2)
                page.wait_for_timeout(1500)  # the last of the five updates
                assert float(readout.text_content().strip()) > float(before_value)
                assert not learner.tracebacks(), learner.tracebacks()[:2]
                cell.screenshot(path=str(ARTIFACTS / "browser-lesson-01-widget.png"))

                # 3. Exercise 01, task 1: a wrong answer, then a right one.
                t0 = time.perf_counter()
                learner.open("01-ml-recap/01-ml-recap.ipynb")
                assert learner.current_tab() == "01-ml-recap.ipynb"
                assert not learner.dirty(), "exercise 01 opened with the unsaved mark"
                setup = learner.index_of("import numpy as np")  # the setup cell (the prediction check imports check first)
                answer = learner.index_of("def fraud_threshold(")
                test = learner.index_of('check("01-ml-recap/fraud-report", fraud_threshold)')
                learner.run_cell(setup)
                learner.run_cell(answer, WRONG_REPORT)
                learner.run_cell(test)
                failed = learner.output_text(test)
                assert "FAILED" in failed and "one threshold" in failed, failed
                assert "Traceback" not in failed and "File " not in failed, failed
                assert "misconception" not in failed.lower(), "a computation error carries no misconception label"
                learner.cells().nth(test).scroll_into_view_if_needed()
                learner.cells().nth(test).screenshot(path=str(ARTIFACTS / "browser-check-failed.png"))

                learner.run_cell(answer, RIGHT_REPORT)
                learner.run_cell(test)
                passed = learner.output_text(test)
                assert "PASSED" in passed and "Traceback" not in passed, passed
                learner.cells().nth(test).screenshot(path=str(ARTIFACTS / "browser-check-passed.png"))
                timings["exercise_01_task_1_s"] = round(time.perf_counter() - t0, 1)

                # 4. Save, self-check: the score, task 1 full, the hand-graded reflection pending.
                t0 = time.perf_counter()
                learner.save()
                last = learner.cells().count() - 1
                learner.run_cell(last)
                report = learner.output_text(last)
                timings["self_check_s"] = round(time.perf_counter() - t0, 1)
                assert "Score:" in report, report
                assert re.search(r"task1-fraud-report\s+2 / 2", report), report
                assert "pending" in report.lower() and "Rubric" in report, report
                assert "Traceback" not in report, report
                learner.cells().nth(last).scroll_into_view_if_needed()
                learner.cells().nth(last).screenshot(path=str(ARTIFACTS / "browser-self-check.png"))
                page.screenshot(path=str(ARTIFACTS / "browser-exercise-01.png"))
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "browser-failure.png"))
                raise
            finally:
                browser.close()
    timings["total_s"] = round(time.perf_counter() - started, 1)
    (ARTIFACTS / "browser-timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print("browser timings:", timings)
    assert _git_status() == status_before, "the learner's path changed files git sees:\n" + _git_status()
    assert (tmp_path / "my-work" / "lessons" / "lesson-01-ml-recap.ipynb").exists()
    assert not Path(ROOT / "lessons" / ".ipynb_checkpoints").exists()


PASS_LESSONS = ["lesson-00-welcome.ipynb", "lesson-01-ml-recap.ipynb", "lesson-02-threat-modelling.ipynb",
                "lesson-03-evasion-white-box.ipynb"]


@pytest.mark.slow
def test_a_pass_through_lessons_00_to_03_changes_nothing_git_sees(tmp_path):
    """Each lesson opened clean, run top to bottom without an error, and saved (as autosave would):
    the outputs land in the learner's copies, and `git status` is what it was."""
    chromium = require("chromium")
    sync_playwright = _playwright()
    ARTIFACTS.mkdir(exist_ok=True)
    status_before = _git_status()
    timings = {}
    with learner_server(tmp_path) as (base, token, _), sync_playwright() as p:
        browser, page = _browser(p, chromium)
        learner = Learner(page, base, token)
        try:
            for name in PASS_LESSONS:
                t0 = time.perf_counter()
                learner.open(f"lessons/{name}")
                assert not learner.dirty(), f"{name} opened with the unsaved mark"
                learner.run_all()
                learner.wait_idle(timeout_s=300)
                assert not learner.tracebacks(), (name, learner.tracebacks()[:2])
                learner.save()
                timings[name] = round(time.perf_counter() - t0, 1)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-failure.png"))
            raise
        finally:
            browser.close()
    (ARTIFACTS / "browser-lessons-00-03-timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print("lessons 00-03:", timings)
    assert _git_status() == status_before, "running and saving the lessons changed files git sees:\n" + _git_status()
    for name in PASS_LESSONS:
        saved = json.loads((tmp_path / "my-work" / "lessons" / name).read_text())
        assert any(c.get("outputs") for c in saved["cells"] if c["cell_type"] == "code"), f"{name}: no outputs saved"
        assert not any(c.get("outputs") for c in json.loads((ROOT / "lessons" / name).read_text())["cells"]
                       if c["cell_type"] == "code"), f"lessons/{name} got outputs"
