"""The mental-model check without typing Python: a widget form in the notebook, and a paper sheet.

Generic over any sequence of item ids of `course.science.beliefs` (`beliefs.BY_ID`, the confidence
scale `beliefs.CONFIDENCE`); the answers have the one format of the check,
{id: {"answer": True/False, "confidence": 1-4}}, so grading and the cohort report do not change.

In a notebook (exercise 00 or 10)::

    form = questionnaire.form(ids)        # one row per statement: true/false and how sure
    ...
    answers = {...}                       # the graded answer cell, as before, ending with:
    answers = form.write(answers)

`form.write` copies what was ticked into `answers` and rewrites the cell it runs in as the plain
dict (`cell_code`), so the cell keeps the answers in its source: nbgrader re-executes that source
and finds them, with no widget. An empty form changes nothing, so typing the dict still works.

On paper (a room where people only watch): `sheet` is a printable page, numbered in the order of
`ids`; a facilitator enters a sheet as one short code a learner, "T3 F2 - T4 ..." (true/false and
the confidence, "-" for a statement left blank; `parse_codes`), and `record` gives the
saved-answers record that `beliefs.load(path=...)` reads (`course questionnaire enter`).
"""
from __future__ import annotations

import html
from datetime import datetime, timezone

from course.science import beliefs


def _check_ids(ids) -> list:
    ids = [getattr(i, "id", i) for i in ids]  # item ids, or the items themselves
    unknown = [i for i in ids if i not in beliefs.BY_ID]
    if unknown or not ids:
        raise ValueError(f"unknown item ids {unknown}" if unknown else "no item ids given")
    return ids


# --------------------------------------------------------------------------- the answer cell
def cell_code(answers: dict, ids, *, name: str = "answers", update: bool = False) -> str:
    """The answer cell's source for these items: `name = {...}` (or `name.update({...})`), one line an item."""
    ids = _check_ids(ids)
    rows = []
    for i in ids:
        entry = answers.get(i) if isinstance(answers.get(i), dict) else {}
        rows.append(f'    "{i}": {{"answer": {entry.get("answer")!r}, "confidence": {entry.get("confidence")!r}}},')
    head, tail = (f"{name}.update({{", "})") if update else (f"{name} = {{", "}")
    return "\n".join([head, *rows, tail])


class Form:
    """The widget form over some items; `write(answers)` puts what was ticked into the answer cell."""

    def __init__(self, ids, answers: dict | None = None):
        import ipywidgets as w

        self.ids = _check_ids(ids)
        self.truth, self.confidence = {}, {}
        rows = []
        scale = [(f"{k} {v}", k) for k, v in beliefs.CONFIDENCE.items()]
        for n, i in enumerate(self.ids, 1):
            given = (answers or {}).get(i) or {}
            self.truth[i] = w.ToggleButtons(options=[("true", True), ("false", False)],
                                            value=given.get("answer") if given.get("answer") in (True, False) else None,
                                            style={"button_width": "70px"})
            self.confidence[i] = w.ToggleButtons(options=scale, value=given.get("confidence") if given.get("confidence")
                                                 in beliefs.CONFIDENCE else None, style={"button_width": "95px"})
            statement = html.escape(beliefs.BY_ID[i].statement)
            rows.append(w.VBox([w.HTML(f"<b>{n}.</b> {statement} <small>({i})</small>"),
                                w.HBox([self.truth[i], w.HTML("&nbsp;how sure:&nbsp;"), self.confidence[i]])]))
        self.widget = w.VBox(rows)

    def answers(self) -> dict:
        """What the form holds: {id: {"answer": ..., "confidence": ...}} for every item touched."""
        out = {}
        for i in self.ids:
            a, c = self.truth[i].value, self.confidence[i].value
            if a is not None or c is not None:
                out[i] = {"answer": a, "confidence": c}
        return out

    def set(self, item_id: str, answer=None, confidence=None) -> None:
        """Tick an item (what a learner does by clicking; used by tests and facilitators)."""
        self.truth[item_id].value = answer
        self.confidence[item_id].value = confidence

    def write(self, answers: dict, *, name: str = "answers", update: bool = False) -> dict:
        """`answers` with the form's ticks copied in; the running cell becomes the plain dict.

        With nothing ticked, `answers` is returned as it is and the cell is left alone.
        """
        ticked = self.answers()
        if not ticked:
            return answers
        merged = dict(answers)
        for i, entry in ticked.items():
            merged[i] = {**(merged.get(i) or {}), **{k: v for k, v in entry.items() if v is not None}}
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
        if shell is not None:
            mine = {i: merged.get(i) for i in self.ids}
            shell.set_next_input(cell_code(mine, self.ids, name=name, update=update), replace=True)
            print(f"Your {len(ticked)} ticked answer(s) are now written in this cell; run it again to check them.")
        return merged

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def form(ids, answers: dict | None = None) -> Form:
    """Show the form for these items (pre-filled from `answers`, if given) and return it."""
    from IPython.display import display

    f = Form(ids, answers)
    display(f.widget)
    return f


# --------------------------------------------------------------------------- on paper
def sheet(ids, *, title: str = "What do you believe about ML security?", phase: str = "before") -> str:
    """A printable HTML page: the statements in order, true/false and confidence boxes, a name line."""
    ids = _check_ids(ids)
    scale = " &nbsp; ".join(f"<b>{k}</b> {html.escape(v)}" for k, v in beliefs.CONFIDENCE.items())
    boxes = "".join(f"<span class='box'>{k}</span>" for k in beliefs.CONFIDENCE)
    rows = "".join(
        f"<tr><td class='n'>{n}</td><td>{html.escape(beliefs.BY_ID[i].statement)} <small>({i})</small></td>"
        f"<td class='tf'><span class='box'>T</span><span class='box'>F</span></td><td class='c'>{boxes}</td></tr>"
        for n, i in enumerate(ids, 1))
    order = " ".join(ids)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5cm; font-size: 11pt; }}
table {{ border-collapse: collapse; width: 100%; }} td {{ border-bottom: 1px solid #999; padding: 6px 4px; vertical-align: top; }}
.n {{ width: 2em; font-weight: bold; }} .tf, .c {{ white-space: nowrap; }}
.box {{ display: inline-block; border: 1.5px solid #000; width: 1.6em; height: 1.4em; margin: 0 3px;
        text-align: center; font-size: 9pt; color: #555; }}
small {{ color: #666; }} .meta {{ margin-bottom: 1em; }}
@media print {{ body {{ margin: 1cm; }} tr {{ page-break-inside: avoid; }} }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="meta">Name: ______________________ &nbsp; Phase: <b>{html.escape(phase)}</b> &nbsp; Date: ____________</p>
<p>For each statement, circle or cross <b>T</b> (true) or <b>F</b> (false), and how sure you are: {scale}.
Nobody is graded on this: it shows what the course should change.</p>
<table>{rows}</table>
<p><small>Item order (for entering the sheet): {order}</small></p>
</body></html>
"""


def parse_codes(text: str, ids) -> dict:
    """Answers from a sheet's entry code: one token an item in sheet order, "T3", "F2", or "-" (blank).

    A token is T or F (or 1/0, Y/N) followed by a confidence digit; a bare "T" leaves the confidence blank.
    """
    ids = _check_ids(ids)
    tokens = text.replace(",", " ").split()
    if len(tokens) != len(ids):
        raise ValueError(f"{len(tokens)} entries for {len(ids)} statements: one token a statement, '-' for a blank")
    truth = {"T": True, "Y": True, "1": True, "F": False, "N": False, "0": False}
    answers = {}
    for n, (i, tok) in enumerate(zip(ids, tokens), 1):
        tok = tok.upper()
        if tok == "-":
            continue
        if tok[0] not in truth or (tok[1:] and (not tok[1:].isdigit() or int(tok[1:]) not in beliefs.CONFIDENCE)):
            raise ValueError(f"statement {n} ({i}): {tok!r} is not T/F followed by a confidence "
                             f"{min(beliefs.CONFIDENCE)}-{max(beliefs.CONFIDENCE)}")
        answers[i] = {"answer": truth[tok[0]], "confidence": int(tok[1:]) if tok[1:] else None}
    return answers


def record(answers: dict, phase: str, learner: str, source: str = "paper") -> dict:
    """A saved-answers record (the format of `beliefs.save`) for answers entered from a sheet."""
    if phase not in beliefs.PHASES:
        raise ValueError(f"phase must be one of {beliefs.PHASES}; got {phase!r}")
    valid = {i: e for i, e in answers.items() if not beliefs.problems({i: e}, ids=[i])}
    return {
        "format": beliefs.FORMAT,
        "version": beliefs.VERSION,
        "phase": phase,
        "learner": learner,
        "source": source,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "answers": answers,
        "scores": {m: round(s, 3) for m, s in beliefs.score(valid).items()},
    }
