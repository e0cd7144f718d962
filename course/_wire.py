"""Plain data across the sandbox boundary: JSON, with numpy arrays as base64 (no pickle, ever).

Only None, bool, int, float, str, lists, dicts with string keys and numeric/boolean numpy arrays
cross; anything else is refused. The grading process decodes what the sandbox sends with
`decode`, which cannot run code, and caps sizes.
"""
from __future__ import annotations

import base64
import json
import math

import numpy as np

ALLOWED_KINDS = "biufc"  # bool, signed, unsigned, float, complex
MAX_DEPTH = 20


class WireError(ValueError):
    """A value that cannot cross the boundary as plain data."""


def _enc(x, depth=0):
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if x is None or isinstance(x, (bool, str)):
        return x
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
    if isinstance(x, (list, tuple)):
        return [_enc(v, depth + 1) for v in x]
    if isinstance(x, dict):
        if not all(isinstance(k, (str, int)) for k in x):
            raise WireError("dict keys must be strings or integers")
        return {"__dict__": [[_enc(k, depth + 1), _enc(v, depth + 1)] for k, v in x.items()]}
    raise WireError(f"a {type(x).__name__} cannot be graded: return numbers, strings, lists, dicts or numpy arrays")


def encode(x) -> str:
    return json.dumps(_enc(x))


def _dec(x, depth=0):
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, list):
        return [_dec(v, depth + 1) for v in x]
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
            return {_dec(k, depth + 1): _dec(v, depth + 1) for k, v in x["__dict__"]}
        raise WireError("unknown object")
    raise WireError(f"unexpected {type(x).__name__}")


def decode(text: str, max_bytes: int = 64 * 2**20):
    if len(text) > max_bytes:
        raise WireError(f"answer larger than {max_bytes // 2**20} MiB")
    return _dec(json.loads(text))
