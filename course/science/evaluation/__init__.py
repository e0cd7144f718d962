"""How robustness is measured and reported.

- `metrics`: accuracy, robust accuracy, the security evaluation curve (Biggio & Roli 2018).
- `harness`: `evaluate_defence`, the adaptive evaluation any model can be pointed at, its
  `DefenceReport` and the gradient-masking checklist (Athalye, Carlini & Wagner 2018).

    from course.science.evaluation import ThreatModel, evaluate_defence
    report = evaluate_defence(model, X, y, ThreatModel(budget=0.1, norm="linf", bounds=(0, 1)))
"""
from course.ground.threat import ABSTAIN, ThreatModel
from course.science.evaluation.harness import (
    ATTACKS,
    DefenceReport,
    MaskingCheck,
    accuracy_under_attack,
    evaluate_defence,
    masking_checklist,
    replay_curve,
)
from course.science.evaluation.metrics import SecurityCurve, accuracy, robust_accuracy, security_curve

__all__ = ["ABSTAIN", "ThreatModel", "ATTACKS", "DefenceReport", "MaskingCheck", "accuracy_under_attack",
           "evaluate_defence", "masking_checklist", "replay_curve", "SecurityCurve", "accuracy", "robust_accuracy",
           "security_curve"]
