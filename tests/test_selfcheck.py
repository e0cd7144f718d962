"""`course check` and `course grade` agree: the self-check judges outside the learner's kernel, as grading does.

The cheats are the ones that fooled the old self-check (which ran the checks inside the learner's kernel):
rebinding `check`, and patching the course's checks from a cell of the notebook. Both must give the same
zero in the self-check as in cohort grading, with and without the sandbox.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

import nbformat
from conftest import ROOT
from test_grade import BLANK, prepend

from course.grader import cohort, sandbox, selfcheck

A = "01-ml-recap"
CHEAT = ("import course.checks as cc\nfrom course.checks.feedback import Verdict\n"
         "cc.evaluate = lambda task_id, answer, hidden=False: Verdict(task_id, True)\n"
         "cc.get = lambda task_id: None\n"
         "check = lambda *a, **k: print('PASSED (all checks)')")


def _cheat_notebook(folder):
    path = folder / f"{A}.ipynb"
    nbformat.write(prepend(BLANK, CHEAT), path)
    return path


def test_rebinding_check_earns_nothing_in_check_and_in_grade_alike(tmp_path, monkeypatch):
    path = _cheat_notebook(tmp_path)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(nbformat.read(path, as_version=4), subs / "mallory.ipynb")
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    graded = cohort.grade(A, subs, course_dir=course_dir, progress=False).graded[0]
    # the self-check without bubblewrap (macOS, Windows, a container): still judged outside the kernel
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    checked = selfcheck.check(path)
    assert "WITHOUT the sandbox" in checked.report(), "an unsandboxed self-check must say so loudly"
    assert checked.score == graded.score == 0, (
        f"expected 0 from both for a notebook that rebinds `check` and patches course.checks; "
        f"saw check {checked.score}, grade {graded.score}: a self-check run inside the learner's kernel can be fooled")
    assert {t.grade_id: t.score for t in checked.tasks} == {g: t["score"] for g, t in graded.tests.items()}
    assert {t.grade_id: t.max_score for t in checked.tasks} == {g: t["points"] for g, t in graded.tests.items()}


def test_the_notebooks_own_check_shells_out_to_course_check(tmp_path):
    """`course.check()` from the last cell: a separate `python -m course check`, so the kernel's patches stay behind."""
    path = _cheat_notebook(tmp_path)
    script = ("import course, course.checks as cc\nfrom course.checks.feedback import Verdict\n"
              "cc.evaluate = lambda task_id, answer, hidden=False: Verdict(task_id, True)\n"
              f"course.check({str(path)!r})\n")
    env = {k: v for k, v in os.environ.items() if k != "COURSE_NO_SELF_CHECK"}
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Grading the saved file" in res.stdout and f"Self-check of {path}" in res.stdout, res.stdout[-2000:]
    assert re.search(r"Score: 0 / \d+ ", res.stdout), res.stdout[-2000:]
    assert (ROOT / "solutions").exists()


def test_probe_says_why_without_bubblewrap(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    assert "not installed" in sandbox.Sandbox().probe() or sys.platform != "linux"
