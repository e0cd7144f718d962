"""Finding a cohort's submissions: nbgrader trees, flat folders, Moodle and Canvas zips, rosters."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from course.grader import submissions

A = "01-ml-recap"


def nb(path: Path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_nbgrader_tree(tmp_path):
    nb(tmp_path / "alice" / A / f"{A}.ipynb")
    nb(tmp_path / "bob" / A / "Untitled.ipynb")
    (tmp_path / "carol" / A).mkdir(parents=True)
    found = submissions.discover(A, tmp_path)
    assert found.layout == "nbgrader tree"
    assert {s.student for s in found.submissions} == {"alice", "bob"}
    assert any("no notebook" in why for _, why in found.unrecognised)


def test_a_timestamp_nbgrader_cannot_read_is_dropped_with_a_note(tmp_path):
    """nbgrader refuses to record a learner whose timestamp.txt is not a time: graded every run, never recorded."""
    nb(tmp_path / "alice" / A / f"{A}.ipynb")
    (tmp_path / "alice" / A / "timestamp.txt").write_text("sometime on Tuesday-ish")
    nb(tmp_path / "bob" / A / f"{A}.ipynb", '{"bob": 1}')
    (tmp_path / "bob" / A / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    subs = {s.student: s for s in submissions.discover(A, tmp_path).submissions}
    assert subs["alice"].timestamp == "" and any("not a time" in n for n in subs["alice"].notes), (
        f"expected alice's unreadable time dropped with a note; saw {subs['alice'].timestamp!r}, {subs['alice'].notes}")
    assert subs["bob"].timestamp.startswith("2026-12-01") and not subs["bob"].notes, (
        f"expected bob's time kept without a note; saw {subs['bob'].timestamp!r}, {subs['bob'].notes}")
    (tmp_path / "alice" / A / "timestamp.txt").write_text("2026-12-01 10:00:00", encoding="utf-16")  # Windows Notepad
    subs = {s.student: s for s in submissions.discover(A, tmp_path).submissions}  # stopped the whole cohort before
    assert subs["alice"].timestamp == "" and any("not a time" in n for n in subs["alice"].notes), (
        f"expected a UTF-16 timestamp.txt dropped with a note; saw {subs['alice'].timestamp!r}, {subs['alice'].notes}")


def test_flat_folder_and_roster(tmp_path):
    nb(tmp_path / "subs" / "alice.ipynb")
    nb(tmp_path / "subs" / f"bob_{A}.ipynb")
    nb(tmp_path / "subs" / f"{A}.ipynb")
    found = submissions.discover(A, tmp_path / "subs")
    assert {s.student for s in found.submissions} == {"alice", "bob"}
    assert any("cannot tell whose" in why for _, why in found.unrecognised)
    roster = tmp_path / "roster.csv"
    roster.write_text("name,student_id\nalice,s001\nbob,s002\n")
    found = submissions.discover(A, tmp_path / "subs", roster=roster)
    assert {s.student for s in found.submissions} == {"s001", "s002"}


def test_moodle_zip_folders_and_flat_names(tmp_path):
    z = tmp_path / "moodle.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr(f"Ada Lovelace_10001_assignsubmission_file_/{A}.ipynb", "{}")
        f.writestr(f"Alan Turing_10002_assignsubmission_file_{A}.ipynb", "{}")
        f.writestr("readme.txt", "x")
    found = submissions.discover(A, z, scratch=tmp_path / "s")
    assert found.layout == "Moodle zip"
    assert {s.student for s in found.submissions} == {"Ada_Lovelace", "Alan_Turing"}
    roster = tmp_path / "r.csv"
    roster.write_text("name,student_id,moodle_id\nAda Lovelace,u1,10001\nx,u2,10002\n")
    found = submissions.discover(A, z, roster=roster, scratch=tmp_path / "s")
    assert {s.student for s in found.submissions} == {"u1", "u2"}


def test_canvas_zip_with_late_and_unrecognised_files(tmp_path):
    z = tmp_path / "canvas.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr(f"lovelaceada_123_456_{A}.ipynb", "{}")
        f.writestr(f"turingalan_LATE_124_457_{A}-1.ipynb", "{}")
        f.writestr("random name.ipynb", "{}")
    found = submissions.discover(A, z, scratch=tmp_path / "s")
    assert found.layout == "Canvas zip"
    assert {s.student for s in found.submissions} == {"lovelaceada", "turingalan"}
    assert [why for _, why in found.unrecognised] == ["not a Moodle or Canvas file name"]


def test_zip_slip_is_refused(tmp_path):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("../../escape.ipynb", "{}")
    with pytest.raises(submissions.SubmissionsError, match="outside its folder"):
        submissions.discover(A, z, scratch=tmp_path / "s")
    assert not (tmp_path.parent / "escape.ipynb").exists()


def test_bad_inputs_say_what_is_wrong(tmp_path):
    with pytest.raises(submissions.SubmissionsError, match="no such file"):
        submissions.discover(A, tmp_path / "missing")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(submissions.SubmissionsError, match="neither a folder nor a zip"):
        submissions.discover(A, tmp_path / "x.txt")
    roster = tmp_path / "r.csv"
    roster.write_text("name,id\na,b\n")
    with pytest.raises(submissions.SubmissionsError, match="student_id"):
        submissions.read_roster(roster)


def test_several_notebooks_of_one_student(tmp_path):
    old = nb(tmp_path / "alice" / A / "scratch.ipynb")
    nb(tmp_path / "alice" / A / f"{A}.ipynb")
    found = submissions.discover(A, tmp_path)
    (sub,) = found.submissions
    assert sub.path.name == f"{A}.ipynb" and "2 files from this learner" in sub.notes[0]
    assert old.exists()


def test_safe_ids():
    assert submissions.safe_id("Ada Lovelace") == "Ada_Lovelace"
    assert submissions.safe_id("../../etc/passwd") == "etc_passwd"
    assert submissions.safe_id("   ") == "unnamed"
