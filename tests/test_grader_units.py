"""Grader units of issue 15 without running notebooks: cgroup v2 (a fake tree), copy detection, seeds, reports."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import ROOT

from course.checks.feedback import Failure
from course.grader import report, sandbox
from course.grader.cohort import Source, criterion_only, offline_feedback, refuse_other_seed, without_system_noise

A = "01-ml-recap"


def fake_v2(tmp_path, controllers="cpu io memory pids", enabled=""):
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text(enabled + "\n")
    (root / "cgroup.procs").write_text("")
    return root


def test_cgroup_version_is_detected(tmp_path):
    assert sandbox.cgroup_version(fake_v2(tmp_path)) == 2
    v1 = tmp_path / "v1"
    for c in ("pids", "memory"):
        (v1 / c).mkdir(parents=True)
        (v1 / c / "cgroup.procs").write_text("")
    assert sandbox.cgroup_version(v1) == 1
    assert sandbox.cgroup_version(tmp_path / "none") == 0


def test_cgroup_v2_limits_are_written_and_controllers_enabled(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_CGROUP", raising=False)
    root = fake_v2(tmp_path)
    assert sandbox.cgroups_writable(2, root)
    limits = sandbox.Limits(processes=64, memory_bytes=512 * 2**20)
    (group,) = sandbox.make_cgroup(limits, 2, root)
    assert group.parent == root and group.name.startswith("course-grade-")
    assert (group / "pids.max").read_text() == "64"
    assert (group / "memory.max").read_text() == str(512 * 2**20)
    assert (group / "memory.swap.max").read_text() == "0"
    assert set((root / "cgroup.subtree_control").read_text().split()) == {"+pids", "+memory"}


def test_cgroup_v2_delegated_subtree_and_missing_controllers(tmp_path, monkeypatch):
    root = fake_v2(tmp_path)
    sub = root / "user.slice" / "grader"
    sub.mkdir(parents=True)
    (sub / "cgroup.controllers").write_text("memory pids\n")
    (sub / "cgroup.subtree_control").write_text("memory pids\n")
    monkeypatch.setenv("COURSE_CGROUP", "/user.slice/grader")
    (group,) = sandbox.make_cgroup(sandbox.Limits(), 2, root)
    assert group.parent == sub
    (sub / "cgroup.controllers").write_text("cpu\n")  # the other way: no pids/memory delegated
    assert not sandbox.cgroups_writable(2, root)


def test_cgroup_v2_oom_is_read_from_memory_events(tmp_path):
    g = tmp_path / "g"
    g.mkdir()
    (g / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert sandbox.Running(None, [g], 0).oom_killed()
    (g / "memory.events").write_text("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")
    assert not sandbox.Running(None, [g], 0).oom_killed()


def _answers(nb, edit):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in edit:
            c.source = edit[gid]
    return nb


def test_hidden_checks_state_the_criterion_not_the_data():
    from course.checks.feedback import Verdict

    v = Verdict("01-ml-recap/distance", False, "distances within 1e-6 of the true ones", "max error 0.31 on n=200, eps=0.5",
                "why", ["M7"], hidden=True)
    text = criterion_only(v)
    assert "n=200" not in text and "0.31" not in text and "within 1e-6" in text and "belief error" in text


def test_failure_types_are_counted_apart_in_the_reports():
    def r(student, failure, sha):
        t = {"passed": failure is None, "misconceptions": ["M7"], "failure": failure, "score": 0, "points": 1}
        return {"student": student, "tests": {"t1": t}, "submission_sha256": sha}

    results = [r("a", None, "1"), r("b", Failure.BELIEF.value, "2"), r("c", Failure.NOT_ATTEMPTED.value, "3"),
               r("d", Failure.CRASHED.value, "4"), r("e", Failure.WRONG_ASSIGNMENT.value, "5"), r("a2", None, "1")]
    kept, merged = report.once_per_learner(results)
    assert merged == 1 and len(kept) == 5
    assert report.misconception_shares(kept) == {"M7": (0.5, 2)}  # only a and b were judged on M7
    (gid, counts), = report.failure_counts(kept)
    assert counts == {"passed": 1, "not attempted": 1, "crashed": 1, "computation error": 0, "belief error": 1,
                      "wrong assignment": 1}


def test_results_of_another_seed_are_never_overwritten(tmp_path):
    (tmp_path / "alice.json").write_text(json.dumps({"seed_fingerprint": "aaa"}))
    refuse_other_seed(tmp_path, "aaa")
    try:
        refuse_other_seed(tmp_path, "bbb")
        raise AssertionError("should refuse")
    except Exception as e:  # noqa: BLE001
        assert "another grading seed" in str(e) and "alice" in str(e)


def test_feedback_has_no_system_noise_and_no_cdn():
    outs = [{"output_type": "stream", "name": "stderr", "text": "Fontconfig error: No writable cache directories\n"},
            {"output_type": "stream", "name": "stderr", "text": "real warning\n"}]
    assert [o["text"] for o in without_system_noise(outs)] == ["real warning\n"]
    page = ('<head><!-- Loading mathjax macro -->\n<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/'
            'MathJax.js"></script><script type="text/x-mathjax-config">MathJax.Hub.Config({})</script></head>')
    assert "mathjax" not in offline_feedback(page).lower()


def course(*args, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "course", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, **(env or {})})


def test_course_grade_refuses_without_a_private_seed(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    res = course("grade", A, tmp_path, "--course-dir", tmp_path / "c", env={"COURSE_GRADING_SEED": ""})
    assert res.returncode == 2 and "--public-seed" in res.stderr
    assert not (tmp_path / "c" / "reports").exists()


def test_course_grade_on_an_empty_folder_exits_non_zero_listing_files(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("x")
    res = course("grade", A, tmp_path / "in", "--course-dir", tmp_path / "c", "--public-seed", "--no-sandbox")
    assert res.returncode == 2 and "notes.txt" in res.stderr and "no gradable notebook" in res.stderr


@pytest.mark.slow
def test_feedback_maths_becomes_mathml_at_build_time():
    from conftest import ensure_extra

    ensure_extra("site.txt", "latex2mathml")  # the feedback's maths needs the site extra, as the README says
    from course.grader.cohort import mathml_preprocessor

    cell = nbformat.v4.new_markdown_cell("the margin $\\frac{w^T x + b}{\\|w\\|}$ and `$not maths$`")
    nb, _ = mathml_preprocessor()()(nbformat.v4.new_notebook(cells=[cell]), {})  # as nbconvert calls it
    out = nb.cells[0]
    assert "<math" in out.source and "$not maths$" in out.source and "\\frac" not in out.source


def test_the_sandbox_uses_cgroup_v2_when_the_machine_has_it(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_CGROUP", raising=False)
    monkeypatch.setattr(sandbox, "CGROUP_ROOT", fake_v2(tmp_path))
    box = sandbox.Sandbox()
    assert box.cgroup_version == 2 and box.cgroups
    assert any("cgroup v2: at most" in p for p in box.protections) and not box.missing
    monkeypatch.setattr(sandbox, "CGROUP_ROOT", tmp_path / "nothing")  # the other way: no cgroups at all
    box = sandbox.Sandbox()
    assert not box.cgroups and any("no writable cgroups" in m for m in box.missing)


def test_a_released_placeholder_is_not_attempted_not_a_belief():
    """A value task's stub (a dict of None) is judged by its check; the grader still calls it not attempted."""
    from course.grader import cohort

    source = Source.load("02-threat-modelling")
    blank = source.release
    assert cohort.unchanged_answers(source, blank), "every answer cell of the blank is the released stub"
    answered = _answers(blank, {"task1-answer": 'threat_kinds = {"T1": "evasion"}'})
    assert not any("T1" in s and "evasion" in s for s in cohort.unchanged_answers(source, answered))


def test_what_broke_a_grading_run_is_graded_again_and_inputs_that_broke_it_no_longer_do(tmp_path):
    """Found by an instructor's probe: a lone surrogate printed by a correct solution made nbgrader fail (score 0,
    kept for good because a failed result counted as done); JSON that is not a notebook crashed the whole run;
    a display call with a non-text PNG killed the learner's kernel."""
    import hashlib

    from course.grader import cohort, kernel
    from course.grader.course_dir import GradingError, read_notebook

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('\\ud800')")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="\ud800 left\n")]
    safe = nbformat.from_dict(cohort.utf8_safe(nb))
    nbformat.write(safe, tmp_path / "safe.ipynb")  # raised UnicodeEncodeError before
    assert "\ufffd left" in safe.cells[0].outputs[0]["text"]
    path = tmp_path / "sub.ipynb"
    path.write_text("{}")
    sub = SimpleNamespace(path=path)
    result = tmp_path / "r.json"
    fp = cohort.seed_fingerprint()
    base = {"submission_sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "seed_fingerprint": fp,
            "course_version": __import__("course").__version__}
    result.write_text(json.dumps({**base, "flags": []}))
    assert cohort.is_done(result, sub, fp)
    result.write_text(json.dumps({**base, "flags": ["grading failed: GradingError: nbgrader could not record"]}))
    assert not cohort.is_done(result, sub, fp), "a failed grading is no grade: the next run must try again"
    for text in ("[1, 2]", '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}'):
        (tmp_path / "odd.ipynb").write_text(text)
        with pytest.raises(GradingError, match="not a readable notebook"):
            read_notebook(tmp_path / "odd.ipynb")
    kept = kernel.safe_outputs([{"output_type": "display_data", "data": {"image/png": 12345, "text/plain": "x"}}], 10000)
    assert kept == [{"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {}}]


def test_recorded_notebooks_carry_only_the_instructors_nbgrader_metadata():
    """nbgrader's CheckCellMetadata is left out of recording (30% of its time); `foreign_metadata` stands in for it.
    Whatever a learner does to the metadata, the notebook `prepare` rebuilds passes, and a forged one does not."""
    from course.grader import cohort, course_dir

    source = Source.load(A)
    allowed = cohort.instructor_metadata(source)
    nb = nbformat.read(ROOT / "exercises" / A / f"{A}.ipynb", as_version=4)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution"))
    test.metadata["nbgrader"]["points"] = "x"  # not even a number (crashed `prepare` before)
    answer.metadata["nbgrader"]["locked"] = True  # another grading role
    forged = nbformat.v4.new_code_cell("print('mine')", metadata={"nbgrader": {**test.metadata["nbgrader"], "grade_id": "mine"}})
    nb.cells += [forged, nbformat.v4.new_code_cell(answer.source, metadata=dict(answer.metadata))]  # a duplicate too
    _, repaired, flags = cohort.prepare(source, nb)
    assert len(flags) >= 4, f"expected the four changes flagged; saw {flags}"
    why = cohort.foreign_metadata(allowed, repaired)
    assert why == "", f"expected the rebuilt notebook to carry only the instructor's metadata; saw {why!r}"
    for extra, what in ((forged, "a forged grade cell"), (copy.deepcopy(test), "a second copy of a test cell")):
        bad = copy.deepcopy(repaired)
        bad.cells.append(extra)
        assert cohort.foreign_metadata(allowed, bad), f"expected {what} refused before nbgrader records it; it passed"
    role_free = nbformat.v4.new_markdown_cell("note", metadata={"nbgrader": {"grade": False, "solution": False,
                                                                              "locked": False, "schema_version": 3}})
    repaired.cells.append(role_free)  # valid for nbgrader, nothing to grade or restore
    assert cohort.foreign_metadata(allowed, repaired) == "", "metadata without a role must not refuse a learner"
    # exercises/ older than solutions/: `prepare` copies the solution's metadata for the cell the release lacks
    stale = copy.deepcopy(source)
    gone = next(c for c in stale.release.cells if c.metadata.get("nbgrader", {}).get("locked") and not c.metadata["nbgrader"].get("grade"))
    stale.release.cells.remove(gone)
    _, repaired, _ = cohort.prepare(stale, nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4))
    why = cohort.foreign_metadata(cohort.instructor_metadata(stale), repaired)
    assert why == "", f"a stale release must not refuse every learner; saw {why!r}"
    for name in course_dir.assignments():  # every assignment: blank, solution, empty and unreadable submissions
        src = Source.load(name)
        allowed = cohort.instructor_metadata(src)
        for sub in (src.release, src.notebook, nbformat.v4.new_notebook()):
            _, repaired, _ = cohort.prepare(src, copy.deepcopy(sub))
            assert cohort.foreign_metadata(allowed, repaired) == "", f"{name}: a legitimate notebook refused"
        assert cohort.foreign_metadata(allowed, copy.deepcopy(src.release)) == "", f"{name}: the unreadable path refused"


def test_gradebooks_in_one_engine_block_share_its_engine_and_nothing_else(tmp_path):
    """`one_engine` replaces nbgrader's Gradebook.__init__ for the block: the same attributes as nbgrader's own,
    one engine per URL for the thread that opened the block, nbgrader's own again afterwards, even after an error."""
    import threading

    from nbgrader import api

    from course.grader.course_dir import one_engine

    original, own_head = api.Gradebook.__init__, api.get_alembic_version
    url = f"sqlite:///{tmp_path}/gradebook.db"
    with api.Gradebook(url) as plain:
        expected = set(vars(plain))
    with pytest.raises(RuntimeError), one_engine():
        with api.Gradebook(url) as first, api.Gradebook(url) as second:
            assert second.engine is first.engine, "the block's gradebooks of one URL share an engine"
            assert set(vars(second)) == expected, f"expected nbgrader's attributes {expected}; saw {set(vars(second))}"
            with one_engine(), api.Gradebook(url) as nested:
                assert nested.engine is first.engine, "a nested block uses the outer block's engines"
            other = {}
            t = threading.Thread(target=lambda: other.setdefault("engine", api.Gradebook(url).engine))
            t.start()
            t.join()
            assert other["engine"] is not first.engine, "another thread's gradebook must have an engine of its own"
            second.add_student("ann")
        raise RuntimeError("an error inside the block")
    assert api.Gradebook.__init__ is original, "nbgrader's own __init__ must be back after the block, even after an error"
    assert api.get_alembic_version is own_head, "nbgrader's own get_alembic_version must be back, even after an error"
    with api.Gradebook(url) as after:
        assert after.find_student("ann").id == "ann", "what the block wrote is in the database"


def test_a_gradebook_created_in_one_engine_block_has_nbgraders_schema_version_without_a_child_process(tmp_path, monkeypatch):
    """nbgrader runs `alembic heads` in a child Python (about 2 CPU-s) to stamp each new gradebook; the block
    stamps it with `alembic_head`, read in this process: it must be the version nbgrader's own way finds."""
    import os
    import sqlite3

    from nbgrader import api

    from course.grader.course_dir import alembic_head, one_engine

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    own_head = api.get_alembic_version
    assert own_head.__module__ == "nbgrader.api", f"expected nbgrader's own get_alembic_version; saw {own_head}"
    nbgraders = own_head()  # the child process: `alembic heads`
    assert alembic_head() == nbgraders, f"expected nbgrader's schema head {nbgraders!r}; read {alembic_head()!r}"

    def no_child(self, args, *a, **k):
        raise AssertionError(f"a child process started inside the block: {args}")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_child)
    with one_engine(), api.Gradebook(f"sqlite:///{tmp_path}/gradebook.db") as gb:
        gb.add_student("ann")
    assert api.get_alembic_version is own_head, "nbgrader's own get_alembic_version must be back after the block"
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        stamped = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert stamped == [(nbgraders,)], f"expected the new gradebook stamped {nbgraders!r}, as nbgrader stamps it; saw {stamped}"
