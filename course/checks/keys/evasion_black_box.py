"""The answer key of exercise 04, task 3: the multiple-choice items on secrecy."""
from __future__ import annotations

# The multiple-choice items of task 3: key, and why each wrong option is wrong.
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
    ),
    "needed": (
        "d",
        {
            "a": "no attack here used the target's gradients: the forest has none, and the others were never opened",
            "b": "the attacker trained on their own images, disjoint from the target's training data",
            "c": "the attacker did not know the target's family: the same attack worked on several",
        },
    ),
    "evidence": (
        "b",
        {
            "a": "accuracy is measured without an adversary (M7); it says nothing about inputs chosen to fool the model",
            "c": "obscurity is not a measurement: an attacker's cost is, and a curve of robust accuracy under an "
                 "adaptive (transfer or query) attacker",
            "d": "a model that is never attacked in testing will still be attacked in production (ATLAS AML.CS0008)",
        },
    ),
}
