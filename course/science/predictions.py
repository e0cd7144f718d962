"""Predictions on the record: before a measurement, the learner commits to a number; the lesson then measures it.

`record(lesson, key, value)` keeps the prediction in the learner's own files, one small JSON file per lesson:
``my-work/.predictions/<lesson>.json`` under the repository root (the folder can be moved with
$COURSE_PREDICTIONS_DIR). `measured(lesson, key, value)` adds the measurement beside it, and `gap` reads both
back. `reveal(lesson, key, value, predicted)` is the lesson's last step of the loop: it keeps the measurement,
says how far the prediction was off and draws the two side by side (`plots.prediction_gap`). Lessons are never
submitted, so these files stay with the learner; the predictions that feed a cohort
report are graded-for-completion cells in the exercises. Like the mental-model check (`course.science.beliefs`,
whose folder and writing rules this module shares), nothing is written while nbgrader grades or while the
course's own tools run a notebook.

The file::

    {"format": "aml-course-predictions", "version": 1, "lesson": "11",
     "entries": {"naive-detection": {"predicted": 0.6, "predicted_at": "...", "measured": 1.0, "measured_at": "..."}}}
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

from course.science.beliefs import learner_folder, write_json, writing_disabled
from course.science.economics import DOMAINS

DIR_VARIABLE = "COURSE_PREDICTIONS_DIR"
FORMAT = "aml-course-predictions"
VERSION = 1


def path_for(lesson: str) -> Path:
    """Where a lesson's predictions are kept."""
    name = str(lesson).strip()
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ValueError(f"lesson must be a plain name such as '11'; got {lesson!r}")
    return learner_folder(DIR_VARIABLE, ".predictions") / f"{name}.json"


def load(lesson: str) -> dict:
    """Key -> {"predicted": ..., "measured": ...} for a lesson ({} if nothing was recorded)."""
    source = path_for(lesson)
    if not source.is_file():
        return {}
    record = json.loads(source.read_text(encoding="utf-8"))
    if record.get("format") != FORMAT:
        raise ValueError(f"{source} is not a predictions file")
    return dict(record.get("entries", {}))


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ValueError(f"a prediction is a finite number; got {value!r}")
    return float(value)


def _save(lesson: str, key: str, field: str, value) -> Path | None:
    value = _number(value)
    reason = writing_disabled()
    if reason:
        print(f"(not saved: {reason})")
        return None
    entries = load(lesson)
    entry = dict(entries.get(str(key), {}))
    entry[field] = value
    entry[f"{field}_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    entries[str(key)] = entry
    target = path_for(lesson)
    write_json(target, {"format": FORMAT, "version": VERSION, "lesson": str(lesson), "entries": entries})
    return target


def record(lesson: str, key: str, value) -> float:
    """Commit to a prediction before measuring; returns it. Saved in the learner's own files (see above)."""
    target = _save(lesson, key, "predicted", value)
    if target is not None:
        print(f"Prediction '{key}' = {float(value):g} recorded in {target}")
    return float(value)


def measured(lesson: str, key: str, value) -> float:
    """Keep the measurement beside the prediction; prints the gap when there is a prediction."""
    _save(lesson, key, "measured", value)
    predicted = load(lesson).get(str(key), {}).get("predicted") if not writing_disabled() else None
    if predicted is not None:
        print(f"'{key}': you predicted {predicted:g}, the measurement is {float(value):g} "
              f"(gap {float(value) - predicted:+.2f})")
    return float(value)


def gap(lesson: str) -> dict:
    """Key -> measured - predicted, for every key with both."""
    return {k: e["measured"] - e["predicted"] for k, e in load(lesson).items() if "measured" in e and "predicted" in e}


def reveal(lesson: str, key: str, value, predicted=None, *, label: str | None = None, unit: str = "",
           title: str | None = None):
    """Keep the measurement, print the gap to the prediction and draw both; returns measured - predicted.

    `predicted` is the learner's number (the variable the prediction cell set); without it, the one saved
    by `record` is used. Returns None, with a sentence, when there is no prediction to compare with.
    """
    value = _number(value)
    _save(lesson, key, "measured", value)
    if predicted is None and not writing_disabled():
        predicted = load(lesson).get(str(key), {}).get("predicted")
    if predicted is None:
        print(f"'{key}': measured {value:g}{unit}; no prediction was recorded to compare with.")
        return None
    predicted = _number(predicted)
    gap_ = value - predicted
    print(f"'{key}': you predicted {predicted:g}{unit}, the measurement is {value:g}{unit} (gap {gap_:+.2f}{unit})")
    from course.science import plots

    plots.prediction_gap({label or str(key): (predicted, value)}, title=title)
    return gap_


DOMAIN_FILE = "domain.json"


def choose_domain(domain: str | None = None) -> str:
    """The learner's own domain (one of `economics.DOMAINS`): chosen once, kept in their files, reused later.

    With a name, it is saved (in the predictions folder) and returned; without, the saved choice is returned,
    or "fraud" when none was made. Lessons 05 (the attacker's economics) and 07 (who owns the risk) use it.
    """
    target = learner_folder(DIR_VARIABLE, ".predictions") / DOMAIN_FILE
    if domain is None:
        if target.is_file():
            saved = json.loads(target.read_text(encoding="utf-8")).get("domain")
            if saved in DOMAINS:
                return saved
        return "fraud"
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {sorted(DOMAINS)}; got {domain!r}")
    reason = writing_disabled()
    if reason:
        print(f"(your domain is not saved: {reason})")
    else:
        write_json(target, {"format": FORMAT, "version": VERSION, "domain": domain})
        print(f"Your domain, '{domain}', is kept in {target} for the lessons that use it.")
    return domain
