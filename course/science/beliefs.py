"""The mental-model check: one bank of true/false statements about ML security, scored per misconception.

The course measures what a learner believes before it starts (exercise 00) and again at the end
(exercise 10), with the same items, kept here once. Each item is a statement that is true or false,
probes one misconception of the catalogue (M1-M8, `course.ground.misconceptions.MISCONCEPTIONS`; Bieringer et
al., SOUPS 2022), and carries a one-sentence explanation with its evidence. A statement of a
misconception is false; a statement that contradicts one is true; every misconception has both kinds.

Answers are plain data, so that nbgrader can re-execute the cell that holds them and a cohort
grader can export them::

    answers = {
        "q01": {"answer": True, "confidence": 3},   # item id -> your answer and how sure you are
        ...
    }

`answer` is True or False; `confidence` is 1-4 (see `CONFIDENCE`).

Scoring (`score`): per misconception, the share of its items answered correctly. It is NOT weighted
by confidence: a guess that happens to be right counts as right. Confidence is reported beside it
(`summary`): the items answered wrongly at confidence 3 or 4 are the beliefs held firmly, which is
what the course wants to find and change. An unanswered item counts as not correct.

Saved answers (`save` / `load`): a small JSON file per phase, by default
``my-work/.beliefs/<phase>.json`` under the repository root (phase "before" or "after"; the folder
can be moved with $COURSE_BELIEFS_DIR). Its content::

    {"format": "aml-course-beliefs", "version": 1, "phase": "before",
     "saved_at": "2026-11-28T10:00:00+00:00",
     "answers": {"q01": {"answer": true, "confidence": 3}, ...},
     "scores": {"M1": 0.667, ...}}

Nothing is written while nbgrader grades (environment variable NBGRADER_EXECUTION) or while the
course's own tools run a notebook (COURSE_NO_SELF_CHECK, set by `course bench` and the tests), so
that grading or benchmarking never overwrites a learner's file.

One call per exercise: exercise 00 shows the result and saves it (`show_result`, `save`);
exercise 10 calls `after(answers)`, which saves the "after", compares it with the saved "before",
draws both, and explains every item still answered wrongly. `aggregate` gives a cohort's share of
correct answers per misconception.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from course import ROOT
from course.ground.misconceptions import MISCONCEPTIONS
from course.science import plots

DIR_VARIABLE = "COURSE_BELIEFS_DIR"
PHASES = ("before", "after")
FORMAT = "aml-course-beliefs"
VERSION = 1

CONFIDENCE = {1: "a guess", 2: "leaning", 3: "fairly sure", 4: "certain"}
FIRM = 3  # answers at this confidence or above count as firmly held


@dataclass(frozen=True)
class Item:
    """One statement of the check."""

    id: str
    misconception: str
    statement: str
    answer: bool
    explanation: str  # one sentence: why, with the evidence


# The order is the order of presentation: misconceptions interleaved, true and false mixed, and
# each half of the questionnaire covers all eight misconceptions.
ITEMS = (
    Item("q01", "M7", "Test accuracy estimates how a model does on inputs drawn like its training data, "
         "not on inputs that someone chose.", True,
         "True: a test set is a random sample of the same distribution, and an attacker's inputs are chosen, "
         "which is exactly what that estimate does not cover (NIST AI 100-2 E2025, evasion; lesson 01)."),
    Item("q02", "M5", "If the prediction API requires authentication and uses TLS, an attacker cannot "
         "copy (extract) the model.", False,
         "False: extraction needs only the answers to queries, which an authenticated customer receives "
         "legitimately; researchers replicated commercial translation models through their public APIs "
         "(MITRE ATLAS AML.CS0005; lessons 02 and 08)."),
    Item("q03", "M3", "Loading a pickled model file can run arbitrary code on your machine.", True,
         "True: unpickling executes code by design; model files on a public model hub opened a reverse shell "
         "when loaded (MITRE ATLAS AML.CS0031; lesson 07)."),
    Item("q04", "M1", "Keeping the model's architecture and weights secret stops attackers from crafting "
         "inputs that fool it.", False,
         "False: attackers attack a substitute model and transfer, or search with queries alone; ProofPoint's "
         "email filter was evaded through a copy trained on the scores it leaked (MITRE ATLAS AML.CS0008; "
         "lesson 04)."),
    Item("q05", "M8", "To poison a model, an attacker must control a large share (say, a third) of its "
         "training data.", False,
         "False: optimised poisoning points and backdoor triggers do their damage with a few percent of the "
         "training set or less, and a feedback loop hands outsiders a way in (NIST AI 100-2 E2025, poisoning; "
         "lesson 06)."),
    Item("q06", "M2", "Anyone who gains money, access or an advantage when your model makes a particular "
         "mistake is a potential attacker of it.", True,
         "True: fraudsters, applicants, spammers and competitors profit from specific errors; two people "
         "fooled a tax office's face recognition and issued $77M of fake invoices (MITRE ATLAS AML.CS0004; "
         "lesson 05)."),
    Item("q07", "M6", "Measuring the robustness of the model on its own tells you how robust the deployed "
         "system is.", False,
         "False: the rest of the system changes the answer both ways: hand-edited logos evaded a phishing "
         "detector's visual model while other components still caught the pages (MITRE ATLAS AML.CS0032), "
         "and attacks entering through data collection or retraining never meet a model-only test."),
    Item("q08", "M4", "A fraudster who tries variations of a transaction until one is approved is carrying "
         "out an evasion attack on the fraud model.", True,
         "True: probing a deployed model until an input passes is evasion by queries; a practitioner in the "
         "study called what they saw \"not so much AML but semi-automated fraud\" (Bieringer et al., SOUPS "
         "2022; lesson 05)."),
    Item("q09", "M1", "A defence that makes a standard gradient attack fail can still fall to an attack "
         "adapted to that defence.", True,
         "True: of 9 defences published at ICLR 2018, 7 relied on obfuscated gradients and 6 fell completely "
         "to adapted attacks (Athalye, Carlini & Wagner, ICML 2018); all 13 defences re-evaluated by Tramer "
         "et al. (NeurIPS 2020) were circumvented (lesson 09)."),
    Item("q10", "M6", "Once the training code and servers are secure, the training data can no longer be "
         "a route for an attack.", False,
         "False: poisoned data arrives through the workflow's own legitimate inputs - data sources, labellers, "
         "feedback loops, third-party sets - e.g. mutated malware uploaded to VirusTotal, a source that "
         "vendors learn from (MITRE ATLAS AML.CS0002; lesson 06)."),
    Item("q11", "M4", "Adversarial attacks on ML have been shown in research papers, but there are no "
         "documented real-world incidents.", False,
         "False: MITRE ATLAS documents real incidents (17 of its 57 case studies), e.g. a $77M fraud through a "
         "face-recognition check (AML.CS0004) and Tay, poisoned through its online learning and shut down "
         "within 24 hours (AML.CS0009)."),
    Item("q12", "M8", "Poisoning points chosen by optimisation do more damage than the same number of "
         "randomly flipped labels.", True,
         "True: optimised poisoning places its points where they bend the decision boundary most, while "
         "random flips of the same number barely change the error (Biggio & Roli, 2018; lesson 06 measures "
         "both)."),
    Item("q13", "M2", "Attacking a deployed ML model takes a well-funded expert, so only prominent "
         "organisations need to worry.", False,
         "False: real attackers use cheap, simple changes to the input rather than gradients (Apruzzese et "
         "al., SaTML 2023); one individual passed ID.me's identity verification with wigs and forged licences "
         "(MITRE ATLAS AML.CS0017)."),
    Item("q14", "M5", "Evasion, model extraction and membership inference can all succeed against a fully "
         "patched, access-controlled server.", True,
         "True: all three use the model's legitimate interface, so they break no access rule - perturbation "
         "attacks \"do not violate the classic notion of access/authorisation\" (Kumar et al., 2020); "
         "lesson 02 extracts a model through a perfectly secured API."),
    Item("q15", "M7", "A model with 99% test accuracy will also be about 99% accurate on inputs that an "
         "attacker has changed slightly.", False,
         "False: test accuracy is measured without an adversary; accuracy under attack at a stated budget is "
         "a different and often far lower number (Biggio & Roli, 2018; lesson 01 shows two models with about "
         "95% test accuracy falling steeply)."),
    Item("q16", "M3", "Data bought or scraped from third parties can carry poisoning or a backdoor into your "
         "model through your own training pipeline.", True,
         "True: whatever a third-party set contains is learned by your model when you train on it, e.g. "
         "mutated samples planted in VirusTotal shifted how vendors classified them (MITRE ATLAS AML.CS0002; "
         "lessons 06-07)."),
    Item("q17", "M1", "Transforming inputs before the model (compressing, smoothing, reducing bit depth) "
         "reliably protects it against adversarial examples.", False,
         "False: an attack that approximates the transformation's gradient (BPDA) took input-transformation "
         "defences to 0% accuracy (Athalye, Carlini & Wagner, ICML 2018; lesson 09)."),
    Item("q18", "M6", "Someone who can influence the data your workflow collects for retraining (e.g. user "
         "feedback) can change your model without touching your servers.", True,
         "True: Tay learned from its conversations, coordinated users fed it offensive language, and it was "
         "shut down within 24 hours (MITRE ATLAS AML.CS0009; lesson 06)."),
    Item("q19", "M4", "If our monitoring has never flagged an attack on our model, we can assume it has not "
         "been attacked.", False,
         "False: a successful evasion is an input the model accepted as normal, so it leaves no error to flag; "
         "the ID.me bypass ran from October 2020 to December 2021 before it was identified (MITRE ATLAS "
         "AML.CS0017; lesson 05)."),
    Item("q20", "M5", "Encrypting the training data at rest and in transit protects it against membership "
         "inference.", False,
         "False: membership inference reads what the trained model reveals through its outputs, which the "
         "encryption of stored or transmitted data does not touch (NIST AI 100-2 E2025, privacy attacks; "
         "lesson 08)."),
    Item("q21", "M8", "A backdoor can be planted by adding a small number of training examples that carry a "
         "trigger pattern and the attacker's chosen label.", True,
         "True: backdoor poisoning needs only a small poisoned fraction; the model stays accurate on clean "
         "inputs and obeys the trigger (NIST AI 100-2 E2025, backdoor poisoning; lesson 07)."),
    Item("q22", "M3", "If a pretrained model comes from a reputable vendor or model hub, checking it for "
         "backdoors or unsafe code is the provider's job, not ours.", False,
         "False: what a third-party model carries enters your system through your own workflow and acts in "
         "your name; malicious model files passed a major hub's scanner (MITRE ATLAS AML.CS0031; lesson 07)."),
    Item("q23", "M2", "Attacks on ML models in production have caused losses of millions of dollars.", True,
         "True: MITRE ATLAS records $77M of fake invoices after a face-recognition check was evaded "
         "(AML.CS0004) and at least $3.4M of false unemployment claims through ID.me (AML.CS0017)."),
    Item("q24", "M7", "Two models with the same test accuracy are equally reliable against an attacker.",
         False,
         "False: their accuracy under attack can differ widely at the same budget; robustness is a curve of "
         "accuracy against the attacker's budget, which test accuracy cannot show (Biggio & Roli, 2018; "
         "lessons 01 and 03)."),
)

BY_ID = {item.id: item for item in ITEMS}
IDS = tuple(BY_ID)
HALVES = {"first": IDS[:12], "second": IDS[12:]}


def n_items() -> int:
    """How many statements the bank holds per misconception (the same number for each)."""
    return len(items_of(next(iter(MISCONCEPTIONS))))


def items_of(misconception: str) -> list:
    """The items that probe one misconception ("M1" ... "M8")."""
    if misconception not in MISCONCEPTIONS:
        raise ValueError(f"unknown misconception {misconception!r}; known: {sorted(MISCONCEPTIONS)}")
    return [item for item in ITEMS if item.misconception == misconception]


def misconceptions_of(ids) -> list:
    """The misconceptions that the given items probe, in catalogue order."""
    wanted = {BY_ID[i].misconception for i in ids}
    return [m for m in MISCONCEPTIONS if m in wanted]


def _part(part) -> tuple:
    if part is None:
        return IDS
    if part not in HALVES:
        raise ValueError(f"part must be one of {sorted(HALVES)} or None; got {part!r}")
    return HALVES[part]


# --------------------------------------------------------------------------- the questionnaire
def show(part=None) -> None:
    """Print the statements (all, or one half: "first" / "second") with their ids and the confidence scale."""
    for item_id in _part(part):
        print(f"{item_id}  {BY_ID[item_id].statement}")
    scale = ", ".join(f"{k} = {v}" for k, v in CONFIDENCE.items())
    print(f"\nFor each: \"answer\": True or False, and \"confidence\": {scale}.")


def template(part=None) -> str:
    """The answers dict to fill in, as Python source (every answer None)."""
    lines = ["answers = {"]
    lines += [f'    "{i}": {{"answer": None, "confidence": None}},' for i in _part(part)]
    lines.append("}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- validation
def _is_bool(value) -> bool:
    return type(value) is bool or type(value).__name__ == "bool_"  # numpy.bool_ as well


def _is_confidence(value) -> bool:
    return type(value) is int and value in CONFIDENCE or (
        type(value).__name__.startswith("int") and not _is_bool(value) and int(value) in CONFIDENCE
    )


def problems(answers, ids=None) -> list:
    """Everything that keeps `answers` from being a complete, valid set for the items `ids` (default: all).

    Returns a list of short sentences, empty when every item in `ids` has a valid answer and
    confidence and no key is unknown.
    """
    ids = IDS if ids is None else tuple(ids)
    if not isinstance(answers, dict):
        return [f"answers must be a dict of item id -> {{'answer': ..., 'confidence': ...}}; "
                f"got {type(answers).__name__}"]
    found = []
    unknown = sorted(str(k) for k in answers if k not in BY_ID)
    if unknown:
        found.append(f"unknown item id(s) {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}: "
                     f"the ids are q01 ... q{len(IDS):02d}")
    missing, unanswered, bad = [], [], []
    for item_id in ids:
        if item_id not in answers:
            missing.append(item_id)
            continue
        entry = answers[item_id]
        if not isinstance(entry, dict):
            bad.append(f"{item_id} must be a dict like {{\"answer\": True, \"confidence\": 3}}; "
                       f"got {type(entry).__name__}")
            continue
        extra = sorted(str(k) for k in entry if k not in ("answer", "confidence"))
        if extra:
            bad.append(f"{item_id} has unknown key(s) {extra}: only \"answer\" and \"confidence\"")
        ans, conf = entry.get("answer"), entry.get("confidence")
        if ans is None or conf is None:
            unanswered.append(item_id)
            continue
        if not _is_bool(ans):
            bad.append(f"{item_id}: \"answer\" must be True or False; got {ans!r}")
        if not _is_confidence(conf):
            bad.append(f"{item_id}: \"confidence\" must be 1, 2, 3 or 4; got {conf!r}")
    if missing:
        found.append(f"missing item(s) {', '.join(missing)}")
    if unanswered:
        found.append(f"not answered yet (None): {', '.join(unanswered)}")
    return found + bad


def validate(answers, ids=None) -> dict:
    """A clean copy of `answers` (plain bools and ints) for the items `ids`; ValueError listing every problem."""
    found = problems(answers, ids)
    if found:
        raise ValueError("the answers are not complete and valid:\n  - " + "\n  - ".join(found))
    ids = IDS if ids is None else tuple(ids)
    return {i: {"answer": bool(answers[i]["answer"]), "confidence": int(answers[i]["confidence"])} for i in ids}


def _valid_entries(answers) -> dict:
    """The entries of `answers` that are valid, cleaned; everything else is dropped (for lenient scoring)."""
    if not isinstance(answers, dict):
        return {}
    clean = {}
    for item_id, entry in answers.items():
        if item_id in BY_ID and isinstance(entry, dict) and not problems({item_id: entry}, [item_id]):
            clean[item_id] = {"answer": bool(entry["answer"]), "confidence": int(entry["confidence"])}
    return clean


# --------------------------------------------------------------------------- scoring
def correct(answers) -> dict:
    """item id -> whether it was answered correctly (valid answers only)."""
    return {i: e["answer"] == BY_ID[i].answer for i, e in _valid_entries(answers).items()}


def score(answers) -> dict:
    """Per misconception, the share of its items answered correctly (unweighted; unanswered = not correct)."""
    right = correct(answers)
    return {m: sum(right.get(it.id, False) for it in items_of(m)) / len(items_of(m)) for m in MISCONCEPTIONS}


def summary(answers) -> list:
    """One row per misconception: (id, belief, share correct, items, ids answered wrongly at confidence >= 3)."""
    valid = _valid_entries(answers)
    right = correct(answers)
    shares = score(answers)
    rows = []
    for m, belief in MISCONCEPTIONS.items():
        its = items_of(m)
        firm = [it.id for it in its if it.id in valid and not right[it.id] and valid[it.id]["confidence"] >= FIRM]
        rows.append((m, belief, shares[m], len(its), firm))
    return rows


class ResultTable:
    """A small table with the belief names in full: HTML in a notebook, wrapped plain text elsewhere."""

    def __init__(self, header: list, rows: list, wrap: int = 64):
        self.header, self.rows, self.wrap = list(header), [list(map(str, r)) for r in rows], wrap

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(c)}</td>" for c in r) + "</tr>"
                       for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __str__(self) -> str:
        import textwrap

        cols = list(zip(self.header, *self.rows))
        widths = [max(len(c) for c in col) for col in cols]
        widths[1] = min(widths[1], self.wrap)  # the belief column wraps instead of being cut
        lines = []
        for row in [self.header, *self.rows]:
            cells = [textwrap.wrap(c, w) or [""] if k == 1 else [c] for k, (c, w) in enumerate(zip(row, widths))]
            for i in range(max(len(c) for c in cells)):
                lines.append("  ".join((c[i] if i < len(c) else "").ljust(w) for c, w in zip(cells, widths)).rstrip())
        return "\n".join(lines)

    __repr__ = __str__


def show_table(header: list, rows: list) -> None:
    """Show a ResultTable: displayed in a notebook (as HTML), printed elsewhere."""
    table = ResultTable(header, rows)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the course
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None and hasattr(get_ipython(), "kernel"):
        display(table)
    else:
        print(table)


def show_result(answers) -> dict:
    """Print and draw your share of correct answers per misconception; return the scores.

    Which items were right is not shown: the same items come back at the end of the course, and
    the explanations with them (`after`).
    """
    if _incomplete(answers, "Your answers are not complete yet, so there is no result to show:"):
        return {}
    show_table(["", "belief", "correct", "held firmly but wrong"],
               [(m, belief, f"{round(share * n):d} of {n}", str(len(firm) or "")) for m, belief, share, n, firm in summary(answers)])
    scores = score(answers)
    plots.belief_comparison(scores, n_items=n_items(), title="Your mental-model check")
    return scores


def _incomplete(answers, heading: str) -> bool:
    """Print what is missing from an answer set under `heading`; True when something is."""
    found = problems(answers)
    if found:
        print(heading)
        for p in found:
            print("  -", p)
    return bool(found)


# --------------------------------------------------------------------------- saving
def writing_disabled() -> str:
    """Why nothing may be written to the learner's files now ("" if it may): nbgrader grading, or the course's
    own tools running the notebook. Shared by every module that saves a learner's answers or predictions."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return "this notebook is being graded by nbgrader"
    if os.environ.get("COURSE_NO_SELF_CHECK"):
        return "the course's own tools are running it (COURSE_NO_SELF_CHECK is set)"
    return ""


def learner_folder(variable: str, default: str) -> Path:
    """A folder of the learner's own files: $variable if set, else <workspace>/<default>, where the workspace is
    $COURSE_WORKSPACE (where run.py put the learner's copies) or my-work/ under the repository root."""
    workspace = os.environ.get("COURSE_WORKSPACE") or str(ROOT / "my-work")
    return Path(os.environ.get(variable) or str(Path(workspace) / default)).expanduser()


def write_json(target: Path, record: dict) -> None:
    """Write a small JSON file atomically (a temporary file in the same folder, then renamed)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".json", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, target)


def _check_phase(phase: str) -> None:
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}; got {phase!r}")


def path_for(phase: str) -> Path:
    """Where the answers of a phase are kept: my-work/.beliefs/<phase>.json (or $COURSE_BELIEFS_DIR/<phase>.json;
    in a workspace run.py placed elsewhere, $COURSE_WORKSPACE/.beliefs/<phase>.json)."""
    _check_phase(phase)
    return learner_folder(DIR_VARIABLE, ".beliefs") / f"{phase}.json"


def save(answers, phase: str = "before", path=None):
    """Keep complete answers in a small JSON file (see the module's docstring); return its path.

    Returns None, with a printed reason, when nothing was written: while nbgrader grades, while the
    course's tools run the notebook, or when the answers are incomplete.
    """
    _check_phase(phase)
    reason = writing_disabled()
    if reason:
        print(f"(answers not saved: {reason})")
        return None
    found = problems(answers)
    if found:
        print("(answers not saved: they are not complete yet - " + "; ".join(found) + ")")
        return None
    clean = validate(answers)
    target = Path(path) if path is not None else path_for(phase)
    target.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "format": FORMAT,
        "version": VERSION,
        "phase": phase,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "answers": clean,
        "scores": {m: round(s, 3) for m, s in score(clean).items()},
    }
    write_json(target, record)
    print(f"Saved your answers as '{phase}' in {target}")
    return target


def load(phase: str = "before", path=None) -> dict:
    """The answers saved for a phase (FileNotFoundError, with where it looked, if there are none)."""
    _check_phase(phase)
    source = Path(path) if path is not None else path_for(phase)
    if not source.is_file():
        raise FileNotFoundError(f"no saved '{phase}' answers at {source}")
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{source} is not a saved answers file ({e})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not isinstance(record.get("answers"), dict):
        raise ValueError(f"{source} is not a saved answers file (format {FORMAT!r} expected)")
    return record["answers"]


# --------------------------------------------------------------------------- before and after
def compare(before, after) -> dict:
    """misconception -> (share correct before, share correct after, change)."""
    b, a = score(before), score(after)
    return {m: (b[m], a[m], a[m] - b[m]) for m in MISCONCEPTIONS}


def explain(answers, only_wrong: bool = True) -> None:
    """Print each item's correct answer and explanation (by default only those answered wrongly)."""
    right = correct(answers)
    for item in ITEMS:
        if only_wrong and right.get(item.id, False):
            continue
        print(f"{item.id} [{item.misconception}] {item.statement}\n      {item.explanation}\n")


def after(answers, before=None) -> dict:
    """The end-of-course check in one call: save as "after", compare with "before", draw, explain.

    `before` defaults to the answers saved by exercise 00 (`load("before")`). Returns
    `compare(before, answers)`, or the plain scores when no "before" is found.
    """
    if _incomplete(answers, "Your answers are not complete yet:"):
        return {}
    save(answers, phase="after")
    if before is None:
        try:
            before = load("before")
        except (FileNotFoundError, ValueError) as e:
            print(f"No 'before' to compare with ({e}); your result now:")
            scores = show_result(answers)
            explain(answers)
            return scores
    result = compare(before, answers)
    rows = []
    for m, (b, a, _) in result.items():
        n = len(items_of(m))
        rows.append((m, MISCONCEPTIONS[m], f"{round(b * n)}/{n}", f"{round(a * n)}/{n}"))
    show_table(["", "belief", "before", "after"], rows)
    plots.belief_comparison(score(before), score(answers), n_items=n_items())
    print("\nThe items you answered wrongly this time, with the evidence:\n")
    explain(answers)
    return result


# --------------------------------------------------------------------------- a cohort
def aggregate(list_of_answers, *, detail: bool = False) -> dict:
    """A cohort's share of correct answers per misconception, pooled over every valid answer given.

    Invalid or unknown entries are ignored; a misconception nobody answered gets NaN. With
    `detail=True`, each value is a dict with "share_correct", "answers" (how many were pooled),
    "learners" (how many answered at least one of its items) and "firmly_wrong" (share of its
    answers that were wrong at confidence >= 3).
    """
    pooled = {m: [0, 0, 0, 0] for m in MISCONCEPTIONS}  # right, answered, learners, firmly wrong
    for answers in list_of_answers:
        valid = _valid_entries(answers)
        seen = set()
        for item_id, entry in valid.items():
            m = BY_ID[item_id].misconception
            ok = entry["answer"] == BY_ID[item_id].answer
            pooled[m][0] += ok
            pooled[m][1] += 1
            pooled[m][3] += (not ok) and entry["confidence"] >= FIRM
            seen.add(m)
        for m in seen:
            pooled[m][2] += 1
    out = {}
    for m, (right, n, learners, firm) in pooled.items():
        share = right / n if n else math.nan
        out[m] = {"share_correct": share, "answers": n, "learners": learners,
                  "firmly_wrong": firm / n if n else math.nan} if detail else share
    return out
