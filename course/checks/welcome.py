"""Checks of exercise 00 (the mental-model check): graded for completion, never for being right.

Each half of the questionnaire's form (`course.science.beliefs.halves`; form A here, form B in exercise 10)
is one task: every item of the half must have an answer (True/False) and a confidence (1-4), and no key may
be unknown. The per-misconception result is shown and kept by the notebook (`beliefs.show_result`,
`beliefs.save`), not graded. Exercise 10 grades its "after" the same way with `completion(answers, ids, chk)`.
The exercise's prediction cell is checked by `course.checks.predictions`.
"""
from __future__ import annotations

from course.checks import task
from course.science import beliefs

A = "00-welcome"


def completion(answers, ids, chk):
    """Expect a complete, valid answer for every item in `ids`; a verdict naming every problem otherwise."""
    found = beliefs.problems(answers, ids)
    unanswered = [p for p in found if "not answered yet" in p]
    chk.attempted(not unanswered, seen="; ".join(unanswered),
                  why="replace each None with your answer and a confidence: this check is graded for completion, "
                  "not for being right, and an honest guess at confidence 1 scores full marks")
    chk.require(
        not found,
        expected=f"an answer (True or False) and a confidence (1-4) for each of {ids[0]} ... {ids[-1]}",
        seen="; ".join(found),
        why="this check is graded for completion, not for being right: an honest guess at confidence 1 "
        "scores full marks, and your before/after comparison at the end of the course needs every item",
    )
    return chk.passed(f"{len(ids)} items answered ({ids[0]} ... {ids[-1]}); your result is shown below, not graded")


def register_completion_tasks(assignment: str, form: str) -> None:
    """The two completion-graded halves of one form of the mental-model check (A for exercise 00, B for 10)."""
    for half, ids in beliefs.halves(form).items():

        def check_half(answers, seed, chk, ids=ids):
            return completion(answers, ids, chk)

        task(f"{assignment}/{half}-half", answer="answers", kind="value",
             misconceptions=beliefs.misconceptions_of(ids))(check_half)


register_completion_tasks(A, "A")
