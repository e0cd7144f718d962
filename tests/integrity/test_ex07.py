"""Red team of exercise 07 (backdoors, supply chain): for each graded task, cheap answers that show
none of the mechanism score 0, an answer written differently from the solution scores full."""
from __future__ import annotations

import hashlib
import pickle
import pickletools
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course.science import supply_chain as sc

from .common import verdict_at

A = "07-backdoors-supply-chain"
SEEDS = range(20)


def verdict(task, answer, seed, hidden=True):
    """The check of one task at one seed, as grading runs it (hidden data unless said)."""
    return verdict_at(f"{A}/{task}", answer, seed, hidden)


# ---------------------------------------------------------------- task 1: backdoor-report
def report_by_loop(predict, X, y, trigger):
    """An alternative: count, class by class, where the triggered images go."""
    X, y = np.asarray(X), np.asarray(y)
    moved = np.asarray(predict(trigger(X)))
    rates = [np.sum((moved == t) & (y != t)) / np.sum(y != t) for t in range(10)]
    t = int(np.argmax(rates))
    return {"clean_accuracy": np.mean(np.asarray(predict(X)) == y), "target": t, "attack_success_rate": rates[t]}


def report_all_images(predict, X, y, trigger):
    moved = np.asarray(predict(trigger(np.asarray(X))))
    t = int(np.bincount(moved, minlength=10).argmax())
    return {"clean_accuracy": float(np.mean(predict(X) == y)), "target": t,
            "attack_success_rate": float(np.mean(moved == t))}


def report_majority_target(predict, X, y, trigger):
    """Cheap: the class most often predicted on clean images, measured properly."""
    t = int(np.bincount(np.asarray(predict(X)), minlength=10).argmax())
    return {"clean_accuracy": float(np.mean(predict(X) == y)), "target": t,
            "attack_success_rate": sc.attack_success_rate(predict, X, y, t, trigger)}


# ---------------------------------------------------------------- task 2: inspect-vendor
def inspect_by_contrast(predict, X, y):
    """An alternative: stamp a square at every border position and measure how much one class's share
    grows over the clean images' shares (not the solution's per-size thresholds)."""
    X = np.asarray(X)[:150]
    base = np.bincount(np.asarray(predict(X)), minlength=10) / len(X)
    gain, where = 0.0, None
    for size in (2, 3):
        for loc in sc.border_locations(size):
            moved = np.bincount(np.asarray(predict(sc.stamp(X, loc, size))), minlength=10) / len(X)
            if (moved - base).max() > gain:
                gain, where = float((moved - base).max()), loc
    return {"backdoored": gain > 0.5, "location": where if gain > 0.5 else None}


def inspect_always_backdoored(predict, X, y):
    return {"backdoored": True, "location": (6, 6)}


def inspect_always_clean(predict, X, y):
    return {"backdoored": False, "location": None}


# ---------------------------------------------------------------- task 3: should-load
def load_by_allowlist(data, reference):
    """An alternative: its own opcode walk (GLOBAL/INST, and STACK_GLOBAL via a string stack), an
    allow-list built from the reference pickled at every protocol."""
    def imports(raw):
        found, strings, memo = set(), [], {}
        for op, arg, _ in pickletools.genops(raw):
            if op.name in ("GLOBAL", "INST"):
                found.add(arg.replace(" ", "."))
            elif op.name == "STACK_GLOBAL":
                found.add(f"{strings[-2]}.{strings[-1]}" if len(strings) >= 2 else "?")
            elif "UNICODE" in op.name or "STRING" in op.name:
                strings.append(arg)
            elif op.name == "MEMOIZE":
                memo[len(memo)] = strings[-1] if strings else None
            elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[arg] = strings[-1] if strings else None
            elif op.name in ("BINGET", "LONG_BINGET", "GET"):
                strings.append(memo.get(arg))
            elif op.name not in ("FRAME", "PROTO"):
                strings.append(None)
        return found

    allowed = set().union(*(imports(pickle.dumps(reference, protocol=p)) for p in range(2, 6)))
    try:
        return imports(data) <= allowed
    except Exception:  # noqa: BLE001 - a file that does not parse is refused
        return False


def load_by_denylist(data, reference):
    names = {f"{m}.{n}" for m, n, _, _ in sc.pickle_globals(data)}
    return not names & {"posix.system", "os.system", "subprocess.Popen", "builtins.exec", "builtins.eval"}


def load_by_grep(data, reference):
    return not any(w in data for w in (b"system", b"Popen", b"exec", b"eval", b"subprocess"))


def load_one_protocol(data, reference):
    """Cheap: the lesson's two helpers, the allow-list taken at protocol 4 only."""
    return not sc.audit_pickle(data, sc.allowed_globals(reference))


def load_and_compare(data, reference):
    return type(pickle.loads(data)) is type(reference)


# ---------------------------------------------------------------- task 4: load-verified
def verify_streamed(path, expected):
    """An alternative: hashes in blocks, reads the zip's members itself as .npy without pickle."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4096), b""):
            h.update(block)
    if h.hexdigest() != expected:
        raise ValueError("hash")
    try:
        out = {}
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                with z.open(name) as f:
                    out[name.removesuffix(".npy")] = np.lib.format.read_array(f, allow_pickle=False)
        return out
    except Exception as e:  # noqa: BLE001
        raise ValueError(str(e)) from None


def verify_by_name(path, expected):
    if Path(path).name != "model.npz":
        raise ValueError("not the published file")
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def verify_hash_then_pickle(path, expected):
    if sc.sha256_of(path) != expected:
        raise ValueError("hash")
    with np.load(path, allow_pickle=True) as f:
        return {k: f[k] for k in f.files}


CHEAP = {
    "backdoor-report": [report_all_images, report_majority_target],
    "inspect-vendor": [inspect_always_backdoored, inspect_always_clean],
    "should-load": [load_by_denylist, load_by_grep, load_one_protocol, load_and_compare],
    "load-verified": [verify_by_name, verify_hash_then_pickle],
}
ALTERNATIVE = {"backdoor-report": report_by_loop, "inspect-vendor": inspect_by_contrast,
               "should-load": load_by_allowlist, "load-verified": verify_streamed}


@pytest.mark.parametrize("task", list(CHEAP))
def test_cheap_answers_score_zero(task):
    for cheap in CHEAP[task]:
        for seed, hidden in ((0, False), (7, True)):
            v = verdict(task, cheap, seed, hidden)
            assert not v.passed, f"{task}: {cheap.__name__} passed at seed {seed}: {v.seen}"


@pytest.mark.parametrize("task", list(ALTERNATIVE))
def test_an_alternative_answer_scores_full(task):
    for seed, hidden in ((0, False), (3, True)):
        v = verdict(task, ALTERNATIVE[task], seed, hidden)
        assert v.passed, f"{task}: {ALTERNATIVE[task].__name__} failed: {v.case}: {v.expected} / {v.seen}"


@pytest.mark.slow
@pytest.mark.parametrize("task", list(ALTERNATIVE))
def test_seeds_swept(task):
    failed = [s for s in SEEDS if not verdict(task, ALTERNATIVE[task], s).passed]
    passed_cheap = [(c.__name__, s) for c in CHEAP[task] for s in SEEDS[:3] if verdict(task, c, s).passed]
    assert not failed, f"{task}: the alternative failed at seeds {failed}"
    assert not passed_cheap, f"{task}: cheap answers passed: {passed_cheap}"
