"""The notebooks as documents: structure, tags, stripped outputs (fast; nothing is executed here)."""
from __future__ import annotations

import re

import nbformat
import pytest
from conftest import ROOT, lesson_paths, solution_paths

from course import checks

CHECK_CALL = re.compile(r"""check\(\s*["']([^"']+)["']""")
TAG = re.compile(r"^misconception-M[1-8]$")


def _nb(path):
    return nbformat.read(path, as_version=4)


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _is_test(cell):
    return _meta(cell).get("grade") and not _meta(cell).get("solution")


def test_there_are_lessons_and_assignments():
    assert lesson_paths(), "no lessons found"
    assert solution_paths(), "no assignments found"


@pytest.mark.parametrize("path", lesson_paths() + solution_paths(), ids=lambda p: p.name)
def test_source_notebooks_are_stored_without_outputs(path):
    nb = _nb(path)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear outputs before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", lesson_paths(), ids=lambda p: p.name)
def test_lessons_follow_the_template(path):
    nb = _nb(path)
    first = nb.cells[0].source
    for words in ("What you'll learn", "belief", "Time"):
        assert words in first, f"{path.name}: the opening cell must say {words!r}"
    assert re.search(r"M[1-8]", first), f"{path.name}: the opening must name the misconception(s) it tests"
    tail = "\n".join(c.source for c in nb.cells[-4:])
    assert "Takeaways" in tail, f"{path.name}: end with the takeaways"
    assert "References" in tail, f"{path.name}: end with the references"


@pytest.mark.parametrize("path", solution_paths(), ids=lambda p: p.parent.name)
def test_graded_cells_are_tagged_and_call_registered_checks(path):
    nb = _nb(path)
    assignment = path.parent.name
    ids = [_meta(c).get("grade_id") for c in nb.cells if _meta(c)]
    assert len(ids) == len(set(ids)), f"{path.name}: grade_ids must be unique"
    tests = [c for c in nb.cells if _is_test(c)]
    assert tests, f"{path.name}: no graded test cells"
    for c in tests:
        gid = _meta(c)["grade_id"]
        tags = [t for t in c.metadata.get("tags", []) if t.startswith("misconception-")]
        assert tags and all(TAG.match(t) for t in tags), f"{gid}: tag it misconception-M1 ... misconception-M8"
        assert _meta(c).get("points", 0) > 0, f"{gid}: a graded cell needs points"
        called = CHECK_CALL.findall(c.source)
        assert called, f"{gid}: a test cell calls course.checks.check(...)"
        assert "### BEGIN HIDDEN TESTS" in c.source, f"{gid}: add hidden checks (hidden=True)"
        for task_id in called:
            assert task_id.startswith(assignment + "/"), f"{gid}: {task_id} belongs to another assignment"
            task = checks.get(task_id)
            wanted = {f"misconception-{m}" for m in task.misconceptions}
            assert wanted <= set(tags), f"{gid}: tags {tags} must include {sorted(wanted)} (the task's misconceptions)"


@pytest.mark.parametrize("path", solution_paths(), ids=lambda p: p.parent.name)
def test_manual_tasks_have_a_rubric_and_a_model_answer(path):
    nb = _nb(path)
    for i, c in enumerate(nb.cells):
        m = _meta(c)
        if m.get("grade") and m.get("solution"):
            assert c.source.strip(), f"{m['grade_id']}: the solution holds the model answer"
            before = "\n".join(x.source for x in nb.cells[max(0, i - 2):i])
            assert "Rubric" in before or "rubric" in before, f"{m['grade_id']}: put a rubric in the cell above"


@pytest.mark.parametrize("path", solution_paths(), ids=lambda p: p.parent.name)
def test_exercises_end_with_the_self_check(path):
    nb = _nb(path)
    assert f'course.check("{path.name}")' in nb.cells[-1].source


@pytest.mark.parametrize("path", solution_paths(), ids=lambda p: p.parent.name)
def test_released_copy_keeps_the_tags_and_hides_the_tests(path):
    released = ROOT / "exercises" / path.parent.name / path.name
    assert released.exists(), f"{released} missing: run `course release`"
    rel = _nb(released)
    src_tags = {_meta(c)["grade_id"]: c.metadata.get("tags", []) for c in _nb(path).cells if _is_test(c)}
    rel_tags = {_meta(c)["grade_id"]: c.metadata.get("tags", []) for c in rel.cells if _is_test(c)}
    assert rel_tags == src_tags
    text = "\n".join(c.source for c in rel.cells)
    assert "hidden=True" not in text and "BEGIN SOLUTION" not in text
