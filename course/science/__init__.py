"""Layer 2, the science: what the lessons call, numpy and scikit-learn at the surface.

- data and models: `datasets` (offline, deterministic data sets), `models` (small models and
  their input gradients), `services` (a model behind a counted prediction API);
- `attacks` (gradient, query, transfer), `defences` (the believed mitigations and two that hold
  better), `evaluation` (metrics, security curves, the adaptive evaluation harness);
- one topic module per lesson: `beliefs` (00, 10: the mental-model check), `threat_modelling`
  (02), `economics` (05), `poisoning` (06), `supply_chain` (07), `privacy` (08);
- for the notebooks: `plots` (every figure of the course) and `widgets`.

It imports only `course.ground`. secml is loaded only by `attacks.evade` (through `_secml`),
quietly, with its data folder in a writable scratch place.
"""
