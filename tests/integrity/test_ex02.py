"""Exercise 02's integrity: the classifications come from a bank of scenario variants (issue 13, item 2).

The public release shows the public variants (the public solution answers them); a private release seed shows
others, whose answers are in no public notebook. Every task: cheap answers score 0; a correct answer written
differently (other spellings, other containers) scores full; swept over 20 release seeds.
"""
from __future__ import annotations

import pytest

from course.checks import threat_modelling as T
from course.checks import variants
from course.checks.keys.threat_modelling import CONTROLS, INCIDENT_BANK, INCIDENT_VARIANTS, THREAT_BANK, THREAT_VARIANTS

from .common import verdict_at

A = "02-threat-modelling"
TASKS = ("threat-kinds", "entry-stages", "control-stops", "incident-profiles")
RELEASES = tuple(range(1, 21))
SPELL = {"aml": "AML", "classic": "Classic", "both": "BOTH"}


def correct(task):
    """A correct answer for the release in the environment, written unlike the solution."""
    threats, incidents = T.released_threats(), T.released_incidents()
    if task == "threat-kinds":
        return {t: SPELL[THREAT_VARIANTS[t]["kind"]] for t in threats}
    if task == "entry-stages":
        return {t: sorted(THREAT_VARIANTS[t]["stage"])[-1].upper() + " stage" for t in threats
                if THREAT_VARIANTS[t]["kind"] == "aml"}
    if task == "control-stops":
        return {c: tuple(t.lower() for t in threats if c in THREAT_VARIANTS[t]["stops"]) for c in CONTROLS}
    return {i: {"time": INCIDENT_VARIANTS[i][0]["time"] + "-time", "knowledge": INCIDENT_VARIANTS[i][0]["knowledge"]
                .replace("-", " ").title(), "goal": INCIDENT_VARIANTS[i][0]["goal"]} for i in incidents}


PUBLIC = {}  # the public solution, by slot


def _public(task):
    import os

    saved = os.environ.pop(variants.RELEASE_SEED_VARIABLE, None)
    try:
        return correct(task)
    finally:
        if saved is not None:
            os.environ[variants.RELEASE_SEED_VARIABLE] = saved


def copied_by_slot(task):
    """The public solution's answers moved onto the cohort's ids, slot by slot (the cheap answer a bank must stop)."""
    pub = _public(task)
    threat_slot, incident_slot = variants.slot_of(THREAT_BANK), variants.slot_of(INCIDENT_BANK)
    threats, incidents = T.released_threats(), T.released_incidents()
    if task == "threat-kinds":
        return {t: pub[threat_slot[t]] for t in threats}
    if task == "entry-stages":
        return {t: pub.get(threat_slot[t], "deployment") for t in threats if THREAT_VARIANTS[t]["kind"] == "aml"}
    if task == "control-stops":
        by_slot = {t: threat_slot[t] for t in threats}
        return {c: [t for t in threats if by_slot[t].lower() in pub[c]] for c in CONTROLS}
    return {i: pub[incident_slot[i]] for i in incidents}


def constant(task):
    threats, incidents = T.released_threats(), T.released_incidents()
    if task == "threat-kinds":
        return dict.fromkeys(threats, "AML")
    if task == "entry-stages":
        return {t: "deployment" for t in threats if THREAT_VARIANTS[t]["kind"] == "aml"}
    if task == "control-stops":
        return {c: [] for c in CONTROLS}
    return {i: {"goal": "integrity", "knowledge": "black-box", "time": "deployment"} for i in incidents}


def everything(task):
    threats, incidents = T.released_threats(), T.released_incidents()
    if task == "threat-kinds":
        return dict.fromkeys(threats, "both")
    if task == "entry-stages":
        return {t: "sources" for t in threats if THREAT_VARIANTS[t]["kind"] == "aml"}
    if task == "control-stops":
        return {c: list(threats) for c in CONTROLS}
    return {i: {"goal": "privacy", "knowledge": "white-box", "time": "training"} for i in incidents}


@pytest.fixture
def release(monkeypatch):
    def use(seed):
        if seed is None:
            monkeypatch.delenv(variants.RELEASE_SEED_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(variants.RELEASE_SEED_VARIABLE, str(seed))
    return use


@pytest.mark.parametrize("task", TASKS)
def test_correct_answers_written_differently_pass_public_and_private_releases(task, release):
    for seed in (None,) + RELEASES:
        release(seed)
        v = verdict_at(f"{A}/{task}", correct(task), 0)
        assert v.passed, (seed, v.message())


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("cheap", [constant, everything], ids=lambda f: f.__name__)
def test_cheap_answers_score_zero(task, cheap, release):
    for seed in (None,) + RELEASES[:5]:
        release(seed)
        v = verdict_at(f"{A}/{task}", cheap(task), 0)
        assert not v.passed, (seed, v.message())


@pytest.mark.parametrize("task", TASKS)
def test_the_public_answers_do_not_grade_a_private_release(task, release):
    """Swapped in as they are (public ids), they are refused; moved onto the cohort's ids, they are wrong."""
    passed_by_slot = []
    for seed in RELEASES:
        release(seed)
        assert not verdict_at(f"{A}/{task}", _public(task), 0).passed, seed
        passed_by_slot += [seed] if verdict_at(f"{A}/{task}", copied_by_slot(task), 0).passed else []
    print(f"{task}: the public answers moved slot by slot pass {len(passed_by_slot)} of {len(RELEASES)} releases")
    allowed = 0 if task != "entry-stages" else 3  # 2 of 20 measured, 1 in 8 by construction (see the report)
    assert len(passed_by_slot) <= allowed, f"{task}: the public answers, slot by slot, passed releases {passed_by_slot}"


def test_releases_differ_and_render_what_the_checks_ask():
    chosen = {tuple(T.render(seed)["task1-answer"].split('"')[1::2]) for seed in RELEASES}
    assert len(chosen) > 10
    public = T.render(variants.PUBLIC_SEED)
    for seed in RELEASES[:3]:
        private = T.render(seed)
        assert set(private) == set(public) and all(private[g] != public[g] for g in ("scenario", "task4-text"))


# ---- a private release, end to end ---------------------------------------------------------------------------------
def _fill(nb, answers: dict):
    """Put answers (grade_id -> source) into the answer cells of a released notebook, as a learner would: below
    the lines that name the release."""
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            kept = [line for line in cell.source.splitlines() if line.startswith(("import os", "os.environ"))]
            cell.source = "\n".join(kept + [answers[gid]])


def _cohort_answers():
    return {"prediction-answer": "my_prediction = 0.3",  # issue 14's prediction, graded for completion
            "task1-answer": f"threat_kinds = {correct('threat-kinds')!r}",
            "task2-answer": f"entry_stages = {correct('entry-stages')!r}",
            "task3-answer": f"control_stops = {correct('control-stops')!r}",
            "task4-answer": f"incident_profiles = {correct('incident-profiles')!r}"}


def test_course_release_with_a_seed_shows_the_seeds_variants(tmp_path, release):
    import nbformat

    from course.grader import release as rel

    rel.build_release(tmp_path, [A, "04-evasion-black-box"], seed=7)
    release(7)
    nb = nbformat.read(tmp_path / A / f"{A}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert all(f"| {t} |" in text for t in T.released_threats()) and "| T1 | Patients" not in text
    assert f"os.environ['{variants.RELEASE_SEED_VARIABLE}'] = \"7\"" in text and nb.metadata["course"]["release_seed"] == 7
    mc = nbformat.read(tmp_path / "04-evasion-black-box" / "04-evasion-black-box.ipynb", as_version=4)
    mc_text = "\n".join(c.source for c in mc.cells)
    assert '"register": "?"' not in mc_text and ('-2": "?"' in mc_text or '-3": "?"' in mc_text)


@pytest.mark.slow
def test_course_grade_of_a_private_release(tmp_path, monkeypatch):
    """One `course grade` batch with a private grading seed and a private release: the cohort's correct answers
    get full marks, the public solution gets none of the autograded points."""
    import shutil

    import nbformat
    from conftest import ROOT, require

    from course.grader import cohort
    from course.grader import release as rel

    require("bwrap")
    monkeypatch.setenv(variants.RELEASE_SEED_VARIABLE, "7")
    rel.build_release(tmp_path / "release", [A], seed=7)
    subs = tmp_path / "subs"
    subs.mkdir()
    nb = nbformat.read(tmp_path / "release" / A / f"{A}.ipynb", as_version=4)
    _fill(nb, _cohort_answers())
    nbformat.write(nb, subs / "grace.ipynb")
    shutil.copy(ROOT / "solutions" / A / f"{A}.ipynb", subs / "ada.ipynb")
    (tmp_path / "course").mkdir()
    summary = cohort.grade(A, subs, seed=4242, course_dir=tmp_path / "course", progress=False)
    got = {r.student: r for r in summary.graded}
    failed = {g: t["messages"][-1] for g, t in got["grace"].tests.items() if not t["passed"]}
    assert not [g for g in failed if g != "task5-answer"], failed
    assert not [g for g, t in got["ada"].tests.items() if t["passed"] and g.startswith("task") and g != "task5-answer"], \
        "the public answers passed"


@pytest.mark.slow
def test_course_check_of_a_private_release_grades_the_cohorts_items(tmp_path, monkeypatch):
    import nbformat

    from course.grader import release as rel
    from course.grader import selfcheck

    monkeypatch.setenv(variants.RELEASE_SEED_VARIABLE, "7")
    rel.build_release(tmp_path / "release", [A], seed=7)
    nb = nbformat.read(tmp_path / "release" / A / f"{A}.ipynb", as_version=4)
    _fill(nb, _cohort_answers())
    (tmp_path / "mine").mkdir()
    nbformat.write(nb, tmp_path / "mine" / f"{A}.ipynb")
    monkeypatch.delenv(variants.RELEASE_SEED_VARIABLE)  # the learner's machine does not have the instructor's variable
    mine = selfcheck.check(tmp_path / "mine" / f"{A}.ipynb")
    assert mine.score == mine.max_score > 0, mine.report()
