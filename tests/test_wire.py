"""What crosses the sandbox boundary: plain data only, decoded without running code."""
from __future__ import annotations

import dataclasses
import json
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from course.grader import protocol


def test_plain_data_round_trips():
    value = {"a": np.arange(6.0).reshape(2, 3), "b": [1, 2.5, float("nan"), None, "x", True], 3: {"c": np.array([True, False])},
             "bytes": b"\x00\x01", "set": {1, 2}, "inf": float("inf")}
    back = protocol.decode(protocol.encode(value))
    assert np.array_equal(back["a"], value["a"]) and back["a"].dtype == np.float64
    assert back["b"][:2] == [1, 2.5] and np.isnan(back["b"][2]) and back["b"][3:] == [None, "x", True]
    assert back["bytes"] == b"\x00\x01" and back["set"] == {1, 2} and back["inf"] == float("inf")


def test_records_become_read_only_namespaces():
    @dataclasses.dataclass(frozen=True)
    class Prices:
        card: float
        query: float

    P = namedtuple("P", "x y")
    back = protocol.decode(protocol.encode([Prices(25.0, 0.5), P(1, 2)]))
    assert back[0].card == 25.0 and back[1].y == 2


@pytest.mark.parametrize("bad", [object(), np.array(["a"], dtype=object), lambda: 1, type])
def test_other_objects_are_refused_without_a_remote_hook(bad):
    with pytest.raises(protocol.WireError):
        protocol.encode(bad)


def test_decoding_never_creates_objects_or_handles():
    with pytest.raises(protocol.WireError, match="handle"):
        protocol.decode(json.dumps({"__remote__": {"handle": 1}}))
    with pytest.raises(protocol.WireError, match="file"):
        protocol.decode(json.dumps({"__file__": {"name": "x", "data": ""}}))
    with pytest.raises(protocol.WireError, match="refused dtype"):
        protocol.decode(json.dumps({"__ndarray__": "", "dtype": "|O", "shape": [0]}))
    with pytest.raises(protocol.WireError, match="does not match"):
        protocol.decode(json.dumps({"__ndarray__": "AAAA", "dtype": "<f8", "shape": [5]}))
    with pytest.raises(protocol.WireError, match="larger than"):
        protocol.decode("[" + "1," * 100 + "1]", max_bytes=50)


def test_remote_hook_and_files():
    seen = []
    text = protocol.encode([Path(__file__), object()], remote=lambda o: seen.append(o) or {"handle": 1},
                        files=lambda p: {"name": p.name, "data": ""})
    assert len(seen) == 1
    got = protocol.decode(text, remote=lambda spec: ("proxy", spec["handle"]), files=lambda spec: spec["name"])
    assert got == [Path(__file__).name, ("proxy", 1)]


@pytest.mark.parametrize("kind,scale", [("mlp", False), ("mlp", True), ("rbf-svm", False), ("logistic", True), ("linear-svm", False)])
def test_fitted_models_cross_as_state_and_predict_the_same(kind, scale):
    from course.science import datasets, models

    X, y = datasets.make_2d("moons", n_samples=100)
    m = models.fit(kind, X, y, scale=scale)
    back = protocol.decode(protocol.encode(m))
    assert type(back) is type(m)
    assert np.array_equal(back.predict(X), m.predict(X))
    np.testing.assert_allclose(models.decision_scores(back, X), models.decision_scores(m, X))


def test_only_allow_listed_model_classes_are_recreated():
    spec = {"__sklearn__": {"cls": "os.system", "state": {}}}
    with pytest.raises(protocol.WireError, match="refused model class"):
        protocol.decode(json.dumps(spec))
    spec = {"__sklearn__": {"cls": "sklearn.svm._classes.SVC", "state": {"kernel": {"__remote__": {"handle": 1}}}}}
    with pytest.raises(protocol.WireError, match="handle"):
        protocol.decode(json.dumps(spec), remote=lambda s: s)
