"""What `evaluate_defence` found, and the gradient-masking warning signs read off it.

`DefenceReport` holds accuracy under each attack per budget, the worst case per point, the
adversarial points behind it, the warning signs of Athalye, Carlini & Wagner (ICML 2018) and,
when a sign fired, what the escalation found (both figures and the reason). `checks` computes
the signs from a report.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from course.ground.threat import ThreatModel
from course.science.evaluation.metrics import SecurityCurve

GRADIENT = ("white-box", "PGD")
BLACK_BOX = ("transfer", "query", "boundary")


@dataclass
class MaskingCheck:
    """One warning sign of gradient masking (Athalye et al. 2018, section 3.1)."""

    sign: str
    status: str  # "ok", "WARNING" or "n/a"
    detail: str

    @property
    def warning(self) -> bool:
        return self.status == "WARNING"


@dataclass
class DefenceReport:
    """What `evaluate_defence` found: robust accuracy per attack, the worst case, the curve, the checks."""

    label: str
    threat: ThreatModel
    n_samples: int
    clean_accuracy: float
    clean_abstain_rate: float
    randomised: bool
    access: dict
    curves: dict  # attack name -> SecurityCurve (accuracy under that attack, per budget)
    worst: SecurityCurve
    unbounded_success: float | None
    checks: list
    queries: dict  # attack name -> largest number of queries spent on one point (or in total, for the pool)
    seconds: float
    notes: list = field(default_factory=list)
    examples: dict = field(default_factory=dict)  # budget -> the worst-case adversarial points (one per input)
    mode: str = "owner"
    stateful: bool = False
    # when a warning sign fired: {"reasons": [...], "before": worst case before, "after": worst case after,
    # "points": how many points the base attacks left, "attacks": {name: accuracy on those points}}
    escalation: dict = field(default_factory=dict)

    @property
    def robust(self) -> dict:
        """Accuracy under each base attack at the threat model's budget."""
        return {name: c.at(self.threat.budget) for name, c in self.curves.items()}

    @property
    def worst_case(self) -> float:
        """Accuracy when, for each point, the best of all attacks (escalation included) is used, at the stated budget."""
        return self.worst.at(self.threat.budget)

    @property
    def strongest(self) -> str:
        """The attack that evaded the most points (an escalation attack, if it moved the worst case)."""
        esc = self.escalation.get("attacks", {})
        if esc and self.escalation["after"] < self.escalation["before"]:
            return min(esc, key=esc.get)
        r = self.robust
        return min(r, key=r.get) if r else ""

    def warnings(self) -> list:
        return [c for c in self.checks if c.warning]

    def summary(self) -> str:
        t = self.threat
        mode = "owner mode" if self.mode == "owner" else "attacker's view"
        lines = [
            f"Adaptive evaluation of {self.label or 'the model'} (n={self.n_samples}; {t.describe()}; {mode})",
            "  access found: " + ", ".join(k for k, v in self.access.items() if v)
            + ("; randomised" if self.randomised else "") + ("; stateful" if self.stateful else ""),
            f"  clean accuracy {self.clean_accuracy:.3f}"
            + (f" (abstains on {self.clean_abstain_rate:.1%})" if self.clean_abstain_rate else ""),
            f"  accuracy under attack at budget {t.budget:g}:",
        ]
        for name, acc in sorted(self.robust.items(), key=lambda kv: -kv[1]):
            q = self.queries.get(name)
            lines.append(f"    {name:<44} {acc:6.3f}" + (f"   ({q} queries/point)" if q else ""))
        esc = self.escalation
        if esc:
            lines.append(f"  escalation (because: {'; '.join(esc['reasons'])}), on the {esc['points']} points the "
                         f"attacks above left:")
            for name, acc in esc["attacks"].items():
                q = self.queries.get(name)
                lines.append(f"    {name:<44} {acc:6.3f}" + (f"   ({q} queries/point)" if q else ""))
            fresh = " (fresh estimates: the model is randomised)" if self.randomised else ""
            lines.append(f"    worst case before escalation {esc['before']:.3f}, after {esc['after']:.3f}{fresh}")
        lines.append(f"    {'WORST CASE (best attack per point)':<44} {self.worst_case:6.3f}")
        if self.unbounded_success is not None:
            lines.append(f"  unbounded attack success: {self.unbounded_success:.1%}")
        lines.append("  gradient-masking warning signs (Athalye et al. 2018):")
        for c in self.checks:
            lines.append(f"    [{c.status:^7}] {c.sign}: {c.detail}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        lines.append(f"  ({self.seconds:.1f} s)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax=None, title=None):
        """Security evaluation curve of every attack, and the worst case (thick black)."""
        from course.science import plots

        return plots.defence_report(self, ax=ax, title=title)


def checks(report: DefenceReport, tolerance: float = 0.03) -> list:
    """The warning signs, read off a report's base attacks (see `masking_checklist`)."""
    r = report.robust
    tol = tolerance
    grad_names = [n for n in r if n.startswith(GRADIENT)]
    box_names = [n for n in r if n.startswith(BLACK_BOX)]
    best_grad = min((r[n] for n in grad_names), default=None)
    out = []
    if "one-step (FGSM)" in r and best_grad is not None:
        one, it = r["one-step (FGSM)"], best_grad
        out.append(MaskingCheck("one-step beats iterative", "WARNING" if one < it - tol else "ok",
                                f"one-step {one:.3f} vs iterative {it:.3f}"))
    else:
        out.append(MaskingCheck("one-step beats iterative", "n/a", "no gradient: no white-box attack to compare"))
    if best_grad is not None and box_names:
        bb = min(r[n] for n in box_names)
        out.append(MaskingCheck("black-box beats white-box", "WARNING" if bb < best_grad - tol else "ok",
                                f"black-box {bb:.3f} vs white-box {best_grad:.3f}"))
    else:
        out.append(MaskingCheck("black-box beats white-box", "n/a", "no white-box attack possible"))
    if report.unbounded_success is not None:
        s = report.unbounded_success
        out.append(MaskingCheck("unbounded attack below 100% success", "WARNING" if s < 0.99 else "ok",
                                f"{s:.1%} of correctly classified points evaded with no budget"))
    else:
        out.append(MaskingCheck("unbounded attack below 100% success", "n/a", "not run"))
    if "random noise" in r:
        ref = best_grad if best_grad is not None else min((r[n] for n in box_names), default=None)
        if ref is not None:
            rn = r["random noise"]
            out.append(MaskingCheck("random sampling beats the attack", "WARNING" if rn < ref - tol else "ok",
                                    f"random noise {rn:.3f} vs {'gradient' if best_grad is not None else 'black-box'} "
                                    f"attack {ref:.3f}"))
    name = min(grad_names, key=r.get) if grad_names else (min(box_names, key=r.get) if box_names else None)
    if name is not None:
        c = report.curves[name]
        pos = c.budgets > 0
        if pos.sum() >= 2:
            first, last = c.accuracy[pos][0], c.accuracy[pos][-1]
            flat = last > 0.05 and last >= first - tol
            out.append(MaskingCheck("success not rising with the budget", "WARNING" if flat else "ok",
                                    f"{name}: accuracy {first:.3f} at budget {c.budgets[pos][0]:g}, "
                                    f"{last:.3f} at {c.budgets[pos][-1]:g}"))
    approximate = [n for n in grad_names if not n.startswith("white-box") or "EOT" in n]
    if approximate and len(approximate) == len(grad_names):
        out.append(MaskingCheck("gradient only through an approximation", "WARNING",
                                f"{', '.join(approximate)}: a straight-through, estimated or averaged gradient can "
                                "miss what an exact one finds"))
    return out
