"""Answer keys and reference implementations: the grader's side only.

Checks (`course.checks.*`) import what they judge against from here. Nothing else may: the
lessons and exercises never import it (a test reads every notebook), the science and ground
layers cannot (the layer contract), and `course grade`'s sandbox does not mount this folder
(bubblewrap puts an empty tmpfs over it), so a learner's code running there cannot read a key.
A self-studying learner has the public solutions anyway: this protects cohorts, whose hidden
data come from the instructor's private grading seed.
"""
