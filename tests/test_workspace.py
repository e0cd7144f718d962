"""The learner's workspace: run.update_copies, the update rule for the learner's own copies.

An unedited copy is replaced by the course's new version; an edited one is kept, with the new
version beside it; running a notebook (outputs, execution counts) is not an edit.
"""
from __future__ import annotations

import json

import run


def _nb(*sources, outputs=None) -> str:
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs or [], "source": s}
             for s in sources]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _setup(tmp_path):
    lessons, exercises, work = tmp_path / "lessons", tmp_path / "exercises", tmp_path / "my-work"
    (exercises / "01-topic").mkdir(parents=True)
    lessons.mkdir()
    (lessons / "lesson-01-topic.ipynb").write_text(_nb("x = 1"))
    (exercises / "01-topic" / "01-topic.ipynb").write_text(_nb("answer = None"))
    (exercises / "01-topic" / "data.csv").write_text("a,b\n")
    (exercises / "01-topic" / ".ipynb_checkpoints").mkdir()
    (exercises / "01-topic" / ".ipynb_checkpoints" / "01-topic-checkpoint.ipynb").write_text(_nb("old"))
    return {"lessons": lessons, "": exercises}, work


def _kinds(changes):
    return sorted((what, path.name, beside.name if beside else None) for what, path, beside in changes)


def test_first_copy_then_nothing_to_do(tmp_path):
    sources, work = _setup(tmp_path)
    first = run.update_copies(sources, work)
    assert _kinds(first) == [("new", "01-topic.ipynb", None), ("new", "data.csv", None),
                             ("new", "lesson-01-topic.ipynb", None)]
    assert (work / "lessons" / "lesson-01-topic.ipynb").exists()
    assert not (work / "01-topic" / ".ipynb_checkpoints").exists()
    recorded = json.loads((work / run.MANIFEST).read_text())["files"]
    assert set(recorded) == {"lessons/lesson-01-topic.ipynb", "01-topic/01-topic.ipynb", "01-topic/data.csv"}
    assert run.update_copies(sources, work) == []


def test_an_unedited_copy_is_replaced_by_the_new_version(tmp_path):
    sources, work = _setup(tmp_path)
    run.update_copies(sources, work)
    (sources["lessons"] / "lesson-01-topic.ipynb").write_text(_nb("x = 2"))
    changes = run.update_copies(sources, work)
    assert _kinds(changes) == [("updated", "lesson-01-topic.ipynb", None)]
    assert "x = 2" in (work / "lessons" / "lesson-01-topic.ipynb").read_text()
    assert run.update_copies(sources, work) == []


def test_running_a_notebook_is_not_an_edit(tmp_path):
    sources, work = _setup(tmp_path)
    run.update_copies(sources, work)
    copy = work / "lessons" / "lesson-01-topic.ipynb"
    ran = json.loads(copy.read_text())
    ran["cells"][0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    ran["cells"][0]["execution_count"] = 1
    ran["metadata"]["language_info"] = {"name": "python", "version": "3.11.7"}
    copy.write_text(json.dumps(ran))
    assert run.update_copies(sources, work) == []
    (sources["lessons"] / "lesson-01-topic.ipynb").write_text(_nb("x = 2"))
    assert _kinds(run.update_copies(sources, work)) == [("updated", "lesson-01-topic.ipynb", None)]


def test_an_edited_copy_is_kept_and_the_new_version_placed_beside_it_once(tmp_path):
    sources, work = _setup(tmp_path)
    run.update_copies(sources, work)
    mine = work / "01-topic" / "01-topic.ipynb"
    mine.write_text(_nb("answer = 42"))
    assert run.update_copies(sources, work) == [], "an edit alone changes nothing"
    (sources[""] / "01-topic" / "01-topic.ipynb").write_text(_nb("answer = None", "# a new task"))
    changes = run.update_copies(sources, work)
    assert len(changes) == 1
    what, path, beside = changes[0]
    assert (what, path) == ("kept", mine)
    assert beside.parent == mine.parent and beside.name.startswith("01-topic.new-") and beside.suffix == ".ipynb"
    assert "a new task" in beside.read_text()
    assert "answer = 42" in mine.read_text()
    assert run.update_copies(sources, work) == [], "the learner is told once per version"


def test_a_deleted_copy_comes_back_and_a_broken_manifest_loses_nothing(tmp_path):
    sources, work = _setup(tmp_path)
    run.update_copies(sources, work)
    (work / "01-topic" / "data.csv").unlink()
    mine = work / "01-topic" / "01-topic.ipynb"
    mine.write_text("my answers, not even JSON")
    (work / run.MANIFEST).write_text("{broken")
    changes = run.update_copies(sources, work)
    assert _kinds(changes) == [("new", "data.csv", None)]
    assert mine.read_text() == "my answers, not even JSON"


def test_the_workspace_holds_lessons_and_exercises(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "WORKSPACE", tmp_path / "my-work")
    changes = run.copy_workspace()
    names = {path.relative_to(tmp_path / "my-work").as_posix() for _, path, _ in changes}
    assert "01-ml-recap/01-ml-recap.ipynb" in names
    assert any(n.startswith("lessons/") and n.endswith(".ipynb") for n in names)
    assert run.copy_workspace() == []
