"""Exercise 06's reference poisoner, for the checks only: it crafts reports that sit inside a gate's
acceptance region (the adaptive attacker against which a learner's detector is judged)."""
from __future__ import annotations

import numpy as np

from course.science import poisoning

_CAMPAIGN = [poisoning.VOCABULARY.index(w) for w in poisoning.CAMPAIGN_WORDS]
_GENERIC = [poisoning.VOCABULARY.index(w) for w in ("free", "winner", "prize", "click", "offer", "urgent", "cheap")]


def gated_reports(gate: float):
    """A craft function for `poisoning.feedback_loop`: the campaign without generic spam words, with as
    many campaign words added per report as keeps the probe's spam score at most `gate`; reports still
    above it are diluted with everyday mail."""

    def craft(X_campaign, X_ham, n_reports, spam_score):
        base = X_campaign[np.arange(n_reports) % len(X_campaign)].copy()
        base[:, _GENERIC] = 0
        best = base.copy()
        for k in range(1, 12):
            cand = base.copy()
            cand[:, _CAMPAIGN] = np.minimum(base[:, _CAMPAIGN] + k, poisoning.MAX_COUNT)
            ok = spam_score(cand) <= gate
            best[ok] = cand[ok]
        ham = X_ham[np.arange(n_reports) % len(X_ham)]
        for a in (0.5, 1, 2, 4, 8):
            high = spam_score(best) > gate
            if not high.any():
                break
            best[high] = np.minimum(np.round(base[high] + a * ham[high]), poisoning.MAX_COUNT)
        return best

    return craft
