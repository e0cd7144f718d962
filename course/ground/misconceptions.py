"""The misconception catalogue: the beliefs the course tests, with stable IDs M1-M8.

The IDs are used everywhere: notebook cell tags (`misconception-M1`), check verdicts, the
item bank of the mental-model check and the cohort report. Source: Bieringer et al.,
"Industrial practitioners' mental models of adversarial machine learning", SOUPS 2022,
and the related studies cited in lesson 00.
"""
from __future__ import annotations

# Stable IDs, as in the course's research notes (Bieringer et al., SOUPS 2022, and related work).
MISCONCEPTIONS = {
    "M1": "We already have a working mitigation",
    "M2": "Nobody is motivated to attack us",
    "M3": "Someone else is responsible (the vendor, the data provider, the security team)",
    "M4": "We've never seen it, so it doesn't happen / AML is academic",
    "M5": "AML is ordinary security: access control, encryption and patching cover it",
    "M6": "Security is a property of the model, not of the workflow",
    "M7": "High test accuracy means the model is reliable",
    "M8": "Poisoning needs control of much of the data",
}
