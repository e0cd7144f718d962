"""The reference measurements that exercise predictions are compared with (not collected by pytest).

    .venv/bin/python tests/measure_predictions.py            # print MEASURED
    .venv/bin/python tests/measure_predictions.py --write    # and rewrite course/checks/keys/predictions.py

Each exercise's prompt (`course.checks.predictions.PROMPTS`) asks for one quantity; `measure(assignment)`
computes it from the course's own code at the public seed (the setting of the exercise's notebook, the
computation its solution or its check does), and says where it comes from. tests/test_predictions.py checks
that the recorded figures still equal what this measures. About a minute on one core.
"""
from __future__ import annotations

import json
import pathlib
import sys
import textwrap

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
KEYS = ROOT / "course" / "checks" / "keys" / "predictions.py"


def ml_recap():
    """01: accuracy of the exercise's linear fraud model when every test point may move by L2 1.0."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from course.science import datasets

    fraud = datasets.make_fraud(n_samples=20000, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(fraud.X, fraud.y, test_size=0.4, stratify=fraud.y,
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    Z_train, Z_test = scaler.transform(X_train), scaler.transform(X_test)
    lin = LogisticRegression(max_iter=1000, class_weight="balanced").fit(Z_train, y_train)
    w, b = lin.coef_.ravel(), float(lin.intercept_[0])
    score = Z_test @ w + b
    right = (score > 0).astype(int) == y_test
    # the best attack within the budget (the check's reference): a correct point falls iff it lies within eps
    value = float(np.mean(right & (np.abs(score) / np.linalg.norm(w) > 1.0)))
    return value, ("robust accuracy at L2 budget 1.0 (standardised features) of the balanced logistic regression of "
                   "task 4's demo, make_fraud(20000, random_state=0), 40% test split seed 0; the optimal attack "
                   "(a point falls iff its distance to the boundary is within the budget), as check 01/evade-linear")


def threat_modelling():
    """02: share of the public AML threats that the classic controls of the prompt stop (the answer key)."""
    from course.checks.keys.threat_modelling import THREAT_VARIANTS

    classic = {"access_control", "encryption", "patching", "rate_limit"}
    aml = [t for t in (f"T{i}" for i in range(1, 11)) if THREAT_VARIANTS[t]["kind"] == "aml"]
    value = float(np.mean([bool(THREAT_VARIANTS[t]["stops"] & classic) for t in aml]))
    return value, (f"answer key of 02/control-stops (course.checks.keys.threat_modelling, public variants): "
                   f"{len(aml)} AML threats, share stopped by access_control, encryption, patching or rate_limit")


def evasion_white_box():
    """03: accuracy of the 3-vs-8 logistic regression under the course's PGD, L-inf 0.15, pixels in [0, 1]."""
    from sklearn.model_selection import train_test_split

    from course.science import attacks, datasets, evaluation, models

    digits = datasets.load_digits()
    pair = np.isin(digits.y, [3, 8])
    X, y = digits.X[pair], (digits.y[pair] == 8).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=80, stratify=y, random_state=0)
    model = models.fit("logistic", X_train, y_train)
    X_adv = attacks.evade(model, X_test, y_test, 0.15, norm="linf", bounds=digits.bounds, method="pgd", progress=False)
    value = float(evaluation.accuracy(model, X_adv, y_test))
    return value, ("attacks.evade(method='pgd', norm='linf', eps=0.15, bounds [0, 1]) on the 80 test images of "
                   "exercise 03's 3-vs-8 logistic regression (split seed 0), as task 2's demo")


def evasion_black_box():
    """04: share of 60 digits the practice target misreads after a transfer attack (L2 1.5, no query)."""
    from course.science import attacks, datasets, models, services

    digits = datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(digits.y))
    X_own, y_own = digits.X[order[700:1400]], digits.y[order[700:1400]]
    X, y = digits.X[order[1400:1460]], digits.y[order[1400:1460]]
    practice = services.secret_model(digits.X[order[:700]], digits.y[order[:700]], random_state=0)
    surrogate = models.fit("logistic", X_own, y_own)
    X_adv = attacks.evade(surrogate, X, y, 1.5, norm="l2", bounds=(0.0, 1.0), method="pgd", progress=False)
    value = float(np.mean(practice.predict(X_adv) != y))
    return value, ("share of exercise 04's 60 images misread by the practice target services.secret_model(seed 0) "
                   "after the solution's transfer attack: a logistic surrogate on the learner's 700 images, "
                   "attacks.evade(pgd, L2 1.5, [0, 1]), no query to the target")


def _solution_cells(assignment, *grade_ids):
    """The source of a solution notebook's cells, by grade id, with the nbgrader markers dropped."""
    nb = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    by_id = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): "".join(c["source"]) for c in nb["cells"]}
    return "\n".join(by_id[g] for g in grade_ids)


def semi_automated_fraud():
    """05: share of stolen cards whose purchase the solution's script gets approved (10 queries a card, block at 3)."""
    import contextlib
    import io

    from course.science import services

    ns: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(_solution_cells("05-semi-automated-fraud", "setup", "task1-answer"), ns)  # noqa: S102 - our own notebook
    bank_model, threshold, X_wish, fraud = ns["bank_model"], ns["threshold"], ns["X_wish"], ns["fraud"]
    gateway = services.CardGateway(bank_model, threshold, X_wish, fraud.constraints,
                                   max_queries=10 * len(X_wish), block_after=3)
    X_final = ns["make_it_pass"](gateway, X_wish, fraud.constraints, fraud.feature_names)
    approved = (bank_model.predict_proba(X_final)[:, 1] < threshold) & ~gateway.blocked
    return float(approved.mean()), (
        "exercise 05's solution make_it_pass (run from solutions/05) against services.CardGateway(10 queries a card "
        "on average, block_after=3) on the 500 stolen cards of make_fraud(2000, fraud_rate=0.25, random_state=1); "
        "bank: forest on make_fraud(20000, random_state=0), threshold at 2% of legitimate validation traffic")


def poisoning():
    """06: the smallest share of the 300 labels whose flip makes the SVM misclassify a chosen input (median of 5)."""
    from course.science.poisoning import flip_case, flip_svm

    X_tr, y_tr, _, _, targets, _, clean = flip_case(0)
    shares = []
    for x in targets:
        predicted = clean.predict(x[None, :])[0]
        same = np.flatnonzero(y_tr == predicted)
        nearest = same[np.argsort(np.linalg.norm(X_tr[same] - x, axis=1))]
        k = 0  # the fewest of the nearest labels of its predicted class whose flip changes the target's label
        while k < len(nearest):
            k += 1
            y_bad = y_tr.copy()
            y_bad[nearest[:k]] = 1 - y_bad[nearest[:k]]
            if flip_svm().fit(X_tr, y_bad).predict(x[None, :])[0] != predicted:
                break
        shares.append(k / len(y_tr))
    return float(np.median(shares)), (
        "median over the 5 targets of poisoning.flip_case(0) of the fewest labels (of 300) whose flip makes "
        "poisoning.flip_svm() misclassify the target, flipping the nearest labels of its class first "
        "(task 1's solution strategy, counted one by one)")


def backdoors():
    """07: accuracy of the backdoored vendor's model on the learner's own images with the trigger stamped."""
    from course.science import supply_chain as sc

    vendor = sc.make_vendor(backdoored=True, trigger="patch", location=(6, 6), target=7, random_state=5)
    X, y = vendor.X_yours, vendor.y_yours
    value = float(np.mean(vendor.model.predict(sc.stamp(X, (6, 6))) == y))
    return value, ("exercise 07's vendor: supply_chain.make_vendor(backdoored=True, patch at (6, 6), target 7, "
                   "random_state=5); accuracy on X_yours stamped with supply_chain.stamp(X, (6, 6))")


def confidentiality():
    """08: fidelity of a copy stolen with 40 label queries (QUERY_BUDGET), as check 08/steal builds its service at the public seed."""
    from threadpoolctl import threadpool_limits

    from course.checks import confidentiality
    from course.science import defences, privacy, services

    with threadpool_limits(limits=1):
        s = defences.digits_setting(random_state=0)
        target = services.make_secret_model(s.X_train, s.y_train, 0)
        service = services.PredictionAPI(target, output="label", max_queries=confidentiality.QUERY_BUDGET)
        X_q = s.X_attacker[:confidentiality.QUERY_BUDGET]
        copy = privacy.steal(service.predict(X_q), X_q, use="labels")
        value = float(privacy.fidelity(copy, target, s.X))
    return value, ("check 08/steal's service at seed 0 (services.make_secret_model on digits_setting(0)), copied "
                   f"by privacy.steal(use='labels') from {confidentiality.QUERY_BUDGET} label queries of the "
                   f"attacker's first images (no query strategy); fidelity on the {len(s.y)} images the copy never saw")


def mitigations():
    """09: the handed (median-filter) model's accuracy under the adaptive harness, L-inf 0.1, 200 images."""
    from threadpoolctl import threadpool_limits

    from course.science import defences
    from course.science.evaluation import ThreatModel, evaluate_defence

    with threadpool_limits(limits=1):
        s = defences.digits_setting()
        defended = defences.handed_model(s)
        threat = ThreatModel(budget=0.1, norm="linf", budgets=(0, 0.1), bounds=(0, 1), query_budget=1000)
        report = evaluate_defence(defended, s.X, s.y, threat, unbounded=False, progress=False)
    return float(report.worst_case), ("evaluate_defence (the course harness, as the solution's adaptive_attack) on "
                                      "defences.handed_model(digits_setting()), L-inf 0.1 in [0, 1], 1000 queries, "
                                      "the 200 test images: worst case")


MEASURES = {
    "01-ml-recap": ml_recap,
    "02-threat-modelling": threat_modelling,
    "03-evasion-white-box": evasion_white_box,
    "04-evasion-black-box": evasion_black_box,
    "05-semi-automated-fraud": semi_automated_fraud,
    "06-poisoning": poisoning,
    "07-backdoors-supply-chain": backdoors,
    "08-confidentiality": confidentiality,
    "09-mitigations": mitigations,
}


def measure(assignment: str) -> tuple:
    value, source = MEASURES[assignment]()
    return round(value, 4), source


def render(measured: dict) -> str:
    head = KEYS.read_text().split("MEASURED = {")[0]
    body = ""
    for assignment, (value, source) in measured.items():
        lines = textwrap.wrap(source, 100, drop_whitespace=False)
        body += f"    {assignment!r}: ({value!r}, (\n" + "".join(f"        {line!r}\n" for line in lines) + "    )),\n"
    return f"{head}MEASURED = {{\n{body}}}\n"


if __name__ == "__main__":
    import time

    results = {}
    for name in MEASURES:
        start = time.perf_counter()
        results[name] = measure(name)
        print(f"{name}: {results[name][0]:.4f}  ({time.perf_counter() - start:.1f} s)  {results[name][1]}", flush=True)
    if "--write" in sys.argv:
        KEYS.write_text(render(results))
        print(f"wrote {KEYS.relative_to(ROOT)}")
