"""Checks of exercise 07 (backdoors and the supply chain): what arrives from others is tested by
the team that uses it (M3), where it enters the workflow (M6).

The model-file checks build hostile files themselves, in a temporary folder, with payloads whose
only effect when loaded is to write a marker file into that folder; after calling the learner's
function they assert that the marker does not exist: a correct audit never loads the file.
"""
from __future__ import annotations

import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from course.checks import call, task
from course.checks.feedback import CheckFailed, fmt
from course.science import supply_chain as sc

A = "07-backdoors-supply-chain"


def _predict(model):
    """The learner sees the vendor's model only through its predictions (on a private copy)."""
    import copy

    private = copy.deepcopy(model)

    def predict(X):
        return private.predict(np.asarray(X, dtype=float))

    return predict


def strong_vendor(seed: int, *, size: int = 2, min_success: float = 0.75, tries: int = 6):
    """A backdoored vendor whose patch trigger really works (attack success >= min_success)."""
    rng = np.random.default_rng(seed)
    for _ in range(tries):
        v = sc.make_vendor(True, trigger="patch", size=size, random_state=int(rng.integers(2**31)))
        t = v.truth
        if sc.attack_success_rate(v.model.predict, v.X_yours, v.y_yours, t["target"], t["apply"]) >= min_success:
            return v
    return v


# ---------------------------------------------------------------------------- task 1: measuring a backdoor


@task(f"{A}/backdoor-report", answer="backdoor_report", misconceptions=["M3", "M7"])
def check_backdoor_report(backdoor_report, seed, chk):
    rng = np.random.default_rng(seed)
    cases = [("a backdoored vendor", strong_vendor(int(rng.integers(2**31)))),
             ("an honest vendor", sc.make_vendor(False, random_state=int(rng.integers(2**31))))]
    summary = []
    for label, v in cases:
        if v.truth["backdoored"]:
            trigger, target = v.truth["apply"], v.truth["target"]
        else:  # an honest model, probed with some trigger and target all the same
            loc = sc.border_locations(2)[int(rng.integers(len(sc.border_locations(2))))]
            trigger, target = (lambda Z, loc=loc: sc.stamp(Z, loc)), int(rng.integers(10))
        X, y = v.X_yours, v.y_yours
        got = call(chk, backdoor_report, _predict(v.model), X.copy(), y.copy(), trigger, target, what="backdoor_report")
        chk.expect(isinstance(got, dict) and {"clean_accuracy", "attack_success_rate"} <= set(got),
                   expected="a dict with the keys 'clean_accuracy' and 'attack_success_rate'", seen=fmt(got))
        pred = v.model.predict(X)
        acc = float(np.mean(pred == y))
        keep = y != target
        asr = float(np.mean(v.model.predict(trigger(X[keep])) == target))
        asr_all = float(np.mean(v.model.predict(trigger(X)) == target))
        try:
            got_acc, got_asr = float(got["clean_accuracy"]), float(got["attack_success_rate"])
        except (TypeError, ValueError):
            chk.expect(False, expected="numbers", seen=fmt(got))
        chk.expect(abs(got_acc - acc) <= 1e-9, expected=f"clean_accuracy {acc:.4f} for {label}",
                   seen=f"{got_acc:.4f}", why="accuracy on your own clean images is the first acceptance test")
        hint = (" — that is the rate over all images, target class included: images already of the target class "
                "say nothing about the backdoor" if abs(got_asr - asr_all) <= 1e-9 and abs(asr - asr_all) > 1e-9 else "")
        chk.expect(abs(got_asr - asr) <= 1e-9,
                   expected=f"attack_success_rate {asr:.4f} for {label} (triggered images whose true class is not {target})",
                   seen=f"{got_asr:.4f}{hint}",
                   why="a backdoor keeps clean accuracy: only the success rate on triggered images shows it")
        summary.append(f"{label}: accuracy {acc:.3f}, attack success {asr:.0%}")
    return chk.passed("; ".join(summary))


# ---------------------------------------------------------------------------- task 2: is the vendor's model backdoored?
N_VENDORS = 4


def vendor_cases(seed: int):
    """N_VENDORS vendors, half backdoored (a 2x2 or 3x3 white patch at a random border position)."""
    rng = np.random.default_rng(seed)
    flags = rng.permutation([True, False] * (N_VENDORS // 2))
    out = []
    for bad in flags:
        if bad:
            out.append(strong_vendor(int(rng.integers(2**31)), size=int(rng.choice([2, 3]))))
        else:
            out.append(sc.make_vendor(False, random_state=int(rng.integers(2**31))))
    return out


def _location(value):
    try:
        r, c = (int(round(float(v))) for v in value)
        return r, c
    except Exception:  # noqa: BLE001
        return None


@task(f"{A}/inspect-vendor", answer="inspect_vendor", misconceptions=["M3"])
def check_inspect_vendor(inspect_vendor, seed, chk):
    right = []
    for i, v in enumerate(vendor_cases(seed)):
        X, y = v.X_yours[:300], v.y_yours[:300]
        got = call(chk, inspect_vendor, _predict(v.model), X.copy(), y.copy(), what="inspect_vendor")
        chk.expect(isinstance(got, dict) and "backdoored" in got,
                   expected="a dict with the keys 'backdoored' and 'location'", seen=fmt(got))
        said = bool(got["backdoored"])
        truth = v.truth
        name = f"vendor model {i + 1} of {N_VENDORS}"
        if truth["backdoored"]:
            chk.expect(said, expected=f"{name}: backdoored (its training data carried a {truth['size']}x{truth['size']} "
                                      f"white patch)", seen="you said it is clean",
                       why="a backdoored model keeps its clean accuracy: only a test aimed at triggers finds it, "
                           "and nobody but you will run it on your use")
            loc = _location(got.get("location"))
            t = truth["location"]
            ok = loc is not None and max(abs(loc[0] - t[0]), abs(loc[1] - t[1])) <= 1
            chk.expect(ok, expected=f"{name}: the trigger's top-left pixel (row, column) within 1 pixel of the truth",
                       seen=f"location {fmt(got.get('location'))}",
                       why="knowing where the trigger is lets you filter inputs and tell the vendor what to fix")
        else:
            chk.expect(not said, expected=f"{name}: clean", seen=f"you said it is backdoored at {fmt(got.get('location'))}",
                       why="a test that rejects honest models too gets switched off: its false alarms are its cost")
        right.append("backdoored" if truth["backdoored"] else "clean")
    return chk.passed(f"all {N_VENDORS} vendor models judged right ({', '.join(right)}), trigger locations found")


# ---------------------------------------------------------------------------- task 3: auditing a model file
_CALLABLE = {"os.system": "system", "subprocess.Popen": "Popen", "builtins.exec": "exec", "builtins.eval": "eval"}


def _audit_cases(seed: int, hidden: bool):
    """(description, payload or None, protocol, inside?) for the model-file audit."""
    if not hidden:
        return [("a clean model file", None, 4, True), ("a file calling os.system", "os.system", 4, False),
                ("a model file with builtins.exec hidden in it", "builtins.exec", 4, True)]
    rng = np.random.default_rng(seed)
    cases = [("a clean model file (protocol 5)", None, 5, True)]
    for payload in sc.PAYLOADS:
        proto = int(rng.choice([0, 2, 4, 5]))
        cases.append((f"a file calling {payload} (protocol {proto})", payload, proto, False))
    for payload in rng.choice(sc.PAYLOADS, size=2, replace=False):
        proto = int(rng.choice([4, 5]))
        cases.append((f"a model file with {payload} hidden in it (protocol {proto})", str(payload), proto, True))
    return [cases[0]] + [cases[i] for i in rng.permutation(np.arange(1, len(cases)))]


def _as_names(chk, got, what):
    ok = isinstance(got, (list, tuple, set, frozenset)) and all(isinstance(s, str) for s in got)
    chk.expect(ok, expected=f"{what} to return a list of 'module.name' strings", seen=fmt(got))
    return list(got)


def _model_for_audit(seed):
    d = sc.make_vendor(False, random_state=int(seed % (2**31)))
    return d.model


@task(f"{A}/audit-pickle", answer="audit_pickle", misconceptions=["M3", "M6"])
def check_audit_pickle(audit_pickle, seed, chk):
    model = _model_for_audit(seed)
    cases = _audit_cases(seed, hidden=chk.hidden)
    for label, payload, proto, inside in cases:
        allowed = sc.allowed_globals(model, protocol=proto)
        with tempfile.TemporaryDirectory(prefix="course-audit-") as tmp:
            marker = Path(tmp) / sc.MARKER
            if payload is None:
                data = pickle.dumps(model, protocol=proto)
            else:
                data = sc.hostile_pickle(tmp, payload, protocol=proto, inside=model if inside else None)
            got = call(chk, audit_pickle, bytes(data), set(allowed), what="audit_pickle")
            if payload == "subprocess.Popen":
                time.sleep(0.5)  # a process started by an unpickled Popen writes its marker a moment later
            chk.expect(not marker.exists(),
                       expected=f"{label}: audited without being loaded (no marker file written)",
                       seen=f"the payload ran during your audit and wrote {sc.MARKER}",
                       why="unpickling IS running the file's code: an audit must only parse it (pickletools.genops)")
            names = _as_names(chk, got, "audit_pickle")
        if payload is None:
            chk.expect(len(names) == 0, expected=f"{label}: nothing outside the allow-list (an empty list)",
                       seen=f"{names[:6]}",
                       why="an auditor that rejects clean files is switched off: every import here is on the allow-list")
            continue
        target = _CALLABLE[payload]
        chk.expect(any(n.rsplit(".", 1)[-1] == target for n in names),
                   expected=f"{label}: the payload's callable (…{target}) reported",
                   seen=f"{names[:6] if names else 'nothing reported'}",
                   why="loading this file runs that callable: it is the attack")
        wrong = sorted(set(names) & set(allowed))
        chk.expect(not wrong, expected=f"{label}: only imports that are not on the allow-list",
                   seen=f"allowed imports reported too: {wrong[:4]}",
                   why="the allow-list is the contract: report what is outside it")
    return chk.passed(f"{len(cases)} files audited without loading: every payload found, clean files passed")


# ---------------------------------------------------------------------------- task 4: the safer route


def _outcome(fn, *args):
    """('returned', value) or ('raised', exception); NotImplementedError propagates."""
    try:
        return "returned", fn(*args)
    except NotImplementedError:
        raise
    except CheckFailed:
        raise
    except Exception as e:  # noqa: BLE001 - the check judges which exception
        return "raised", e


@task(f"{A}/load-verified", answer="load_verified", misconceptions=["M3"])
def check_load_verified(load_verified, seed, chk):
    model = _model_for_audit(seed + 1)
    with tempfile.TemporaryDirectory(prefix="course-verify-") as tmp:
        folder = Path(tmp)
        marker = folder / sc.MARKER
        manifest = sc.save_params(folder, model, {"publisher": "vendor", "seed": int(seed % 1000)})
        good, digest = folder / manifest["file"], manifest["sha256"]
        params = {"coef": model.coef_, "intercept": model.intercept_, "classes": model.classes_}

        kind, got = _outcome(load_verified, good, digest)
        chk.expect(kind == "returned", expected="the genuine file with its published hash to load",
                   seen=f"it raised {type(got).__name__}: {got}" if kind == "raised" else "")
        try:
            same = all(np.array_equal(np.asarray(got[k]), v) for k, v in params.items())
        except Exception:  # noqa: BLE001
            same = False
        chk.expect(same, expected="a dict with the arrays 'coef', 'intercept' and 'classes' of the file",
                   seen=fmt(got))

        rng = np.random.default_rng(seed)
        tampered = folder / "tampered.npz"
        coef = model.coef_.copy()
        coef.flat[int(rng.integers(coef.size))] += 0.5
        np.savez(tampered, coef=coef, intercept=model.intercept_, classes=model.classes_)
        disguised = folder / "disguised.npz"
        disguised.write_bytes(sc.hostile_pickle(folder, str(rng.choice(sc.PAYLOADS[2:])), inside=model))
        smuggled = sc.hostile_npz(folder / "smuggled.npz", folder, str(rng.choice(sc.PAYLOADS[2:])), params=params)
        cases = [
            ("a file changed after publication, with the publisher's hash", tampered, digest),
            ("a pickle renamed .npz, with its own (matching) hash", disguised, sc.sha256_of(disguised)),
            ("an .npz smuggling an object array, with its own (matching) hash", smuggled, sc.sha256_of(smuggled)),
        ]
        for label, path, h in cases:
            kind, got = _outcome(load_verified, path, h)
            chk.expect(not marker.exists(), expected=f"{label}: refused without running anything",
                       seen=f"loading it ran the payload ({sc.MARKER} was written)",
                       why="a matching hash proves who published a file, not that reading it is safe: "
                           "read only formats that cannot run code (np.load with allow_pickle=False)")
            chk.expect(kind == "raised" and isinstance(got, ValueError),
                       expected=f"{label}: ValueError",
                       seen=(f"{type(got).__name__}: {got}" if kind == "raised" else f"it was loaded: {fmt(got)}"),
                       why="a file that fails its hash or is not plain arrays must not reach your model")
    return chk.passed("genuine file loaded; tampered, disguised and smuggling files refused without running code")
