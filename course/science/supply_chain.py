"""Backdoors and the supply chain: what arrives from a data provider, a vendor or a model hub.

Three parts, numpy in, numpy out:

* **Backdoors on digits** (`stamp`, `blend`, `poison_with_trigger`, `attack_success_rate`,
  `make_vendor`): a small corner patch stamped on a share of a third-party training set, the
  images relabelled to a target class (Gu et al. 2017, "BadNets"), or a faint pattern blended
  into them (Chen et al. 2017). The model is accurate on clean data and obeys the trigger.
* **Tests a practitioner can run on a vendor's model** (`scan_patches`, `blank_pixel_weights`):
  a black-box scan for small patch triggers and a white-box look at the weights, each with
  what it can and cannot see.
* **Model files** (`hostile_pickle`, `pickle_globals`, `audit_pickle`, `save_params`,
  `load_params`): loading a pickle runs code, shown with a harmless payload that only writes a
  marker file into a folder the caller chooses; auditing a pickle without executing it
  (`pickletools.genops`); and a safer route: parameters in a .npz loaded with
  `allow_pickle=False`, checked against a SHA-256 hash and a provenance record.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import pickletools
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils import Bunch

from course.science import datasets

__all__ = [
    "SIDE",
    "stamp",
    "blend",
    "blend_pattern",
    "border_locations",
    "poison_with_trigger",
    "attack_success_rate",
    "train_digits_model",
    "make_vendor",
    "scan_patches",
    "blank_pixel_weights",
    "MARKER",
    "PAYLOADS",
    "hostile_pickle",
    "hostile_npz",
    "pickle_globals",
    "audit_pickle",
    "allowed_globals",
    "sha256_of",
    "save_params",
    "load_params",
    "logistic_from_params",
    "backdoor_curve",
]

SIDE = 8  # digits are 8 x 8 images, flattened to 64 pixels in [0, 1]


# --------------------------------------------------------------------------- triggers


def _images(X) -> np.ndarray:
    X = np.array(X, dtype=float)
    if X.ndim == 1:
        X = X[None, :]
    if X.shape[1] != SIDE * SIDE:
        raise ValueError(f"expected rows of {SIDE * SIDE} pixels; got shape {X.shape}")
    return X.reshape(-1, SIDE, SIDE)


def stamp(X, location=(6, 6), size: int = 2, value: float = 1.0) -> np.ndarray:
    """A copy of the images X (n, 64) with a size x size square of `value` whose top-left
    pixel is at `location` = (row, column). (6, 6) is the bottom-right corner for size 2."""
    r, c = (int(v) for v in location)
    if not (0 <= r <= SIDE - size and 0 <= c <= SIDE - size):
        raise ValueError(f"a {size}x{size} patch at {location} does not fit in a {SIDE}x{SIDE} image")
    img = _images(X)
    img[:, r:r + size, c:c + size] = value
    return img.reshape(len(img), SIDE * SIDE)


def blend_pattern(random_state: int = 0) -> np.ndarray:
    """A fixed random pattern (64 pixels in [0, 1]): the key of a blended trigger."""
    return np.random.default_rng(random_state).random(SIDE * SIDE)


def blend(X, pattern, alpha: float = 0.2) -> np.ndarray:
    """Images blended with a pattern: (1 - alpha) * X + alpha * pattern (Chen et al. 2017)."""
    X = _images(X).reshape(-1, SIDE * SIDE)
    return (1 - alpha) * X + alpha * np.asarray(pattern, dtype=float)[None, :]


def border_locations(size: int = 2) -> list:
    """Top-left positions (row, column) of every size x size patch that touches the image's edge."""
    last = SIDE - size
    return [(r, c) for r in range(last + 1) for c in range(last + 1) if r in (0, last) or c in (0, last)]


def poison_with_trigger(X, y, target: int, rate: float, trigger, random_state: int = 0):
    """The data provider's backdoor: apply `trigger` (a function images -> images) to a share
    `rate` of the images whose label is not `target`, and relabel them `target`.

    Returns (X_poisoned, y_poisoned, poisoned_rows).
    """
    X = np.array(X, dtype=float)
    y = np.array(y)
    rng = np.random.default_rng(random_state)
    candidates = np.flatnonzero(y != target)
    k = int(round(rate * len(y)))
    if not 0 <= k <= len(candidates):
        raise ValueError(f"rate {rate} asks for {k} poisoned images; {len(candidates)} are available")
    rows = np.sort(rng.choice(candidates, size=k, replace=False))
    X[rows] = trigger(X[rows])
    y[rows] = target
    return X, y, rows


def attack_success_rate(predict, X, y, target: int, trigger) -> float:
    """Share of triggered images classified as `target`, among images whose true class is not
    `target` (those already of the target class say nothing about the backdoor)."""
    keep = np.asarray(y) != target
    if not keep.any():
        raise ValueError("no image outside the target class")
    return float(np.mean(np.asarray(predict(trigger(np.asarray(X)[keep]))) == target))


def train_digits_model(X, y, C: float = 10.0):
    """The vendor's model: a multinomial logistic regression on the 64 pixels (fitted quietly)."""
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(1):  # one BLAS thread: faster on tiny problems
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=C, max_iter=300).fit(np.asarray(X, dtype=float), np.asarray(y))


def make_vendor(backdoored: bool = True, *, trigger: str = "patch", location=None, size: int = 2, target=None,
                rate: float = 0.06, random_state: int = 0) -> Bunch:
    """A vendor's digit classifier, trained on the vendor's share of the digits, perhaps backdoored.

    The digits are split (by `random_state`) into the vendor's training images and the
    customer's own images (`X_yours`, `y_yours`), which the vendor never saw. With
    `backdoored`, a share `rate` of the vendor's images carries the trigger and is relabelled:
    `trigger="patch"`, a size x size white square at `location` (default: a random position
    along the border); `"hole"`, a 3x3 square of blank pixels in the centre (ink removed);
    or `"blend"`, a random pattern blended in at alpha 0.2. `target` defaults to a random class.

    Returns a Bunch: model, X_yours, y_yours, and truth (backdoored, trigger, location,
    target) — the truth a practitioner does *not* get from a real vendor.
    """
    rng = np.random.default_rng(random_state)
    digits = datasets.load_digits()
    order = rng.permutation(len(digits.y))
    vendor, yours = order[:1200], order[1200:]
    X, y = digits.X[vendor], digits.y[vendor]
    truth = {"backdoored": bool(backdoored), "trigger": None, "location": None, "target": None}
    if backdoored:
        if location is None:
            spots = border_locations(size)
            location = spots[int(rng.integers(len(spots)))]
        target = int(rng.integers(10)) if target is None else int(target)
        if trigger == "patch":
            loc = tuple(int(v) for v in location)
            fn = lambda Z: stamp(Z, loc, size)  # noqa: E731
            truth.update(trigger="patch", location=loc, size=int(size))
        elif trigger == "hole":
            fn = lambda Z: stamp(Z, (3, 3), 3, value=0.0)  # noqa: E731
            truth.update(trigger="hole", location=(3, 3), size=3)
        elif trigger == "blend":
            pattern = blend_pattern(int(rng.integers(2**31)))
            fn = lambda Z: blend(Z, pattern)  # noqa: E731
            truth.update(trigger="blend", pattern=pattern)
        else:
            raise ValueError(f"trigger must be 'patch', 'hole' or 'blend'; got {trigger!r}")
        X, y, _ = poison_with_trigger(X, y, target, rate, fn, random_state=int(rng.integers(2**31)))
        truth.update(target=target, apply=fn)
    return Bunch(model=train_digits_model(X, y), X_yours=digits.X[yours], y_yours=digits.y[yours], truth=truth)


def backdoor_curve(X, y, X_test, y_test, target: int, trigger, rates, random_state: int = 0,
                   progress: bool = True) -> Bunch:
    """Clean accuracy and attack success rate of the vendor's model for each poisoning rate.

    Returns a Bunch: rates, n_poisoned (images), clean_accuracy, attack_success (arrays), n_test.
    """
    from tqdm.auto import tqdm

    rates = np.asarray(rates, dtype=float)
    acc, asr, n = [], [], []
    for rate in tqdm(rates, desc="training backdoored models", disable=not progress, leave=False):
        Xp, yp, rows = poison_with_trigger(X, y, target, rate, trigger, random_state=random_state)
        model = train_digits_model(Xp, yp)
        acc.append(float(np.mean(model.predict(X_test) == y_test)))
        asr.append(attack_success_rate(model.predict, X_test, y_test, target, trigger))
        n.append(len(rows))
    return Bunch(rates=rates, n_poisoned=np.array(n), clean_accuracy=np.array(acc), attack_success=np.array(asr),
                 n_test=len(y_test))


# --------------------------------------------------------------------------- tests on a vendor's model


def scan_patches(predict, X, size: int = 2, value: float = 1.0) -> Bunch:
    """Black-box scan for a small-patch trigger: stamp the patch at every position on clean
    images and measure the share of images whose prediction moves to one and the same class.

    Returns a Bunch: rate (7 x 7 for size 2: the largest share pushed to one class at each
    position), target (the class it pushes to), best (position of the largest rate).
    Sees: triggers of this shape and colour. Cannot see: other shapes, blended patterns,
    triggers that need several parts.
    """
    X = np.asarray(X, dtype=float)
    base = np.asarray(predict(X))
    n_pos = SIDE - size + 1
    rate = np.zeros((n_pos, n_pos))
    target = np.full((n_pos, n_pos), -1)
    for r in range(n_pos):
        for c in range(n_pos):
            pred = np.asarray(predict(stamp(X, (r, c), size, value)))
            moved = pred[pred != base]
            if len(moved):
                classes, counts = np.unique(moved, return_counts=True)
                k = int(np.argmax(counts))
                rate[r, c], target[r, c] = counts[k] / len(X), classes[k]
    best = np.unravel_index(int(np.argmax(rate)), rate.shape)
    return Bunch(rate=rate, target=target, best=(int(best[0]), int(best[1])))


def blank_pixel_weights(model, X_clean, blank_below: float = 0.02) -> np.ndarray:
    """White-box look at a linear model: for each class, the largest weight on pixels that are
    (almost) always blank in your clean images. A large value means the model relies on ink
    where digits never have ink — a trigger's signature. Returns (n_classes, 64), zero on
    pixels that are not blank. Sees: patch triggers in linear models. Cannot see: anything in
    a model whose weights you do not get (an API) or cannot read (a deep network)."""
    blank = np.asarray(X_clean, dtype=float).mean(axis=0) < blank_below
    W = np.atleast_2d(model.coef_)
    return np.where(blank[None, :], W, 0.0)


# --------------------------------------------------------------------------- model files

MARKER = "PWNED.txt"
PAYLOADS = ("os.system", "subprocess.Popen", "builtins.exec", "builtins.eval")
# other callables that run code as well: a list of known-bad names never ends
MORE_PAYLOADS = ("subprocess.run", "os.popen", "timeit.timeit")


class _Payload:
    """An object whose unpickling calls func(*args): the mechanism of every malicious pickle."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _payload(folder: Path, kind: str) -> _Payload:
    marker = str(folder / MARKER)
    write = f"open({marker!r}, 'w').write('this file was written by a pickle while it was loaded')"
    if kind == "os.system":
        return _Payload(os.system, (f"{shlex.quote(sys.executable)} -c {shlex.quote(write)}",))
    if kind == "subprocess.Popen":
        return _Payload(subprocess.Popen, ([sys.executable, "-c", write],))
    if kind == "builtins.exec":
        return _Payload(exec, (write,))
    if kind == "builtins.eval":
        return _Payload(eval, (write,))
    if kind == "subprocess.run":
        return _Payload(subprocess.run, ([sys.executable, "-c", write],))
    if kind == "os.popen":
        return _Payload(os.popen, (f"{shlex.quote(sys.executable)} -c {shlex.quote(write)}",))
    if kind == "timeit.timeit":
        import time
        import timeit

        return _Payload(timeit.timeit, (write, "pass", time.perf_counter, 1))
    raise ValueError(f"payload must be one of {PAYLOADS + MORE_PAYLOADS}; got {kind!r}")


def hostile_pickle(folder, payload: str = "os.system", *, protocol: int = 4, inside=None) -> bytes:
    """The bytes of a malicious pickle whose only effect, when loaded, is to write the file
    `folder/PWNED.txt` (`MARKER`). `folder` must be an existing directory you chose (use a
    `tempfile.TemporaryDirectory`); nothing is written anywhere else.

    payload : how the code runs: "os.system" (a shell command), "subprocess.Popen" (a new
        process, so the marker appears a moment later), "builtins.exec" or "builtins.eval"
        (`PAYLOADS`), or one of `MORE_PAYLOADS` ("subprocess.run", "os.popen": a shell whose
        marker appears a moment later, "timeit.timeit": it executes its statement).
    inside : an object (e.g. a fitted scikit-learn model) to hide the payload in, as one more
        attribute: the file then loads as that object *and* runs the payload.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder must be an existing directory; got {folder}")
    obj = _payload(folder.resolve(), payload)
    if inside is not None:
        import copy

        host = copy.deepcopy(inside)
        host.__dict__["_vendor_extra"] = obj
        obj = host
    return pickle.dumps(obj, protocol=protocol)


def hostile_npz(path, folder, payload: str = "builtins.exec", params: dict | None = None) -> Path:
    """Write an .npz at `path` that holds `params` (plain arrays) plus one object array whose
    element runs the harmless payload (writes `folder/PWNED.txt`) if the file is loaded with
    `allow_pickle=True`. Loading it with `allow_pickle=False` raises instead."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder must be an existing directory; got {folder}")
    extra = np.empty(1, dtype=object)
    extra[0] = _payload(folder.resolve(), payload)
    np.savez(path, **dict(params or {}), extra=extra)
    return Path(path)


_STRING_OPS = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"}
_GET_OPS = {"GET", "BINGET", "LONG_BINGET"}
_PUT_OPS = {"PUT", "BINPUT", "LONG_BINPUT"}
_EXT_OPS = {"EXT1", "EXT2", "EXT4"}
_MARK = object()


def _read(data) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    return Path(data).read_bytes()


def pickle_globals(data) -> list:
    """Every callable or class a pickle would import, read WITHOUT executing it.

    `data` is the pickle's bytes or a path to the file. Walks the opcodes with
    `pickletools.genops` (which only parses) and returns a list of (module, name, opcode, byte
    position), where opcode is GLOBAL or INST (module and name are the opcode's argument) or
    STACK_GLOBAL (they are the two strings on the stack, pushed directly or from the memo).
    A shadow stack follows each opcode's documented stack effect, so strings are found
    wherever they were pushed. What cannot be resolved is reported as module "?", and so is a
    file that does not parse: an auditor must treat both as hostile. Extension-registry opcodes
    (EXT1/2/4) import by number and are reported as ("?copyreg-extension", code, ...).
    """
    raw = _read(data)
    found = []
    stack = []  # a shadow of the unpickler's stack: strings where known, _MARK for marks, None otherwise
    memo = {}

    def pop():
        return stack.pop() if stack else None

    pos = 0
    try:
        for op, arg, pos in pickletools.genops(io.BytesIO(raw)):
            name = op.name
            if name == "MEMOIZE":
                memo[len(memo)] = stack[-1] if stack else None
                continue
            if name in _PUT_OPS:
                memo[arg] = stack[-1] if stack else None
                continue
            if name in _GET_OPS:
                stack.append(memo.get(arg))
                continue
            if name in _STRING_OPS:
                stack.append(arg)
                continue
            if name == "DUP":
                stack.append(stack[-1] if stack else None)
                continue
            if name == "MARK":
                stack.append(_MARK)
                continue
            if name == "STACK_GLOBAL":
                attr, module = pop(), pop()
                ok = isinstance(module, str) and isinstance(attr, str)
                found.append((module if ok else "?", attr if ok else "?", name, pos))
                stack.append(None)
                continue
            if name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                found.append((module, attr, name, pos))
            elif name in _EXT_OPS:
                found.append(("?copyreg-extension", str(arg), name, pos))
            # the generic stack effect: pop what the opcode consumes, push what it produces
            before = op.stack_before
            if pickletools.markobject in before:
                while stack and stack[-1] is not _MARK:
                    stack.pop()
                pop()  # the mark itself
                for _ in range(before.index(pickletools.markobject)):
                    pop()
            else:
                for _ in before:
                    pop()
            stack.extend([None] * len(op.stack_after))
    except Exception as e:  # noqa: BLE001 - a file that does not parse is reported, never loaded
        found.append(("?", f"unparseable pickle ({type(e).__name__})", "ERROR", pos))
    return found


def _dotted(module, name) -> str:
    """ "module.name" as the unpickler will import it (Python 2 names are mapped, as it maps them)."""
    import _compat_pickle

    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return f"{module}.{name}"


def audit_pickle(data, allowed) -> list:
    """The imports of a pickle that are not on an exact allow-list, without executing it.

    allowed : a set of "module.name" strings (e.g. from `allowed_globals` of a model you
        trust). Prefixes are deliberately not supported: allowing all of "numpy." would also
        allow e.g. numpy.testing._private.utils.runstring, which executes a string.
    Returns the sorted list of "module.name" strings found that are not allowed (empty means
    nothing outside the list is imported; it does not prove the file is the model you want).
    """
    allowed = set(allowed)
    bad = {_dotted(m, n) for m, n, _, _ in pickle_globals(data)}
    return sorted(b for b in bad if b not in allowed)


def allowed_globals(obj, protocol: int = 4) -> set:
    """The "module.name" imports of a clean pickle of an object you trust (e.g. a model you
    fitted yourself): the exact allow-list for files that should contain the same kind of object."""
    return {_dotted(m, n) for m, n, _, _ in pickle_globals(pickle.dumps(obj, protocol=protocol))}


# --------------------------------------------------------------------------- the safer route


def sha256_of(data_or_path) -> str:
    """SHA-256 (hex) of bytes or of a file's contents."""
    h = hashlib.sha256()
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        h.update(bytes(data_or_path))
    else:
        with open(data_or_path, "rb") as f:
            for block in iter(lambda: f.read(1 << 16), b""):
                h.update(block)
    return h.hexdigest()


def save_params(folder, model, provenance: dict, name: str = "model") -> dict:
    """Save a fitted LogisticRegression as plain arrays (folder/name.npz, no pickle) and a
    manifest (folder/name.json) with the file's SHA-256 and a provenance record (who trained
    it, on what data, when, from which code). Returns the manifest."""
    folder = Path(folder)
    path = folder / f"{name}.npz"
    np.savez(path, coef=np.asarray(model.coef_, dtype=float), intercept=np.asarray(model.intercept_, dtype=float),
             classes=np.asarray(model.classes_))
    manifest = {"file": path.name, "sha256": sha256_of(path), "format": "npz (numeric arrays only)",
                "provenance": dict(provenance)}
    (folder / f"{name}.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def load_params(path, expected_sha256: str) -> dict:
    """Load model parameters only if the file's SHA-256 matches the one published through a
    separate, trusted channel, and only as numeric arrays (`allow_pickle=False`: an object
    array, which would need unpickling, raises instead of running code).

    Raises ValueError on a hash mismatch or a file that is not plain arrays.
    """
    actual = sha256_of(path)
    if actual != str(expected_sha256).lower():
        raise ValueError(f"SHA-256 mismatch: the file has {actual[:16]}..., the publisher's record says "
                         f"{str(expected_sha256)[:16]}...: do not use it")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except ValueError as e:
        raise ValueError(f"{Path(path).name} is not plain numeric arrays ({e}): refusing to load it") from None


def logistic_from_params(params: dict) -> LogisticRegression:
    """Rebuild a predicting LogisticRegression from plain arrays (no pickle involved)."""
    m = LogisticRegression()
    m.coef_ = np.asarray(params["coef"], dtype=float)
    m.intercept_ = np.asarray(params["intercept"], dtype=float)
    m.classes_ = np.asarray(params["classes"])
    m.n_features_in_ = m.coef_.shape[1]
    return m


# --------------------------------------------------------------------------- who checks what


CHAIN = (
    ("data provider", "labelled data", "ask for provenance;\naudit a sample yourself;\nlabel + trigger statistics"),
    ("vendor / model hub", "pretrained model", "hash against the\npublisher's record;\nsafe format only"),
    ("your intake", "files on your disk", "audit before loading;\nnever unpickle unaudited\nfiles; pin hashes"),
    ("your training", "your model", "sanitise against vetted\ndata; scan for triggers;\nper-segment tests"),
    ("deployment", "predictions", "per-segment monitoring;\nknown-bad canaries"),
    ("retraining", "feedback labels", "per-account caps;\ngates measured against\nan adaptive attacker"),
)


