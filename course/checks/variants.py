"""Scenario variants of the value tasks (classifications, multiple choice): a bank, and the release's choice.

A value task's answer is a fixed key, so a public answer key would be a public answer. Each such item comes in
several variants (its slot: one item of the task; its variants: other scenarios that test the same idea, with
other answers). The release shows one variant per slot, chosen from the release seed: the public release (seed
`PUBLIC_SEED`) shows the first variant of every slot, the one the public solution answers; `course release --seed
R --out DIR` shows, in every slot, one of the other variants, so a cohort's keys are not in any public notebook.

The learner answers with the ids printed in their notebook. A check grades the answer against the keys of the
variants released (grader-side, in `course.checks.keys`), and requires the answer to name exactly those: the
release seed is $COURSE_RELEASE_SEED (a private release sets it in its setup cell; `course grade --release-seed
R` sets it for the grader), else the public seed. Swapping in the public ids and the public answers scores
nothing on a private release.
"""
from __future__ import annotations

import hashlib
import importlib
import os

import numpy as np

PUBLIC_SEED = 0
RELEASE_SEED_VARIABLE = "COURSE_RELEASE_SEED"


def release_seed() -> int:
    """The seed of the release being checked: $COURSE_RELEASE_SEED, else the public one.

    Not a secret (it picks which items a notebook shows, not their answers): a private release sets it in its
    setup cell, and `course grade --release-seed R` sets it for the grader.
    """
    raw = os.environ.get(RELEASE_SEED_VARIABLE, "").strip()
    if not raw:
        return PUBLIC_SEED
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{RELEASE_SEED_VARIABLE} must be an integer; got {raw!r}") from None


def choose(bank: dict, seed: int, salt: str) -> dict:
    """One variant id per slot of `bank` ({slot: (variant id, ...)}): the first at the public seed, else another."""
    if seed == PUBLIC_SEED:
        return {slot: ids[0] for slot, ids in bank.items()}
    chosen = {}
    for slot, ids in bank.items():
        digest = hashlib.sha256(f"{seed}:{salt}:{slot}".encode()).hexdigest()
        others = ids[1:] or ids
        chosen[slot] = others[int(np.random.default_rng(int(digest[:8], 16)).integers(len(others)))]
    return chosen


def slot_of(bank: dict) -> dict:
    """{variant id: slot} of a bank."""
    return {v: slot for slot, ids in bank.items() for v in ids}


def selection(chk, given_ids, bank: dict, salt: str, what: str) -> dict:
    """The released variants ({slot: id}); fails unless the answer names exactly those."""
    released = choose(bank, release_seed(), salt)
    want, given = set(released.values()), {str(i) for i in given_ids}
    other = sorted(given - want)
    chk.require(not other and given == want, expected=f"{what}: an answer for each item printed in your notebook, "
                f"under its id ({', '.join(sorted(want)[:12])}{' ...' if len(want) > 12 else ''})",
                seen="; ".join(filter(None, [other and f"other ids {other[:6]}",
                                             want - given and f"{len(want - given)} item(s) missing"])),
                why="each answer is graded against the item of your notebook that it names (an instructor grades a "
                    "private release with `course grade --release-seed R`)")
    return released


def render(assignment: str, seed: int) -> dict:
    """The released text of an assignment's variant cells at a release seed: {grade_id: text} ({} if none).

    The check module of the assignment defines `render(seed)`; the release replaces each public text by it.
    """
    from course import checks

    for t in checks.tasks_of(assignment):
        module = importlib.import_module(t.fn.__module__)
        if hasattr(module, "render"):
            return module.render(seed)
    return {}
