"""Attacks, with the threat model explicit: numpy in, numpy out.

- `gradient`: white-box attacks. `evade` runs secml's PGD with line search (PGD-LS, the
  course's library attack) or PGD; `pgd` and `fgsm` are the course's own batched PGD and
  one-step attack on the margin loss of any model with a gradient (abstentions, BPDA and EOT
  included), used by the evaluation harness.
- `query`: black-box attacks through a counted `PredictionAPI`: `score_attack`,
  `boundary_attack`, `probe_fraud` (lesson 05), `nes_attack`; and `evasion_rate`,
  `success_by_queries` to measure them.
- `transfer`: surrogates trained on a target's answers (`train_surrogates`).
- `base`: what every attack shares (the margin, what counts as evaded, steps in a norm).

    from course.science import attacks
    X_adv = attacks.evade(model, X, y, budget=1.0, norm="l2", bounds=(0, 1))

`project` and `perturbation_norm` (the threat model's constraint set) come from
`course.ground.threat` and are re-exported here.
"""
from course.ground.threat import NORMS, perturbation_norm, project
from course.science.attacks.gradient import METHODS, evade, fgsm, pgd
from course.science.attacks.query import (
    DISGUISE,
    FraudProbeResult,
    QueryAttackResult,
    boundary_attack,
    evasion_rate,
    nes_attack,
    probe_fraud,
    respect_constraints,
    score_attack,
    success_by_queries,
)
from course.science.attacks.transfer import train_surrogates

__all__ = ["NORMS", "METHODS", "project", "perturbation_norm", "evade", "pgd", "fgsm", "score_attack",
           "boundary_attack", "probe_fraud", "nes_attack", "evasion_rate", "success_by_queries", "QueryAttackResult",
           "FraudProbeResult", "respect_constraints", "DISGUISE", "train_surrogates"]
