"""The measurements that exercise predictions are compared with in the cohort report (grader's side only).

assignment -> (measured value, where it comes from). Exercise 00's prediction is compared with each
learner's own score, so it has no entry. An exercise without an entry shows the cohort's predictions alone
until its reference run is recorded here (after a change to the exercise, re-measure with the command named).
"""
from __future__ import annotations

MEASURED = {
}
