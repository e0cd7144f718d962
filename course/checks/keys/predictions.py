"""The measurements that exercise predictions are compared with in the cohort report (grader's side only).

assignment -> (measured value, where it comes from). Exercise 00's prediction is compared with each
learner's own score, so it has no entry. An exercise without an entry shows the cohort's predictions alone
until its reference run is recorded here (after a change to the exercise, re-measure:
`.venv/bin/python tests/measure_predictions.py --write`; tests/test_predictions.py checks for drift).
"""
from __future__ import annotations

MEASURED = {
    '01-ml-recap': (0.618, (
        'robust accuracy at L2 budget 1.0 (standardised features) of the balanced logistic regression of task'
        " 4's demo, make_fraud(20000, random_state=0), 40% test split seed 0; the optimal attack (a point "
        'falls iff its distance to the boundary is within the budget), as check 01/evade-linear'
    )),
    '02-threat-modelling': (0.0, (
        'answer key of 02/control-stops (course.checks.keys.threat_modelling, public variants): 6 AML '
        'threats, share stopped by access_control, encryption, patching or rate_limit'
    )),
    '03-evasion-white-box': (0.6125, (
        "attacks.evade(method='pgd', norm='linf', eps=0.15, bounds [0, 1]) on the 80 test images of exercise "
        "03's 3-vs-8 logistic regression (split seed 0), as task 2's demo"
    )),
    '04-evasion-black-box': (0.75, (
        "share of exercise 04's 60 images misread by the practice target services.secret_model(seed 0) after "
        "the solution's transfer attack: a logistic surrogate on the learner's 700 images, attacks.evade(pgd,"
        ' L2 1.5, [0, 1]), no query to the target'
    )),
    '05-semi-automated-fraud': (0.572, (
        "exercise 05's solution make_it_pass (run from solutions/05) against services.CardGateway(10 queries "
        'a card on average, block_after=3) on the 500 stolen cards of make_fraud(2000, fraud_rate=0.25, '
        'random_state=1); bank: forest on make_fraud(20000, random_state=0), threshold at 2% of legitimate '
        'validation traffic'
    )),
    '06-poisoning': (0.0233, (
        'median over the 5 targets of poisoning.flip_case(0) of the fewest labels (of 300) whose flip makes '
        'poisoning.flip_svm() misclassify the target, flipping the nearest labels of its class first (task '
        "1's solution strategy, counted one by one)"
    )),
    '07-backdoors-supply-chain': (0.1307, (
        "exercise 07's vendor: supply_chain.make_vendor(backdoored=True, patch at (6, 6), target 7, "
        'random_state=5); accuracy on X_yours stamped with supply_chain.stamp(X, (6, 6))'
    )),
    '08-confidentiality': (0.795, (
        "check 08/steal's service at seed 0 (services.make_secret_model on digits_setting(0)), copied by "
        "privacy.steal(use='labels') from 40 label queries of the attacker's first images (no query "
        'strategy); fidelity on the 200 images the copy never saw'
    )),
    '09-mitigations': (0.14, (
        "evaluate_defence (the course harness, as the solution's adaptive_attack) on "
        'defences.handed_model(digits_setting()), L-inf 0.1 in [0, 1], 1000 queries, the 200 test images: '
        'worst case'
    )),
}
