"""Tests of course.science.supply_chain and the checks of exercise 07: triggers, vendor tests, the
pickle demo (its payload writes only into the folder given), the audit (which never loads), the
safer route, and checks that fail wrong answers."""
from __future__ import annotations

import pickle
import time

import numpy as np
import pytest

from course.checks import evaluate
from course.science import datasets
from course.science import supply_chain as sc


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits()


@pytest.fixture(scope="module")
def honest():
    return sc.make_vendor(False, random_state=1)


@pytest.fixture(scope="module")
def backdoored():
    return sc.make_vendor(True, trigger="patch", location=(6, 6), target=7, random_state=2)


def test_stamp_sets_only_the_patch(digits):
    X = digits.X[:5]
    Z = sc.stamp(X, (6, 6), size=2)
    img = Z.reshape(-1, 8, 8)
    assert np.all(img[:, 6:, 6:] == 1.0)
    mask = np.ones((8, 8), bool)
    mask[6:, 6:] = False
    assert np.array_equal(img[:, mask], X.reshape(-1, 8, 8)[:, mask])
    assert sc.stamp(X[:0], (0, 0)).shape == (0, 64)
    with pytest.raises(ValueError):
        sc.stamp(X, (7, 7), size=2)


def test_border_locations_touch_the_edge():
    spots = sc.border_locations(2)
    assert len(spots) == 24 and (0, 0) in spots and (6, 6) in spots and (3, 3) not in spots


def test_poison_with_trigger_relabels_a_share_of_other_classes(digits):
    X, y, rows = sc.poison_with_trigger(digits.X[:1000], digits.y[:1000], 7, 0.05, lambda Z: sc.stamp(Z, (0, 0)))
    assert len(rows) == 50 and np.all(y[rows] == 7) and np.all(digits.y[:1000][rows] != 7)
    untouched = np.setdiff1d(np.arange(1000), rows)
    assert np.array_equal(X[untouched], digits.X[:1000][untouched])


def test_attack_success_rate_ignores_the_target_class():
    X = np.zeros((4, 64))
    y = np.array([7, 7, 1, 2])
    # a "model" that always answers 7: every non-7 image is a success; the 7s are not counted
    assert sc.attack_success_rate(lambda Z: np.full(len(Z), 7), X, y, 7, lambda Z: Z) == 1.0
    assert sc.attack_success_rate(lambda Z: np.array([7, 1, 2, 2])[: len(Z)], X, y, 7, lambda Z: Z) == 0.5


def test_backdoor_keeps_accuracy_and_obeys_trigger(honest, backdoored):
    for v in (honest, backdoored):
        assert np.mean(v.model.predict(v.X_yours) == v.y_yours) > 0.93
    t = backdoored.truth
    assert sc.attack_success_rate(backdoored.model.predict, backdoored.X_yours, backdoored.y_yours, 7, t["apply"]) > 0.8
    assert sc.attack_success_rate(honest.model.predict, honest.X_yours, honest.y_yours, 7, t["apply"]) < 0.1


def test_scan_finds_the_patch_but_not_the_hole(honest, backdoored):
    bad = sc.scan_patches(backdoored.model.predict, backdoored.X_yours[:200])
    good = sc.scan_patches(honest.model.predict, honest.X_yours[:200])
    assert bad.best == (6, 6) and bad.target[bad.best] == 7 and bad.rate.max() > 0.6
    assert good.rate.max() < 0.35
    hole = sc.make_vendor(True, trigger="hole", random_state=3)
    assert sc.scan_patches(hole.model.predict, hole.X_yours[:200]).rate.max() < 0.35
    t = hole.truth
    assert sc.attack_success_rate(hole.model.predict, hole.X_yours, hole.y_yours, t["target"], t["apply"]) > 0.7


def test_blank_pixel_weights_flag_the_corner_patch(honest, backdoored):
    assert sc.blank_pixel_weights(backdoored.model, backdoored.X_yours).max() > 2 * sc.blank_pixel_weights(
        honest.model, honest.X_yours).max()


@pytest.mark.parametrize("payload", sc.PAYLOADS)
def test_hostile_pickle_runs_its_payload_only_into_the_given_folder(tmp_path, payload):
    folder = tmp_path / "box"
    folder.mkdir()
    data = sc.hostile_pickle(folder, payload)
    assert not (folder / sc.MARKER).exists()
    pickle.loads(data)  # the harmless payload: writes folder/PWNED.txt and nothing else
    for _ in range(50):  # subprocess.Popen writes a moment later
        if (folder / sc.MARKER).exists():
            break
        time.sleep(0.05)
    assert (folder / sc.MARKER).exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["PWNED.txt", "box"]


def test_hostile_pickle_refuses_a_missing_folder(tmp_path):
    with pytest.raises(ValueError):
        sc.hostile_pickle(tmp_path / "nope")


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize("payload", sc.PAYLOADS)
def test_audit_finds_every_payload_without_loading(tmp_path, honest, payload, protocol):
    allowed = sc.allowed_globals(honest.model, protocol=protocol)
    for inside in (None, honest.model):
        data = sc.hostile_pickle(tmp_path, payload, protocol=protocol, inside=inside)
        found = sc.audit_pickle(data, allowed)
        assert any(f.rsplit(".", 1)[-1] == payload.rsplit(".", 1)[-1] for f in found), found
    time.sleep(0.1 if payload == "subprocess.Popen" else 0)
    assert not (tmp_path / sc.MARKER).exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_audit_passes_a_clean_model_file(honest, protocol):
    allowed = sc.allowed_globals(honest.model, protocol=protocol)
    assert sc.audit_pickle(pickle.dumps(honest.model, protocol=protocol), allowed) == []


def test_audit_reports_unparseable_files_as_hostile():
    found = sc.pickle_globals(b"\x80\x04\x95garbage")
    assert found and found[-1][0] == "?"


def test_safer_route_loads_verified_arrays_and_refuses_the_rest(tmp_path, honest, digits):
    manifest = sc.save_params(tmp_path, honest.model, {"publisher": "test"})
    path = tmp_path / manifest["file"]
    params = sc.load_params(path, manifest["sha256"])
    rebuilt = sc.logistic_from_params(params)
    assert np.array_equal(rebuilt.predict(digits.X[:100]), honest.model.predict(digits.X[:100]))
    with pytest.raises(ValueError, match="mismatch"):
        sc.load_params(path, "0" * 64)
    smuggled = sc.hostile_npz(tmp_path / "smuggled.npz", tmp_path, params=params)
    with pytest.raises(ValueError, match="not plain"):
        sc.load_params(smuggled, sc.sha256_of(smuggled))
    assert not (tmp_path / sc.MARKER).exists()


# --------------------------------------------------------------------------- the checks of exercise 07


def test_backdoor_report_check_explains_counting_the_target_class():
    def all_images(predict, X, y, trigger):
        moved = predict(trigger(X))
        t = int(np.bincount(moved, minlength=10).argmax())
        return {"clean_accuracy": float(np.mean(predict(X) == y)), "target": t,
                "attack_success_rate": float(np.mean(moved == t))}

    v = evaluate("07-backdoors-supply-chain/backdoor-report", all_images)
    assert not v.passed and "target class included" in v.seen


def test_inspect_check_fails_a_test_that_always_alarms():
    v = evaluate("07-backdoors-supply-chain/inspect-vendor", lambda p, X, y: {"backdoored": True, "location": (0, 0)})
    assert not v.passed


def test_should_load_check_fails_a_decision_that_loads_the_file():
    def loads(data, reference):
        return type(pickle.loads(data)) is type(reference)  # wrong on purpose: the payload writes its marker

    v = evaluate("07-backdoors-supply-chain/should-load", loads)
    assert not v.passed and "ran while you judged" in v.seen


def test_should_load_check_fails_always_yes_or_always_no():
    assert not evaluate("07-backdoors-supply-chain/should-load", lambda d, r: True).passed
    assert not evaluate("07-backdoors-supply-chain/should-load", lambda d, r: False).passed


def test_should_load_check_passes_an_allow_list_over_every_protocol():
    def allow(data, reference):
        allowed = set().union(*(sc.allowed_globals(reference, protocol=p) for p in range(6)))
        return not sc.audit_pickle(data, allowed)

    assert evaluate("07-backdoors-supply-chain/should-load", allow).passed


def test_load_check_fails_without_a_hash_check_and_passes_the_course_loader():
    def no_hash(path, expected):
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}

    v = evaluate("07-backdoors-supply-chain/load-verified", no_hash)
    assert not v.passed and "changed after publication" in v.case
    assert evaluate("07-backdoors-supply-chain/load-verified", sc.load_params).passed
