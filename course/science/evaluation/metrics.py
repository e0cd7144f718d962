"""How robustness is reported: accuracy next to robust accuracy, and the security evaluation curve.

A single number is never enough: `security_curve` measures accuracy under attack for a
range of budgets (Biggio & Roli, 2018), starting at budget 0, where it equals clean accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm


def accuracy(model, X, y) -> float:
    """Share of rows the model classifies correctly."""
    return float(np.mean(np.asarray(model.predict(X)) == np.asarray(y)))


def robust_accuracy(model, X, y, budget: float, **attack) -> float:
    """Accuracy on the adversarial points `course.science.attacks.evade` finds within the budget."""
    from course.science.attacks import evade

    return accuracy(model, evade(model, X, y, budget, **attack), y)


@dataclass
class SecurityCurve:
    budgets: np.ndarray
    accuracy: np.ndarray
    norm: str
    n_samples: int
    label: str = ""

    def at(self, budget: float) -> float:
        """Accuracy at one of the measured budgets."""
        i = int(np.argmin(np.abs(self.budgets - budget)))
        if not np.isclose(self.budgets[i], budget):
            raise ValueError(f"budget {budget} was not measured; measured: {list(self.budgets)}")
        return float(self.accuracy[i])


def security_curve(model, X, y, budgets, *, label: str = "", progress: bool = True, **attack) -> SecurityCurve:
    """Accuracy under attack for each budget (the first budget should be 0: clean accuracy).

    A point that is evaded at a small budget counts as evaded at every larger one, so the
    curve never rises with the budget (an optimiser that misses at a larger budget is not
    evidence of robustness).
    """
    from course.science.attacks import evade

    budgets = np.asarray(sorted(budgets), dtype=float)
    y = np.asarray(y)
    correct = np.asarray(model.predict(X)) == y
    still = correct.copy()
    accs = []
    for b in tqdm(budgets, desc="security evaluation", disable=not progress, leave=False):
        if b > 0 and still.any():
            idx = np.flatnonzero(still)
            X_adv = evade(model, X[idx], y[idx], b, progress=False, **attack)
            still[idx] = np.asarray(model.predict(X_adv)) == y[idx]
        accs.append(float(still.mean()))
    return SecurityCurve(budgets, np.asarray(accs), attack.get("norm", "l2"), len(y), label)
