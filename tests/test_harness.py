"""Tests of the evaluation harness in course.science.evaluation: it attacks any model through its public
interface only, respects the threat model, and its masking checks fire on masked gradients."""
from __future__ import annotations

import numpy as np
import pytest

from course.ground import threat
from course.science import attacks, datasets, defences, evaluation, models
from course.science.attacks.base import margin_weights

THREAT = evaluation.ThreatModel(budget=0.1, norm="linf", budgets=(0, 0.05, 0.1, 0.2), bounds=(0, 1), query_budget=300,
                       pool_queries=600)


@pytest.fixture(scope="module")
def data():
    d = datasets.load_digits()
    rng = np.random.default_rng(1)
    idx = rng.permutation(len(d.y))
    return d.X[idx[:900]], d.y[idx[:900]], d.X[idx[900:1020]], d.y[idx[900:1020]]


@pytest.fixture(scope="module")
def logistic(data):
    Xtr, ytr, _, _ = data
    return models.fit("logistic", Xtr, ytr)


@pytest.fixture(scope="module")
def report(logistic, data):
    _, _, X, y = data
    return evaluation.evaluate_defence(logistic, X, y, THREAT, progress=False)


class PredictOnly:
    """A model the harness has never seen: labels only, no classes_, nothing else."""

    def __init__(self, model):
        self._m = model

    def predict(self, X):
        return self._m.predict(X)


class Shattered:
    """Gradient masking on purpose: honest scores of a squeezed input, and the honest (zero)
    gradient of the rounding. A gradient attack finds nothing; the defence is not robust."""

    def __init__(self, model):
        self._m = model
        self.classes_ = model.classes_

    def _squeeze(self, X):
        return np.round(np.asarray(X) * 3) / 3

    def predict(self, X):
        return self._m.predict(self._squeeze(X))

    def decision_function(self, X):
        return self._m.decision_function(self._squeeze(X))

    def input_gradient(self, X, W):
        return np.zeros_like(np.asarray(X, dtype=float))


def test_threat_model_budgets_always_include_zero_and_the_budget():
    t = evaluation.ThreatModel(budget=0.3, budgets=(0.1, 0.5))
    assert list(t.curve_budgets()) == [0.0, 0.1, 0.3, 0.5]
    assert list(evaluation.ThreatModel(budget=0.2).curve_budgets()) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])


def test_report_is_consistent(report, logistic, data):
    _, _, X, y = data
    assert report.access["gradient"] and report.access["scores"] and not report.access["preprocessing"]
    assert report.clean_accuracy == pytest.approx(evaluation.accuracy(logistic, X, y))
    assert report.worst.accuracy[0] == pytest.approx(report.clean_accuracy)
    assert np.all(np.diff(report.worst.accuracy) <= 1e-12)
    for name, acc in report.robust.items():
        assert report.worst_case <= acc + 1e-12, name
    assert report.worst_case < report.clean_accuracy - 0.1
    assert {"white-box PGD", "one-step (FGSM)", "transfer from surrogate", "query-based (scores)", "random noise"} <= set(report.robust)
    assert report.unbounded_success == pytest.approx(1.0)
    assert not report.warnings()
    assert "WORST CASE" in report.summary()


def test_worst_case_examples_respect_the_threat_model_and_reproduce_the_number(report, logistic, data):
    _, _, X, y = data
    for b, Xa in report.examples.items():
        assert np.abs(Xa - X).max() <= b + 1e-9
        assert Xa.min() >= 0 and Xa.max() <= 1
    assert evaluation.accuracy_under_attack(logistic, report.examples[0.1], y) == pytest.approx(report.worst_case)


def test_opaque_model_is_attacked_with_transfer_and_queries_within_the_query_budget(logistic, data):
    _, _, X, y = data
    r = evaluation.evaluate_defence(PredictOnly(logistic), X, y, THREAT, mode="attacker", progress=False)
    assert set(r.robust) == {"transfer from surrogate", "query-based (labels)", "random noise"}
    assert r.queries["query-based (labels)"] <= THREAT.query_budget
    assert r.worst_case < r.clean_accuracy - 0.1
    assert r.checks[0].status == "n/a"


def test_masking_checks_fire_on_shattered_gradients(logistic, data):
    _, _, X, y = data
    r = evaluation.evaluate_defence(Shattered(logistic), X, y, THREAT, progress=False)
    assert r.robust["white-box PGD"] > r.worst_case + 0.05  # the gradient attack is blind...
    signs = {c.sign: c.status for c in r.checks}
    assert signs["black-box beats white-box"] == "WARNING"  # ...and the checklist says so
    assert signs["unbounded attack below 100% success"] == "WARNING"
    checks = evaluation.masking_checklist(Shattered(logistic), X, y, THREAT, progress=False, attacks=("white-box", "random"))
    assert any(c.warning for c in checks)


def test_self_reported_gradients_can_be_ignored(logistic, data):
    _, _, X, y = data
    r = evaluation.evaluate_defence(Shattered(logistic), X, y, THREAT, use_model_gradients=False, progress=False, unbounded=False)
    assert not r.access["gradient"]
    assert not any(n.startswith("white-box") for n in r.robust)


def test_preprocessing_hook_is_attacked_straight_through(data):
    Xtr, ytr, X, y = data
    clf = models.fit("logistic", np.round(Xtr * 7) / 7, ytr)
    sq = defences.squeeze(clf, bits=3)
    r = evaluation.evaluate_defence(sq, X, y, THREAT, progress=False, attacks=("bpda", "random"))
    assert r.access["preprocessing"]
    assert r.robust["PGD through preprocessing (BPDA)"] < r.clean_accuracy - 0.2


def test_lying_preprocessing_hook_is_ignored(logistic, data):
    _, _, X, y = data

    class Liar(PredictOnly):
        classifier = logistic

        def preprocess(self, X):
            return np.zeros_like(X)  # not what predict does

    r = evaluation.evaluate_defence(Liar(logistic), X, y, THREAT, progress=False, attacks=("bpda", "random"), unbounded=False)
    assert not r.access["preprocessing"]
    assert any("hook ignored" in n for n in r.notes)


def test_randomised_model_gets_expectation_over_transformation(logistic, data):
    _, _, X, y = data
    rn = defences.RandomNoise(logistic, sigma=0.15)
    r = evaluation.evaluate_defence(rn, X[:60], y[:60], THREAT, progress=False, attacks=("bpda",), repeats=4, eot_samples=4,
                           steps=15, unbounded=False)
    assert r.randomised
    assert "PGD through preprocessing (BPDA + EOT)" in r.robust


def test_abstentions_count_as_defended_and_as_a_clean_cost(data):
    Xtr, ytr, X, y = data
    mlp = models.fit("mlp", Xtr, ytr, hidden=(32,), max_iter=300)
    hr = defences.HumanReview(mlp, threshold=0.999)
    r = evaluation.evaluate_defence(hr, X, y, THREAT, progress=False, attacks=("white-box",), unbounded=False)
    assert r.clean_abstain_rate == pytest.approx(hr.abstain_rate(X))
    assert r.clean_accuracy == pytest.approx(np.mean(hr.predict(X) == y))
    assert r.worst.accuracy[0] == pytest.approx(np.mean((hr.predict(X) == y) | (hr.predict(X) == threat.ABSTAIN)))


def test_changeable_features_and_l2_norm_are_respected(logistic, data):
    _, _, X, y = data
    mask = np.zeros(64, bool)
    mask[20:44] = True
    t = evaluation.ThreatModel(budget=1.0, norm="l2", budgets=(0, 1.0), bounds=(0, 1), changeable=mask, query_budget=200,
                      pool_queries=300)
    r = evaluation.evaluate_defence(logistic, X, y, t, progress=False, unbounded=False)
    Xa = r.examples[1.0]
    assert np.all(Xa[:, ~mask] == X[:, ~mask])
    assert np.linalg.norm(Xa - X, axis=1).max() <= 1.0 + 1e-9


def test_string_labels_and_unknown_attacks(data):
    Xtr, ytr, X, y = data
    names = np.array(list("abcdefghij"))
    m = models.fit("logistic", Xtr, names[ytr])
    r = evaluation.evaluate_defence(m, X, names[y], THREAT, progress=False, attacks=("white-box", "random"), unbounded=False)
    assert r.worst_case < r.clean_accuracy
    with pytest.raises(ValueError):
        evaluation.evaluate_defence(m, X, names[y], THREAT, attacks=("magic",))


def test_pgd_early_stop_gives_minimal_examples(logistic, data):
    _, _, X, y = data
    full = attacks.pgd(logistic, X, y, 0.1, bounds=(0, 1))
    minimal = attacks.pgd(logistic, X, y, 0.1, bounds=(0, 1), early_stop=True)
    assert np.abs(minimal - X).max() <= 0.1 + 1e-9
    S_full = models.decision_scores(logistic, full)
    S_min = models.decision_scores(logistic, minimal)
    # the full attack pushes further past the boundary than the minimal one
    assert np.mean(np.sort(S_full, 1)[:, -1] - S_full[np.arange(len(y)), np.searchsorted(logistic.classes_, y)]) > \
        np.mean(np.sort(S_min, 1)[:, -1] - S_min[np.arange(len(y)), np.searchsorted(logistic.classes_, y)])
    with pytest.raises(TypeError):
        attacks.pgd(PredictOnly(logistic), X, y, 0.1)


def test_margin_weights_cross_first_then_escape_abstention():
    cls = np.array([0, 1, threat.ABSTAIN])
    valid = cls != threat.ABSTAIN
    S = np.array([[2.0, 1.0, 0.0],   # true class 0 leads: push 1 over 0
                  [1.0, 2.0, 5.0]])  # crossed to 1 but abstained on: push 1 over ABSTAIN
    W, m = margin_weights(S, cls, np.array([0, 0]), valid)
    assert np.array_equal(W, [[-1, 1, 0], [0, 1, -1]])
    assert np.allclose(m, [-1.0, -3.0])


def test_security_curve_is_still_there(logistic, data):
    _, _, X, y = data
    c = evaluation.security_curve(logistic, X[:3], y[:3], [0, 0.5], norm="linf", bounds=(0, 1), progress=False)
    assert c.at(0) == pytest.approx(evaluation.accuracy(logistic, X[:3], y[:3]))


def test_minus_one_is_an_ordinary_class_when_it_is_a_label(data):
    Xtr, ytr, X, y = data
    signs = np.where(ytr >= 5, 1, -1)
    m = models.fit("logistic", Xtr, signs)
    r = evaluation.evaluate_defence(m, X, np.where(y >= 5, 1, -1), THREAT, progress=False, attacks=("white-box",), unbounded=False)
    assert r.clean_abstain_rate == 0
    assert r.worst_case < r.clean_accuracy - 0.3  # predictions of -1 are errors here, not abstentions


def test_a_model_that_writes_into_its_input_does_not_corrupt_the_evaluation(logistic, data):
    _, _, X, y = data

    class Scribbler(PredictOnly):
        def predict(self, X):
            out = self._m.predict(X)
            X[:] = 0.0  # a badly behaved model
            return out.reshape(-1, 1)  # and a column instead of a vector

    X_keep = X.copy()
    r = evaluation.evaluate_defence(Scribbler(logistic), X, y, THREAT, progress=False, attacks=("random",), unbounded=False)
    assert np.array_equal(X, X_keep)
    assert r.clean_accuracy == pytest.approx(evaluation.accuracy(logistic, X, y))


# --------------------------------------------------------------------------- owner mode, escalation (issue 12)
class History(PredictOnly):
    """A stateful defence: a query it has seen before is answered ABSTAIN."""

    def __init__(self, model):
        super().__init__(model)
        self.seen = set()

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        keys = [row.tobytes() for row in X]
        out = np.where([k in self.seen for k in keys], evaluation.ABSTAIN, self._m.predict(X))
        self.seen.update(keys)
        return out


class Gate(PredictOnly):
    """An abstaining detector that offers its rule's score (rejection_score > 0: ABSTAIN) and probabilities."""

    classes_ = np.arange(10)

    def rejection_score(self, X):
        return np.asarray(X, dtype=float)[:, 0] - 0.5  # rejects images whose first pixel is bright

    def predict_proba(self, X):
        return self._m.predict_proba(X)

    def predict(self, X):
        return np.where(self.rejection_score(X) > 0, evaluation.ABSTAIN, self._m.predict(X))


def test_mode_must_be_owner_or_attacker(logistic, data):
    _, _, X, y = data
    with pytest.raises(ValueError, match="mode"):
        evaluation.evaluate_defence(logistic, X, y, THREAT, mode="insider")


def test_owner_mode_attacks_a_label_only_model_with_a_boundary_search(logistic, data):
    _, _, X, y = data
    r = evaluation.evaluate_defence(PredictOnly(logistic), X[:60], y[:60], THREAT, unbounded=False, progress=False)
    assert r.mode == "owner" and "boundary search (labels only)" in r.robust
    assert r.robust["boundary search (labels only)"] < r.clean_accuracy - 0.3
    assert np.abs(r.examples[0.1] - X[:60]).max() <= 0.1 + 1e-9


def test_a_stateful_model_is_judged_on_fresh_copies(logistic, data):
    _, _, X, y = data
    r = evaluation.evaluate_defence(History(logistic), X[:60], y[:60], THREAT, mode="attacker", unbounded=False,
                                    progress=False)
    assert r.stateful and not r.randomised
    assert r.clean_abstain_rate == 0  # the points are scored as a first contact, not against the history
    assert r.worst_case == pytest.approx(evaluation.accuracy_under_attack(logistic, r.examples[0.1], y[:60]))


def test_a_rejection_score_becomes_an_abstain_column(logistic, data):
    _, _, X, y = data
    r = evaluation.evaluate_defence(Gate(logistic), X[:60], y[:60], THREAT, attacks=("white-box", "random"),
                                    unbounded=False, escalate=False, progress=False)
    assert r.access["rejection score"] and r.access["scores"]
    assert "PGD, finite-difference gradients" in r.robust
    p = Gate(logistic).predict(r.examples[0.1])
    assert np.mean((p != y[:60]) & (p != evaluation.ABSTAIN)) == pytest.approx(1 - r.worst_case)


def test_a_warning_sign_escalates_and_both_figures_are_reported(logistic, data):
    _, _, X, y = data
    r = evaluation.evaluate_defence(Shattered(logistic), X[:60], y[:60], THREAT, progress=False)
    esc = r.escalation
    assert "black-box beats white-box" in esc["reasons"]
    assert esc["after"] <= esc["before"] and r.worst_case == pytest.approx(esc["after"])
    assert "boundary search (labels only)" in esc["attacks"]
    assert "escalation (because: " in r.summary()
    quiet = evaluation.evaluate_defence(Shattered(logistic), X[:60], y[:60], THREAT, escalate=False, progress=False)
    assert not quiet.escalation


def test_owner_mode_attacks_the_members_of_a_hard_vote(data):
    from sklearn.ensemble import VotingClassifier
    from sklearn.tree import DecisionTreeClassifier

    Xtr, ytr, X, y = data
    vote = VotingClassifier([("logistic", models.fit("logistic", Xtr, ytr)), ("tree", DecisionTreeClassifier(max_depth=8)),
                             ("mlp", models.fit("mlp", Xtr, ytr, hidden=(32,)))], voting="hard").fit(Xtr, ytr)
    r = evaluation.evaluate_defence(vote, X[:60], y[:60], THREAT, attacks=("white-box",), unbounded=False,
                                    progress=False)
    assert r.access["members"] and "white-box PGD on the members" in r.robust
    assert r.worst_case < r.clean_accuracy - 0.3
