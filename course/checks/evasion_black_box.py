"""Checks of exercise 04 (evasion, black-box): a secret model is not a safe model (M1, M4).

Every check builds its own hidden target from the seed (`course.science.services.make_secret_model`: an RBF SVM, a
random forest or k-nearest neighbours, with settings the learner is not told), trained on digits
the learner never gets. The learner's functions receive only what the threat model gives the
attacker: their own data of the same kind, the points to attack, the budget, and (task 2) a
prediction API that counts queries.
"""
from __future__ import annotations

import numpy as np

from course.checks import call, task, variants
from course.checks.feedback import fmt
from course.checks.keys.evasion_black_box import SECRECY_BANK, SECRECY_ITEMS, no_query_baseline
from course.science import datasets, services

A = "04-evasion-black-box"
TRANSFER_BUDGET = 1.5  # L2, pixels in [0, 1]
# Over seeds 0-19 (tests/integrity/test_ex04.py): random noise of the budget's size fools 0-13% of the images, a
# logistic surrogate (the solution) 73-100%, an MLP 47-93%, a linear SVM 42-95%: surrogates of any family pass.
TRANSFER_MIN_RATE = 0.35
QUERY_BUDGET = 1.0
QUERIES_PER_POINT = 200
QUERY_MIN_RATE = 0.55
# A query attack must beat, on the same images, the transfer attacks that spend no query (logistic and MLP
# surrogates on the attacker's own images, PGD at the same budget; the better of the two): by at least
# QUERY_MIN_GAIN images. Over seeds 0-19 the solution beat the better of the two by 3 to 14 images of 60, a
# hand-written bisection attack by 1 to 12; over 30 seeds an MLP or a linear-SVM surrogate never beat the logistic
# one by more than one image, and a transfer that cannot ask which of its images worked cannot pick the per-image
# best of several surrogates (tests/integrity/test_ex04.py sweeps the seeds).
QUERY_MIN_GAIN = 1
QUERY_MIN_SPENT = 5  # label queries per image on average: evidence that the answers were asked for
QUERY_FAMILIES = ("rbf-svm", "forest")  # k-NN answers slowly and resists small L2 budgets: transfer task only
N_POINTS = 60


def _case(seed: int, n_points: int = N_POINTS, families=services.SECRET_FAMILIES):
    """Digits split three ways from the seed; a hidden target; points it reads correctly."""
    d = datasets.load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(d.y))
    secret, own, rest = order[:700], order[700:1400], order[1400:]
    model = services.make_secret_model(d.X[secret], d.y[secret], random_state=seed, families=families)  # never handed out
    right = rest[model.predict(d.X[rest]) == d.y[rest]][:n_points]
    return d, model, d.X[own], d.y[own], d.X[right], d.y[right]


def _check_points(chk, X_adv, X, budget, what):
    X_adv = np.asarray(X_adv, dtype=float) if X_adv is not None else None
    chk.require(X_adv is not None and X_adv.shape == X.shape, expected=f"{what} to return an array of shape {X.shape}",
               seen=f"{type(X_adv).__name__} of shape {getattr(X_adv, 'shape', None)}")
    chk.require(np.all(np.isfinite(X_adv)), expected="finite pixel values", seen="NaN or inf in the result")
    lo, hi = float(X_adv.min()), float(X_adv.max())
    chk.require(lo >= -1e-6 and hi <= 1 + 1e-6, expected="every pixel within [0, 1] (valid images)",
               seen=f"pixels from {lo:.3f} to {hi:.3f}",
               why="an input outside the valid range could never be sent to the real system")
    size = np.linalg.norm(X_adv - X, axis=1)
    chk.require(np.all(size <= budget + 1e-6), expected=f"every image changed by at most {budget} in L2 norm",
               seen=f"largest change {size.max():.4f} ({int(np.sum(size > budget + 1e-6))} images over the budget)",
               why="an attack that ignores its budget proves nothing: robustness is always 'under a budget'")
    return X_adv


@task(f"{A}/transfer", answer="transfer_attack", misconceptions=["M1"])
def check_transfer(transfer_attack, seed, chk):
    d, model, X_own, y_own, X, y = _case(seed)
    X_adv = call(chk, transfer_attack, X_own.copy(), y_own.copy(), X.copy(), y.copy(), TRANSFER_BUDGET,
                 what="transfer_attack")
    X_adv = _check_points(chk, X_adv, X, TRANSFER_BUDGET, "transfer_attack")
    rate = float(np.mean(model.predict(X_adv) != y))
    chk.expect(
        rate >= TRANSFER_MIN_RATE,
        expected=f"at least {TRANSFER_MIN_RATE:.0%} of the {len(y)} images misread by a hidden model you never saw "
                 f"(L2 budget {TRANSFER_BUDGET})",
        seen=f"{rate:.0%} misread",
        why="transfer from a surrogate trained on your own data of the same kind is what makes a secret model "
            "attackable; random noise of this size gets almost none",
    )
    return chk.passed(f"{rate:.0%} of the images misread by a hidden model you never saw, "
                      f"every image within L2 {TRANSFER_BUDGET}")


@task(f"{A}/query", answer="query_attack", misconceptions=["M4", "M1"])
def check_query(query_attack, seed, chk):
    d, model, X_own, y_own, X, y = _case(seed, families=QUERY_FAMILIES)
    limit = QUERIES_PER_POINT * len(y)
    target = services.PredictionAPI(model, output="label", max_queries=limit)
    X_adv = call(chk, query_attack, target, X_own.copy(), y_own.copy(), X.copy(), y.copy(), QUERY_BUDGET,
                 QUERIES_PER_POINT, what="query_attack")
    X_adv = _check_points(chk, X_adv, X, QUERY_BUDGET, "query_attack")
    chk.require(target.queries_used <= limit, expected=f"at most {limit} queries", seen=f"{target.queries_used} queries",
               why="a query budget is the attacker's cost; an attack that exceeds it did not happen")
    fooled = int(np.sum(model.predict(X_adv) != y))
    rate = fooled / len(y)
    spent = target.queries_used / len(y)
    chk.expect(
        spent >= QUERY_MIN_SPENT,
        expected=f"a query attack: at least {QUERY_MIN_SPENT} label queries per image on average, counted by the API",
        seen=f"{target.queries_used} queries for {len(y)} images",
        why="an attack that never asks the API learns nothing from it: the task measures what its answers are worth",
    )
    free = max(int(np.sum(model.predict(X_free) != y)) for X_free in no_query_baseline(X_own, y_own, X, y, QUERY_BUDGET))
    chk.expect(
        fooled >= free + QUERY_MIN_GAIN,
        expected=f"more images misread than a transfer attack that spends no query on the same {len(y)} images "
                 f"(the better of two surrogates gets {free})",
        seen=f"{fooled} misread using {spent:.0f} queries per image",
        why="queries are worth spending only where they buy what the free transfer cannot: the answers must steer "
            "the attack, not decorate it",
    )
    chk.expect(
        rate >= QUERY_MIN_RATE,
        expected=f"at least {QUERY_MIN_RATE:.0%} of the {len(y)} images misread by the hidden model "
                 f"(L2 budget {QUERY_BUDGET}, at most {QUERIES_PER_POINT} label queries per image)",
        seen=f"{rate:.0%} misread, {target.queries_used} queries used ({target.queries_used / len(y):.0f} per image)",
        why="an API that answers labels is an oracle: attacks need answers, not your model's gradients",
    )
    return chk.passed(f"{rate:.0%} misread using {target.queries_used / len(y):.0f} label queries per image "
                      f"(limit {QUERIES_PER_POINT})")


SECRECY_TEXT = """## Task 3 — What does this mean for "our model is secret"? (2 points)

Answer from your own measurements above (and the lesson's). Set `secrecy_answers` to a dict with one letter
per question."""


def render(seed: int) -> dict:
    """The released cells of task 3 for a release seed: {grade_id: source} (`course.checks.variants`)."""
    chosen = list(variants.choose(SECRECY_BANK, seed, A).values())
    text = "\n\n".join([SECRECY_TEXT] + [SECRECY_ITEMS[v][2] for v in chosen])
    blank = ", ".join(f'"{v}": "?"' for v in chosen)
    return {"task3-text": text,
            "task3-answer": f"secrecy_answers = {{{blank}}}  # put one letter in place of each \"?\""}


@task(f"{A}/secrecy", answer="secrecy_answers", kind="value", misconceptions=["M1"])
def check_secrecy(secrecy_answers, seed, chk):
    chk.require(isinstance(secrecy_answers, dict), expected="a dict {question: letter}",
               seen=f"{type(secrecy_answers).__name__}")
    chosen = variants.selection(chk, secrecy_answers, SECRECY_BANK, A, "secrecy_answers")
    for q in chosen.values():
        key, wrong, _ = SECRECY_ITEMS[q]
        chk.attempted(secrecy_answers[q] is not None and secrecy_answers[q] != "?", seen=f"{q!r}: not answered yet")
        given = str(secrecy_answers[q]).strip().lower().strip("()")
        chk.require(given in ("a", "b", "c", "d"), expected=f"{q!r}: one of 'a', 'b', 'c', 'd'", seen=fmt(secrecy_answers[q]))
        chk.expect(given == key, expected=f"{q!r}: the option your measurements support",
                   seen=f"{given!r}", why=wrong.get(given, ""))
    return chk.passed("all three answers match what the measurements show: secrecy raises the cost, it is not a mitigation")
