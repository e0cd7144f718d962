"""`course grade` against hostile submissions: the batch finishes, cheats earn nothing, others are untouched.

Every hostile notebook is built from exercise 01's blank or its solution. Each gets a score, feedback and,
where something happened, a flag; the honest learners graded in the same batch keep their scores.
"""
from __future__ import annotations

import copy
import json
import re
import socket
import threading

import nbformat
import pytest
from conftest import ROOT, require

from course.grader import cohort, release
from course.grader.sandbox import Limits, Sandbox

A = "01-ml-recap"
SOLUTION = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
BLANK = nbformat.read(ROOT / "exercises" / A / f"{A}.ipynb", as_version=4)
FULL = 11.0  # with the prediction of issue 14 (1 point, for completion), released with 01 again


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def from_solution():
    """What an honest, correct learner submits: the release with the solution's answers typed in."""
    return release.answered(BLANK, release.typed_answers(SOLUTION))


def with_answer(nb, gid, source):
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        if _gid(c) == gid:
            c.source = source
    return nb


def prepend(nb, source, after="setup"):
    nb = copy.deepcopy(nb)
    i = next(i for i, c in enumerate(nb.cells) if _gid(c) == after)
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(source))
    return nb


def hostile_cases(port, course_dir):
    good = from_solution()
    cases = {}
    # name: (notebook or raw text, max legitimate score, words expected in a flag or None)
    cases["infinite_loop"] = (prepend(good, "while True:\n    pass"), FULL, "timed out")
    cases["memory_bomb"] = (prepend(BLANK, "import numpy as np\nblocks = []\nwhile True:\n    blocks.append(np.ones(10**8))"), 0, None)
    cases["process_burst"] = (prepend(BLANK, "import subprocess\nprocs = [subprocess.Popen(['sleep', '20']) for _ in range(400)]"), 0, None)
    cases["huge_output"] = (prepend(BLANK, "for i in range(10**7):\n    print(i)"), 0, None)
    cases["sys_exit"] = (prepend(good, "import sys\nsys.exit(3)"), FULL, None)
    cases["os_exit"] = (prepend(BLANK, "import os\nos._exit(0)"), 0, "kernel died")
    cases["segfault"] = (prepend(BLANK, "import ctypes\nctypes.string_at(0)"), 0, "kernel died")
    nb = copy.deepcopy(good)
    nb.cells = [c for c in nb.cells if _gid(c) != "task1-fraud-report"]
    cases["deleted_test_cell"] = (nb, FULL, "deleted cell task1-fraud-report")
    nb = copy.deepcopy(BLANK)
    for c in nb.cells:
        if c in [x for x in nb.cells if _gid(x) == "task3-distance"]:
            c.source = "print('all good')"
    cases["edited_test_cell"] = (nb, 0, "edited read-only cell task3-distance")
    nb = copy.deepcopy(BLANK)
    t = next(c for c in nb.cells if _gid(c) == "task3-distance")
    nb.cells.insert(nb.cells.index(t), copy.deepcopy(t))
    answer = ("def budget_for_accuracy(w, b, X, y, target):\n    right = ((X @ w + b) > 0).astype(int) == y\n"
              "    d = sorted(abs(X @ w + b)[right] / np.linalg.norm(w))\n"
              "    return d[len(d) - int(np.floor(target * len(y) + 1e-9)) - 1]")
    cases["duplicated_test_cell"] = (with_answer(nb, "task3-answer", answer), 2, "duplicated cell")
    nb = copy.deepcopy(BLANK)
    t = next(c for c in nb.cells if _gid(c) == "task1-fraud-report")
    t.metadata["nbgrader"]["grade_id"] = "my-own-cell"
    t.source = "pass"
    cases["repointed_test_cell"] = (nb, 0, "unknown id my-own-cell")
    nb = copy.deepcopy(BLANK)
    for c in nb.cells:
        if _gid(c) == "task1-fraud-report":
            c.metadata["nbgrader"]["points"] = 100
    cases["changed_points"] = (nb, 0, "changed points of task1-fraud-report")
    cases["corrupt_json"] = ("{ not json", 0, "unreadable notebook")
    cases["empty_file"] = ("", 0, "unreadable notebook")
    cases["redefine_check"] = (prepend(BLANK, "def check(*args, **kwargs):\n    print('PASSED')"), 0, None)
    cases["patch_numpy"] = (prepend(BLANK, "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.linalg.norm = lambda *a, **k: 0.0\n"
                                    "np.abs = lambda x: x * 0"), 0, None)
    always_equal = ("class Always:\n    def __eq__(self, other): return True\n    def __le__(self, other): return True\n"
                    "    def __ge__(self, other): return True\n    def __float__(self): return 0.0\n"
                    "def budget_for_accuracy(w, b, X, y, target):\n    return Always()\n"
                    "def fraud_threshold(y_val, scores_val, cost_missed, cost_false_alarm):\n    return Always()")
    cases["always_equal_objects"] = (prepend(BLANK, always_equal), 0, None)
    patch_course = ("import course.checks as cc\nfrom course.checks.feedback import Verdict\n"
                    "cc.evaluate = lambda task_id, answer, hidden=False: Verdict(task_id, True)\n"
                    "cc.check = lambda *a, **k: Verdict('x', True)\ncheck = cc.check")
    cases["patch_course_package"] = (prepend(BLANK, patch_course), 0, None)
    transformer = "get_ipython().input_transformers_post.append(lambda lines: ['print(\"PASSED\")\\n'])"
    cases["input_transformer"] = (prepend(BLANK, transformer), 0, None)
    read_solutions = (f"print(open({str(ROOT / 'solutions' / A / (A + '.ipynb'))!r}).read()[:100])")
    cases["read_solutions"] = (prepend(good, read_solutions), FULL, None)
    write_gradebook = (f"open({str(course_dir / 'gradebook.db')!r}, 'w').write('pwned')\n")
    cases["write_gradebook"] = (prepend(good, write_gradebook), FULL, None)
    write_other = (f"import os\nos.makedirs({str(course_dir / 'submitted' / 'alice' / A)!r}, exist_ok=True)\n"
                   f"open({str(course_dir / 'submitted' / 'alice' / A / (A + '.ipynb'))!r}, 'w').write('pwned')\n")
    cases["write_other_learner"] = (prepend(good, write_other), FULL, None)
    network = (f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\ns.sendall(b'leak')")
    cases["network"] = (prepend(good, network), FULL, None)
    cases["wrong_notebook_name"] = (good, FULL, "not 01-ml-recap.ipynb")
    return cases


@pytest.mark.slow
def test_hostile_submissions(tmp_path):
    require("bwrap")
    received = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                received.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    subs = tmp_path / "submitted"
    cases = hostile_cases(server.getsockname()[1], course_dir)
    honest = {"alice": (from_solution(), FULL), "bob": (BLANK, 0.0)}
    for name, (nb, _, _) in {**cases, **{k: (v[0], v[1], None) for k, v in honest.items()}}.items():
        d = subs / name / A
        d.mkdir(parents=True)
        fname = "Untitled.ipynb" if name == "wrong_notebook_name" else f"{A}.ipynb"
        if isinstance(nb, str):
            (d / fname).write_text(nb)
        else:
            nbformat.write(nb, d / fname)
    sandbox = Sandbox(Limits(wall_seconds=120, cell_seconds=8, memory_bytes=1536 * 2**20, processes=96))
    assert sandbox.bwrap and sandbox.cgroups, sandbox.missing
    try:
        summary = cohort.grade(A, subs, course_dir=course_dir, sandbox=sandbox, progress=False)
    finally:
        stop.set()
        server.close()
    results = {r.student: r for r in summary.graded}
    assert set(results) == set(cases) | set(honest), "every submission gets a result"
    problems = []
    for name, (_, most, flag_words) in cases.items():
        r = results[name]
        if r.score > most:
            problems.append(f"{name}: scored {r.score} > the {most} it earned")
        if flag_words and not any(flag_words in f for f in r.flags):
            problems.append(f"{name}: no flag with {flag_words!r}; flags: {r.flags}")
        if not r.feedback:
            problems.append(f"{name}: no feedback file")
    assert not problems, "\n".join(problems)
    for name in ("infinite_loop", "sys_exit", "deleted_test_cell", "read_solutions", "write_gradebook",
                 "write_other_learner", "network", "wrong_notebook_name"):
        assert results[name].score == FULL, f"{name}: a correct learner who also misbehaved keeps the points earned: {results[name].flags}"
    assert results["alice"].score == FULL and results["bob"].score == 0
    assert received == [], "the sandbox reached a server outside it"
    # nothing outside the sandbox was touched: the gradebook holds everyone, alice's submission is hers
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        assert gb.find_submission(A, "alice").score == FULL
        assert len(gb.students) == len(results)
    assert json.loads((subs / "alice" / A / f"{A}.ipynb").read_text())["cells"]
    assert not (course_dir / "submitted").exists(), "nbgrader's submitted/ is input: the grader never writes it"
    graded_nb = nbformat.read(course_dir / "autograded" / "read_solutions" / A / f"{A}.ipynb", as_version=4)
    shown = json.dumps([c.get("outputs", []) for c in graded_nb.cells])
    assert "No such file" in shown and "nbgrader" not in shown.split("No such file")[0][-200:]
    # the feedback never shows hidden tests
    for r in summary.graded:
        if r.feedback:
            text = open(r.feedback).read()
            assert "hidden=True" not in text and "BEGIN HIDDEN TESTS" not in text
    report = (course_dir / "reports" / A / "misconceptions.html").read_text()
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", report)  # names are looked for in the text, not in images
    assert "M7" in report and "alice" not in text and "bob" not in text


@pytest.mark.slow
def test_regrading_is_stable_and_resumable(tmp_path):
    require("bwrap")
    subs = tmp_path / "subs"
    (subs).mkdir()
    nbformat.write(from_solution(), subs / "alice.ipynb")
    nbformat.write(BLANK, subs / "bob.ipynb")
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    first = cohort.grade(A, subs, course_dir=course_dir, progress=False)
    again = cohort.grade(A, subs, course_dir=course_dir, progress=False)
    assert len(first.graded) == 2 and not again.graded and sorted(again.skipped) == ["alice", "bob"]
    forced = cohort.grade(A, subs, course_dir=course_dir, progress=False, force=True)
    assert {r.student: r.score for r in forced.graded} == {r.student: r.score for r in first.graded} == {"alice": FULL, "bob": 0.0}, \
        [(r.student, r.flags, [t["messages"] for t in r.tests.values()]) for r in forced.graded]
    csv_text = (course_dir / "reports" / A / "scores.csv").read_text()
    assert csv_text.splitlines()[0].startswith("student,prediction-check,task1-fraud-report")  # issue 14 first
    assert (course_dir / "reports" / A / "feedback" / "alice.html").exists()


def _assignments():
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", _assignments())
def test_course_grade_gives_solutions_full_marks_and_blanks_zero(tmp_path, assignment):
    """Every assignment's checks work across the sandbox boundary (services, files, returned models)."""
    require("bwrap")
    import shutil

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(ROOT / "solutions" / assignment / f"{assignment}.ipynb", subs / "ada.ipynb")  # learners' names:
    shutil.copy(ROOT / "exercises" / assignment / f"{assignment}.ipynb", subs / "alan.ipynb")  # "solution" names nobody
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    summary = cohort.grade(assignment, subs, course_dir=course_dir, progress=False)
    got = {r.student: r for r in summary.graded}
    failed = {g: t["messages"][-1] for g, t in got["ada"].tests.items() if not t["passed"]}
    assert got["ada"].score == got["ada"].max_score > 0, failed
    assert got["alan"].score == 0
    assert "not attempted" in {t["failure"] for t in got["alan"].tests.values()}, "a blank is counted as not attempted"


@pytest.mark.slow
def test_misconception_report_shows_the_cohorts_before_and_after(tmp_path):
    """Grading the mental-model check at the start (00) and at the end (10) gives the before/after plot."""
    require("bwrap")
    import shutil

    course_dir = tmp_path / "course"
    course_dir.mkdir()
    for assignment in ("00-welcome", "10-wrap-up"):
        subs = tmp_path / assignment
        subs.mkdir()
        for learner in ("ada_lovelace", "alan_turing"):  # underscores never occur in base64 image data
            shutil.copy(ROOT / "solutions" / assignment / f"{assignment}.ipynb", subs / f"{learner}.ipynb")
        summary = cohort.grade(assignment, subs, course_dir=course_dir, progress=False)
        # 00: the prediction and two halves of form A; 10: two halves of form B (the threat model is graded by hand)
        assert {r.score for r in summary.graded} == {3.0 if assignment == "00-welcome" else 2.0}
    page = (course_dir / "reports" / "10-wrap-up" / "misconceptions.html").read_text()
    assert "Before and after" in page and "data:image/png;base64," in page
    assert "normalised gain" in page and "appear once 10 or more learners" in page
    assert "ada_lovelace" not in page and "alan_turing" not in page
