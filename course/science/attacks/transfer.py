"""Transfer attacks: train a surrogate on the target's answers, attack the surrogate, send the result.

Papernot et al. (2017) showed that adversarial examples crafted on a model the attacker
trained themselves, on labels the target returned, often fool the target too. Lesson 04
measures it; the evaluation harness uses `train_surrogates` for every opaque model.
"""
from __future__ import annotations

import numpy as np

from course.science.attacks.base import is_abstain
from course.science.models import Ensemble


def train_surrogates(X_pool, labels, random_state):
    """Surrogate models trained on the target's answers: an MLP and a logistic regression, soft-voted."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    keep = ~is_abstain(labels)
    Xp, yp = X_pool[keep], labels[keep]
    if len(np.unique(yp)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(64,), solver="lbfgs", alpha=1e-3, max_iter=150,
                            random_state=random_state).fit(Xp, yp)
        lin = make_pipeline(StandardScaler(), LogisticRegression(C=10.0, max_iter=2000)).fit(Xp, yp)
    return Ensemble([mlp, lin])
