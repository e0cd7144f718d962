"""The answer keys of exercise 04: the no-query baseline of task 2, the multiple-choice items of task 3."""
from __future__ import annotations

from course.science import attacks, models


def no_query_baseline(X_own, y_own, X, y, budget) -> list:
    """The no-query baselines of task 2 (reference transfer attacks, so grader-side only): PGD at the budget on
    a logistic and on an MLP surrogate fitted on the attacker's own images. Without queries an attacker cannot
    tell which of them worked on which image, so the bar is the better of the two, not their union."""
    return [attacks.evade(models.fit(kind, X_own, y_own), X, y, budget, norm="l2", bounds=(0.0, 1.0), method="pgd",
                          progress=False) for kind in ("logistic", "mlp")]


# The multiple-choice items of task 3: a bank of variants per slot (`course.checks.variants`); the first variant
# of each slot is the public one. For each variant: the key, why each wrong option is wrong, and its text.
SECRECY_BANK = {
    "register": ("register", "register-2", "register-3"),
    "needed": ("needed", "needed-2", "needed-3"),
    "evidence": ("evidence", "evidence-2", "evidence-3"),
}

SECRECY_ITEMS = {
    "register": (
        "c",
        {
            "a": "the attacks in this exercise and the lesson fooled models the attacker never saw",
            "b": "transfer worked across families (a linear surrogate fooled a forest, an RBF SVM and k-NN), "
                 "and query attacks need no surrogate at all",
            "d": "the labels-only API was attacked successfully in task 2: restricting outputs changes the attack, "
                 "it does not prevent it",
        },
        """**"register"** — Your team's risk register says: *"Evasion: mitigated — the model is not public."* Which
statement do your measurements support?
- (a) The register is right: without the model, the attacks failed.
- (b) It is right only when the attacker's surrogate is of a different family from our model.
- (c) Secrecy raised the attacker's cost (their own data, or some hundred queries per input) but did not
  stop the attack: evasion is an open risk, to be measured.
- (d) It becomes right once the API returns labels only.""",
    ),
    "register-2": (
        "b",
        {
            "a": "the attack of task 2 used labels only, and no gradient of the target",
            "c": "the transfer of task 1 worked without knowing the target's family",
            "d": "the query attack of task 2 worked on forests and RBF SVMs alike",
        },
        """**"register-2"** — A product manager writes: *"Our API returns labels, never scores, so evasion is handled."*
Which statement do your measurements support?
- (a) Right: without scores an attacker needs gradients, and cannot get them.
- (b) Labels only raised the number of queries per input, but the labels-only attack of task 2 still
  succeeded: evasion is an open risk, to be measured.
- (c) Right, as long as the model's family stays secret too.
- (d) Right for a random forest, wrong for the other families.""",
    ),
    "register-3": (
        "d",
        {
            "a": "a surrogate fitted on the attacker's own few hundred images, in seconds, was enough in task 1",
            "b": "the attacker's images in task 1 were disjoint from the target's training data, and transfer worked",
            "c": "transfer sends no query at all: a rate limit only slows the query attack down",
        },
        """**"register-3"** — An auditor writes: *"Residual evasion risk: low — an attacker would first have to
build a model of their own."* Which statement do your measurements support?
- (a) Right: building a surrogate model is beyond a typical attacker.
- (b) Right only if the attacker's data are the same as ours.
- (c) Right if the API also has a rate limit.
- (d) Wrong: a surrogate on a few hundred of the attacker's own images made many of the transferred images
  misread; the cost is low, and it must be measured.""",
    ),
    "needed": (
        "d",
        {
            "a": "no attack here used the target's gradients: the forest has none, and the others were never opened",
            "b": "the attacker trained on their own images, disjoint from the target's training data",
            "c": "the attacker did not know the target's family: the same attack worked on several",
        },
        """**"needed"** — What did the attacks in this exercise need from the target?
- (a) its gradients (b) its training data (c) its model family and settings
- (d) nothing but data of the same kind, and/or answers from its API""",
    ),
    "needed-2": (
        "b",
        {
            "a": "the transfer attack of task 1 sent no query to the target",
            "c": "the attacker's images were disjoint from the target's training images",
            "d": "task 1 never saw any output of the target, scores or labels",
        },
        """**"needed-2"** — What did the transfer attack of task 1 use?
- (a) the target's predictions on the attacker's images
- (b) labelled images of the same kind as the target's, and a surrogate model of the attacker's choosing
- (c) some of the target's training images
- (d) the target's confidence scores""",
    ),
    "needed-3": (
        "a",
        {
            "b": "the API answered labels only: there were no scores to estimate gradients from",
            "c": "the boundary search asks the target itself: no surrogate of its family was needed",
            "d": "the check compared it with the free transfer on the same images, and it had to do better",
        },
        """**"needed-3"** — What made the query attack of task 2 succeed where the free transfer did not?
- (a) the target's labels on the attacker's queries, used to steer each image across the decision boundary
- (b) the target's gradients, estimated from its scores
- (c) a surrogate of the same family as the target
- (d) nothing: it did no better than the transfer""",
    ),
    "evidence": (
        "b",
        {
            "a": "accuracy is measured without an adversary (M7); it says nothing about inputs chosen to fool the model",
            "c": "obscurity is not a measurement: an attacker's cost is, and a curve of robust accuracy under an "
                 "adaptive (transfer or query) attacker",
            "d": "a model that is never attacked in testing will still be attacked in production (ATLAS AML.CS0008)",
        },
        """**"evidence"** — Which evidence would support the claim "our model is robust to evasion"?
- (a) a high test accuracy
- (b) robust accuracy measured over a range of budgets against attackers who adapt to what they can see,
  transfer and query attacks included
- (c) keeping the model's family and weights confidential
- (d) no incident reported so far""",
    ),
    "evidence-2": (
        "c",
        {
            "a": "accuracy is measured without an adversary (M7); it says nothing about inputs chosen to fool the model",
            "b": "a secret model was attacked successfully twice in this exercise: confidentiality is not a measurement",
            "d": "no reported incident is not evidence: evasion that works is rarely reported by the one who did it",
        },
        """**"evidence-2"** — A vendor claims its model is robust to evasion. Which report should you ask for?
- (a) its accuracy on a held-out test set
- (b) a statement that the model's weights are never shared
- (c) robust accuracy over a range of budgets, under transfer and query attacks that adapt to what the
  deployed API returns
- (d) the number of incidents reported last year""",
    ),
    "evidence-3": (
        "a",
        {
            "b": "a gradient attack is one attacker among several: transfer and query attacks need no gradient (M4)",
            "c": "task 2 attacked a labels-only API successfully",
            "d": "both were in place in task 2, and the attack succeeded",
        },
        """**"evidence-3"** — After the API switched to labels only, the team ran a white-box gradient attack through
it, and the attack failed. What does that show?
- (a) nothing about robustness: the attack could not use what the API returns; the attacks of this exercise
  (transfer, label queries) are the ones to run
- (b) the model is robust to gradient attacks, hence to evasion
- (c) the model is robust as long as the API stays labels-only
- (d) secrecy and labels-only together are a mitigation""",
    ),
}
