"""Checks of the prediction cells of exercises 00-09: graded for completion only, never for being right.

Each exercise opens with one prediction: before doing anything, the learner writes a number into
`my_prediction` (a share between 0 and 1, or a count, as `PROMPTS` says). The check gives its point to any
number in the stated range; it is exempt from the rule that an answer must not be cheap to give, because its
purpose is the record, not the grade. The value is exported (a "value" task), and the cohort report
(`course.grader.beliefs_report`) sets the cohort's predictions beside the measurement, per misconception,
in aggregate only: how far practitioners' intuition is off. The measurement is the learner's own score
(exercise 00) or the course's reference run (`reference`, kept with the answer keys, so a learner's kernel
cannot read it before predicting).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from course.checks import task


@dataclass(frozen=True)
class Prompt:
    """One exercise's prediction: the question, its misconception(s) and the range of a valid answer."""

    misconceptions: tuple
    question: str
    low: float = 0.0
    high: float = 1.0
    unit: str = "a share between 0 and 1"


PROMPTS = {
    "00-welcome": Prompt(("M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8"),
                         "Of the 32 statements below, how many do you expect to answer correctly?", 0, 32,
                         "a count between 0 and 32"),
    "01-ml-recap": Prompt(("M7",), "This exercise's linear fraud model is about 88% accurate on its test set. What share "
                          "of the test transactions do you expect it to still classify correctly when an attacker may "
                          "move each one by a distance of at most 1 (one standard deviation in total)?"),
    "02-threat-modelling": Prompt(("M5",), "The hospital's API needs a key, uses TLS, runs on patched servers and "
                                  "limits predictions per key. What share of the AML threats in this exercise do you "
                                  "expect those classic controls to stop?"),
    "03-evasion-white-box": Prompt(("M7",), "The model tells 3s from 8s with about 99% test accuracy. What share of "
                                   "its test images do you expect to keep the right label when an attacker who knows "
                                   "the model may change every pixel by at most 0.15?"),
    "04-evasion-black-box": Prompt(("M1",), "If an attacker cannot see your model, what share of their adversarial "
                                   "digits do you expect your model to misread?"),
    "05-semi-automated-fraud": Prompt(("M4",), "A bank's model declines about 80% of fraudulent purchases as intended, "
                                      "and the bank blocks a card after 3 declines. With what share of stolen cards do "
                                      "you expect a script, changing only what a fraudster can change, to get a "
                                      "purchase approved?"),
    "06-poisoning": Prompt(("M8",), "What share of a model's training labels do you expect an attacker must control "
                           "to make it misclassify one chosen input?"),
    "07-backdoors-supply-chain": Prompt(("M3",), "A vendor's model scores 96% on your own test images. What share "
                                        "of inputs carrying the vendor's chosen trigger do you expect it to classify "
                                        "correctly, if the vendor planted a backdoor?"),
    "08-confidentiality": Prompt(("M5",), "With 40 queries and no other access, how closely do you expect a "
                                 "customer to copy a digit reader (the share of new images on which the copy and the "
                                 "original agree)?"),
    "09-mitigations": Prompt(("M1",), "Read the team's claim below. What accuracy do you expect its model to keep "
                             "under an attacker who knows the defence?"),
}

TASK = "prediction"


def _number(value) -> bool:
    return (not isinstance(value, bool) and type(value).__name__ != "bool_" and hasattr(value, "__float__")
            and math.isfinite(float(value)))


def completion(value, prompt: Prompt, chk):
    """Expect a number in the prompt's range; a verdict that says what was wrong otherwise."""
    chk.attempted(value is not None, seen="my_prediction is still None",
                  why="replace None with your prediction: this cell is graded for completion, not for being right, "
                  "and the course compares the cohort's predictions with the measurement")
    chk.require(_number(value) and prompt.low <= float(value) <= prompt.high,
                expected=f"my_prediction as {prompt.unit}", seen=repr(value)[:80],
                why="a prediction on the record is a number the measurement can contradict; any number in the "
                "range scores the point")
    return chk.passed(f"prediction {float(value):g} recorded; it is graded for completion, not for being right")


def register(assignment: str, prompt: Prompt) -> None:
    def check_prediction(my_prediction, seed, chk, prompt=prompt):
        return completion(my_prediction, prompt, chk)

    task(f"{assignment}/{TASK}", answer="my_prediction", kind="value",
         misconceptions=prompt.misconceptions)(check_prediction)


def reference(assignment: str):
    """The course's measurement for an exercise's prediction (None when it is the learner's own, or not recorded)."""
    from course.checks.keys.predictions import MEASURED

    entry = MEASURED.get(assignment)
    return None if entry is None else entry[0]


for _assignment, _prompt in PROMPTS.items():
    register(_assignment, _prompt)
