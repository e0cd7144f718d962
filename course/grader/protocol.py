"""Plain data across the sandbox boundary: JSON, with numpy arrays as base64 (no pickle, ever).

Only None, bool, int, float, str, lists, dicts with string keys and numeric/boolean numpy arrays
cross; anything else is refused. The grading process decodes what the sandbox sends with
`decode`, which cannot run code, and caps sizes.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import math
import types
from pathlib import Path, PurePath

import numpy as np

from course.science import defences

ALLOWED_KINDS = "biufc"  # bool, signed, unsigned, float, complex
MAX_DEPTH = 20
# Fitted scikit-learn models that cross as their fitted state (plain data only), so that a model a
# learner returns can be evaluated - differentiated, attacked - by the grading process itself. Only
# these classes are ever re-created from such state; nothing in it can be code.
SKLEARN_CLASSES = {
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._stochastic_gradient.SGDClassifier",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.svm._classes.SVC",
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.pipeline.Pipeline",
}


def _class_name(x) -> str:
    return f"{type(x).__module__}.{type(x).__qualname__}"


def _enc_model(x, depth):
    state = {}
    for key, value in vars(x).items():
        try:
            state[key] = _enc(value, depth + 1)
        except WireError:
            continue  # e.g. a random generator or an optimiser's state: not needed to predict
    return {"__sklearn__": {"cls": _class_name(x), "state": state}}


def _dec_model(spec, depth):
    import importlib

    name = str(spec.get("cls", ""))
    if name not in SKLEARN_CLASSES:
        raise WireError(f"refused model class {name}")
    module, _, cls_name = name.rpartition(".")
    cls = getattr(importlib.import_module(module), cls_name)
    obj = cls.__new__(cls)
    state = {str(k): _dec(v, depth + 1) for k, v in spec.get("state", {}).items()}  # no handles, no files
    if "steps" in state and isinstance(state["steps"], list):
        state["steps"] = [tuple(step) for step in state["steps"]]
    obj.__dict__.update(state)
    return obj


class WireError(ValueError):
    """A value that cannot cross the boundary as plain data."""


def _enc(x, depth=0, remote=None, files=None):
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(x)).decode()}
    if isinstance(x, PurePath):
        return {"__path__": str(x)} if files is None else {"__file__": files(x)}
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return {"__float__": repr(f)} if math.isnan(f) or math.isinf(f) else f
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.ndarray) or (hasattr(x, "__array__") and not isinstance(x, (dict, list, tuple))):
        a = np.asarray(x)
        if a.dtype.kind not in ALLOWED_KINDS:
            raise WireError(f"arrays of dtype {a.dtype} cannot be graded (numbers only)")
        a = np.ascontiguousarray(a)
        return {"__ndarray__": base64.b64encode(a.tobytes()).decode(), "dtype": a.dtype.str, "shape": list(a.shape)}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        fields = {f.name: getattr(x, f.name) for f in dataclasses.fields(x)}
        return {"__record__": {k: _enc(v, depth + 1, remote, files) for k, v in fields.items()}}
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a namedtuple
        return {"__record__": {k: _enc(getattr(x, k), depth + 1, remote, files) for k in x._fields}}
    if isinstance(x, (list, tuple)):
        return [_enc(v, depth + 1, remote, files) for v in x]
    if isinstance(x, (set, frozenset)):
        return {"__set__": [_enc(v, depth + 1, remote, files) for v in x]}
    if isinstance(x, dict):
        if not all(isinstance(k, (str, int)) for k in x):
            raise WireError("dict keys must be strings or integers")
        return {"__dict__": [[_enc(k, depth + 1), _enc(v, depth + 1, remote, files)] for k, v in x.items()]}
    if _class_name(x) in SKLEARN_CLASSES:
        return _enc_model(x, depth)
    if isinstance(x, defences.Defence) and defences.recipe_of(x) is not None:  # the course's own wrappers
        return {"__defence__": _enc(defences.recipe_of(x), depth + 1)}
    if remote is not None and not isinstance(x, type):
        return {"__remote__": remote(x)}
    raise WireError(f"a {type(x).__name__} cannot be graded: return numbers, strings, lists, dicts or numpy arrays")


def encode(x, remote=None, files=None) -> str:
    """JSON text of plain data.

    `remote(obj)` turns any other object into a handle that the other side reaches through a proxy
    (the grading side hands services and models to the sandbox this way; the sandbox hands back the
    objects a learner's function returns). `files(path)` (grading side) sends a file's content along.
    """
    return json.dumps(_enc(x, 0, remote, files))


def _dec(x, depth=0, remote=None, files=None):
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, list):
        return [_dec(v, depth + 1, remote, files) for v in x]
    if isinstance(x, dict):
        if "__ndarray__" in x:
            dtype = np.dtype(str(x["dtype"]))
            if dtype.kind not in ALLOWED_KINDS or dtype.hasobject:
                raise WireError(f"refused dtype {dtype}")
            shape = tuple(int(s) for s in x["shape"])
            data = base64.b64decode(x["__ndarray__"], validate=True)
            if len(data) != dtype.itemsize * int(np.prod(shape)):
                raise WireError("array data does not match its shape")
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        if "__float__" in x:
            return float(x["__float__"])
        if "__dict__" in x:
            return {_dec(k, depth + 1): _dec(v, depth + 1, remote, files) for k, v in x["__dict__"]}
        if "__record__" in x:  # a dataclass or namedtuple: its fields, read-only by attribute
            return types.SimpleNamespace(**{str(k): _dec(v, depth + 1, remote, files) for k, v in x["__record__"].items()})
        if "__remote__" in x:
            if remote is None:
                raise WireError("an object handle cannot be read here")
            return remote(x["__remote__"])
        if "__sklearn__" in x:
            return _dec_model(x["__sklearn__"], depth)
        if "__defence__" in x:
            recipe = _dec(x["__defence__"], depth + 1)
            if not isinstance(recipe, dict):
                raise WireError("a mitigation's recipe must be a dict")
            try:
                return defences.rebuild(recipe)
            except (ValueError, KeyError, TypeError) as e:
                raise WireError(f"refused mitigation: {e}") from None
        if "__set__" in x:
            return {_dec(v, depth + 1) for v in x["__set__"]}
        if "__bytes__" in x:
            return base64.b64decode(x["__bytes__"], validate=True)
        if "__path__" in x:
            return Path(str(x["__path__"]))
        if "__file__" in x:
            if files is None:
                raise WireError("a file cannot be received here")
            return files(x["__file__"])
        raise WireError("unknown object")
    raise WireError(f"unexpected {type(x).__name__}")


def decode_value(x):
    """Plain data from an already-parsed JSON value (no handles, no files): what a result file holds."""
    return _dec(x)


def decode(text: str, max_bytes: int = 64 * 2**20, remote=None, files=None):
    """Plain data from JSON text; `remote(spec)` makes a proxy from a handle, `files(spec)` stores a file."""
    if len(text) > max_bytes:
        raise WireError(f"answer larger than {max_bytes // 2**20} MiB")
    return _dec(json.loads(text), 0, remote, files)
