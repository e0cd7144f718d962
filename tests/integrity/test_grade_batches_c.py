"""End to end (slow): one `course grade` batch per assignment (01 and 06-09; 02-05 have theirs beside their red
team) with a private seed, through the
sandbox. A learner who typed the red team's cheap answers scores 0 on every task they touch; a learner
who typed the alternative answers (written differently from the solutions) scores full marks."""
from __future__ import annotations

import copy
import inspect
import textwrap

import nbformat
import pytest
from conftest import ROOT, require

from course.grader import cohort

from . import test_ex01 as e01
from . import test_ex06 as e06
from . import test_ex07 as e07
from . import test_ex08 as e08
from . import test_ex09 as e09

PRIVATE_SEED = 917_263


def _source(fn, name):
    """A red-team function's code, renamed to the name the task asks for."""
    src = textwrap.dedent(inspect.getsource(fn))
    return src.replace(f"def {fn.__name__}(", f"def {name}(", 1)


def _typed(assignment, answers):
    blank = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    nb = copy.deepcopy(blank)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            c.source = answers[gid]
    return nb


IMPORTS = "import hashlib\nimport pickletools\nimport zipfile\nfrom pathlib import Path\n\n"
BATCHES = {
    "01-ml-recap": (
        {"task1-answer": _source(e01.threshold_by_accuracy, "fraud_threshold"),
         "task2-answer": _source(e01.flag_nothing, "train_and_predict"),
         "task3-answer": _source(e01.budget_from_scores, "budget_for_accuracy"),
         "task4-answer": "def evade_linear(w, b, X, y, eps):\n    return X.copy()"},
        {"task1-answer": _source(e01.threshold_by_cumulative_cost, "fraud_threshold"),
         "task2-answer": _source(e01.threshold_from_legitimate_scores, "train_and_predict"),
         "task3-answer": _source(e01.budget_by_bisection, "budget_for_accuracy"),
         "task4-answer": _source(e01.evade_full_step, "evade_linear")}),
    "06-poisoning": (
        {"task1-answer": _source(e06.flips_random, "flip_to_target"),
         "task2-answer": "def craft_reports(X_campaign, X_ham, n_reports, spam_score):\n    return X_campaign[:n_reports]",
         "task3-answer": _source(e06.find_by_position, "find_poisoned")},
        {"task1-answer": _source(e06.flips_by_margin, "flip_to_target"),
         "task2-answer": _source(e06.reports_dilute, "craft_reports"),
         "task3-answer": _source(e06.find_by_domain, "find_poisoned")}),
    "07-backdoors-supply-chain": (
        {"task1-answer": _source(e07.report_all_images, "backdoor_report"),
         "task2-answer": "def inspect_vendor(predict, X_clean, y_clean):\n    return {'backdoored': False, 'location': None}",
         "task3-answer": _source(e07.load_by_denylist, "should_load"),
         "task4-answer": _source(e07.verify_by_name, "load_verified")},
        {"task1-answer": _source(e07.report_by_loop, "backdoor_report"),
         "task3-answer": IMPORTS + _source(e07.load_by_allowlist, "should_load"),
         "task4-answer": IMPORTS + _source(e07.verify_streamed, "load_verified")}),
    "08-confidentiality": (
        {"task1-answer": _source(e08.steal_helper, "steal_model"),
         "task2-answer": _source(e08.membership_loss, "membership_scores"),
         "task3-answer": _source(e08.restrict_reverse, "restrict_output")},
        {"task1-answer": _source(e08.steal_spreading, "steal_model"),
         "task2-answer": _source(e08.membership_median, "membership_scores"),
         "task3-answer": _source(e08.restrict_labels, "restrict_output")}),
    "09-mitigations": (  # task 1 only: tasks 3 and 4 are a claim about a mitigation and a hand-graded diagnosis
        {"task1-answer": _source(e09.ignore_the_filter, "adaptive_attack")},
        {"task1-answer": _source(e09.hand_bpda, "adaptive_attack")}),
}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", list(BATCHES))
def test_a_private_seed_batch_gives_cheap_answers_nothing_and_alternatives_full_marks(tmp_path, assignment):
    require("bwrap")
    cheap, alternative = BATCHES[assignment]
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_typed(assignment, cheap), subs / "carl.ipynb")
    nbformat.write(_typed(assignment, alternative), subs / "alma.ipynb")
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    summary = cohort.grade(assignment, subs, course_dir=course_dir, seed=PRIVATE_SEED, progress=False)
    got = {r.student: r for r in summary.graded}
    earned = {g: t for g, t in got["carl"].tests.items() if t["passed"]}
    assert not earned, f"{assignment}: cheap answers earned points on {sorted(earned)}"
    # the alternative learner typed answers for the tasks listed; task 2 of 07 is left blank on purpose
    typed = {g.replace("-answer", "") for g in alternative}
    lost = {g: t["messages"][-1] for g, t in got["alma"].tests.items()
            if not t["passed"] and any(g.startswith(p + "-") for p in typed)}
    assert not lost, f"{assignment}: the alternative answers lost points: {lost}"
