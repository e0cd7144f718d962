"""Checks of exercise 07 (backdoors and the supply chain): what arrives from others is tested by
the team that uses it (M3), where it enters the workflow (M6).

The model-file checks build hostile files themselves, in a temporary folder, with payloads whose
only effect when loaded is to write a marker file into that folder; after calling the learner's
function they assert that the marker does not exist: a correct audit never loads the file.
"""
from __future__ import annotations

import copy
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


def _success_by_class(predict, X, y, trigger):
    """For each class t: the share of triggered images whose true class is not t that go to t."""
    triggered = np.asarray(predict(trigger(X)))
    return {int(t): float(np.mean(triggered[y != t] == t)) for t in range(10)}, triggered


@task(f"{A}/backdoor-report", answer="backdoor_report", misconceptions=["M3", "M7"])
def check_backdoor_report(backdoor_report, seed, chk):
    rng = np.random.default_rng(seed)
    cases = [("a backdoored vendor", strong_vendor(int(rng.integers(2**31)))),
             ("an honest vendor", sc.make_vendor(False, random_state=int(rng.integers(2**31))))]
    summary = []
    for label, v in cases:
        chk.current_case = label
        if v.truth["backdoored"]:
            trigger = v.truth["apply"]
        else:  # an honest model, probed with some trigger all the same
            loc = sc.border_locations(2)[int(rng.integers(len(sc.border_locations(2))))]
            def trigger(Z, loc=loc):
                return sc.stamp(Z, loc)
        X, y = v.X_yours, v.y_yours
        got = call(chk, backdoor_report, _predict(v.model), X.copy(), y.copy(), trigger, what="backdoor_report")
        chk.require(isinstance(got, dict) and {"clean_accuracy", "target", "attack_success_rate"} <= set(got),
                   expected="a dict with the keys 'clean_accuracy', 'target' and 'attack_success_rate'", seen=fmt(got))
        acc = float(np.mean(v.model.predict(X) == y))
        by_class, triggered = _success_by_class(v.model.predict, X, y, trigger)
        best = max(by_class.values())
        try:
            got_acc, got_t, got_asr = float(got["clean_accuracy"]), int(got["target"]), float(got["attack_success_rate"])
        except (TypeError, ValueError):
            chk.require(False, expected="two numbers and a class", seen=fmt(got))
        chk.require(abs(got_acc - acc) <= 1e-9, expected=f"clean_accuracy {acc:.4f}",
                   seen=f"{got_acc:.4f}", why="accuracy on your own clean images is the first acceptance test")
        chk.require(got_t in by_class and by_class[got_t] >= best - 1e-9,
                    expected="the class the trigger sends the most images to (counting only images not already "
                             "of that class)",
                    seen=f"class {got_t}, to which {by_class.get(got_t, float('nan')):.0%} of the others go "
                         f"(the most for one class: {best:.0%})",
                    why="the trigger's target is what an attacker gains: you rarely know it in advance")
        rate_all = float(np.mean(triggered == got_t))
        hint = (" — that is the rate over all images, the target class included: images already of the target "
                "class say nothing about the backdoor" if abs(got_asr - rate_all) <= 1e-9 and abs(best - rate_all) > 1e-9
                else "")
        chk.require(abs(got_asr - by_class[got_t]) <= 1e-9,
                    expected=f"attack_success_rate {by_class[got_t]:.4f} for class {got_t} (triggered images whose "
                             f"true class is not {got_t})",
                    seen=f"{got_asr:.4f}{hint}",
                    why="a backdoor keeps clean accuracy: only the success rate on triggered images shows it")
        summary.append(f"{label}: accuracy {acc:.3f}, trigger sends {best:.0%} of the others to class {got_t}")
    chk.current_case = ""
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
        chk.current_case = f"vendor model {i + 1} of {N_VENDORS}"
        got = call(chk, inspect_vendor, _predict(v.model), X.copy(), y.copy(), what="inspect_vendor")
        chk.require(isinstance(got, dict) and "backdoored" in got,
                   expected="a dict with the keys 'backdoored' and 'location'", seen=fmt(got))
        said = bool(got["backdoored"])
        truth = v.truth
        if truth["backdoored"]:
            chk.expect(said, expected="backdoored (its training data carried a white patch)", seen="you said it is clean",
                       why="a backdoored model keeps its clean accuracy: only a test aimed at triggers finds it, "
                           "and nobody but you will run it on your use")
            loc = _location(got.get("location"))
            t = truth["location"]
            ok = loc is not None and max(abs(loc[0] - t[0]), abs(loc[1] - t[1])) <= 1
            chk.require(ok, expected="the trigger's top-left pixel (row, column), within 1 pixel",
                       seen=f"location {fmt(got.get('location'))}",
                       why="knowing where the trigger is lets you filter inputs and tell the vendor what to fix")
        else:
            chk.require(not said, expected="clean", seen=f"you said it is backdoored at {fmt(got.get('location'))}",
                       why="a test that rejects honest models too gets switched off: its false alarms are its cost")
        right.append("backdoored" if truth["backdoored"] else "clean")
    chk.current_case = ""
    return chk.passed(f"all {N_VENDORS} vendor models judged right ({', '.join(right)}), trigger locations found")


# ---------------------------------------------------------------------------- task 3: load this file or not?
_NOTES = {"review": "checked by the vendor: no os.system, subprocess.Popen, builtins.exec or eval anywhere",
          "pipeline": ["posix", "system", "builtins", "exec"], "owner": "exec-team"}


def _reference(seed):
    return sc.make_vendor(False, random_state=int(seed % (2**31))).model


def _load_cases(seed: int, hidden: bool):
    """(description, kind, payload, protocol) for the should-load task; kind: clean, words, other, hostile."""
    rng = np.random.default_rng(seed)
    protos = [int(p) for p in rng.choice([2, 4, 5], size=3, replace=False)] if hidden else [4, 5, 2]
    cases = [(f"a clean file of your model (protocol {protos[0]})", "clean", None, protos[0]),
             (f"a clean file whose notes name os.system and exec (protocol {protos[1]})", "words", None, protos[1]),
             ("a clean file of another model family (protocol 4)", "other", None, 4)]
    listed = [str(p) for p in rng.choice(sc.PAYLOADS, size=2, replace=False)]
    unlisted = [str(p) for p in rng.permutation(sc.MORE_PAYLOADS)]
    for payload in listed + unlisted:
        proto = int(rng.choice([2, 4, 5])) if hidden else protos[2]
        cases.append((f"your model with {payload} hidden in it (protocol {proto})", "hostile", payload, proto))
    return [cases[i] for i in rng.permutation(len(cases))]


def _file(kind, payload, proto, reference, tmp):
    if kind == "hostile":
        return sc.hostile_pickle(tmp, payload, protocol=proto, inside=reference)
    if kind == "other":
        from sklearn.neighbors import KNeighborsClassifier

        return pickle.dumps(KNeighborsClassifier(3).fit(np.eye(4), np.arange(4) % 2), protocol=proto)
    model = copy.deepcopy(reference)
    if kind == "words":
        model.notes_ = dict(_NOTES)
    return pickle.dumps(model, protocol=proto)


@task(f"{A}/should-load", answer="should_load", misconceptions=["M3", "M6"])
def check_should_load(should_load, seed, chk):
    reference = _reference(seed)
    cases = _load_cases(seed, hidden=chk.hidden)
    for label, kind, payload, proto in cases:
        chk.current_case = label
        with tempfile.TemporaryDirectory(prefix="course-audit-") as tmp:
            marker = Path(tmp) / sc.MARKER
            data = _file(kind, payload, proto, reference, tmp)
            got = call(chk, should_load, bytes(data), copy.deepcopy(reference), what="should_load")
            if payload in ("subprocess.Popen", "subprocess.run", "os.popen"):
                time.sleep(0.5)  # a process started by the payload writes its marker a moment later
            chk.expect(not marker.exists(),
                       expected="the file judged without being loaded (no marker file written)",
                       seen=f"the payload ran while you judged the file and wrote {sc.MARKER}",
                       why="unpickling IS running the file's code: a decision about loading may only read it")
        chk.require(isinstance(got, (bool, np.bool_)), expected="True or False", seen=fmt(got))
        if kind in ("clean", "words"):
            chk.expect(bool(got), expected="True: the file imports only what a clean file of your model imports",
                       seen="False",
                       why="a check that rejects clean files is switched off; words in a file's data are data, "
                           "not imports")
        else:
            what = (f"it imports {payload}, which runs code when the file is loaded" if kind == "hostile"
                    else "it imports classes a file of your model never needs")
            chk.expect(not bool(got), expected=f"False: {what}", seen="True",
                       why="a list of known-bad names is never complete: accept only what a file you made yourself "
                           "imports, and refuse the rest")
    chk.current_case = ""
    return chk.passed(f"{len(cases)} files judged without loading: every payload refused, clean files accepted")


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


def _genuine_name(folder, case, good):
    """Where a bad file of one case is put: in a folder of its own, under the genuine file's name."""
    (folder / case).mkdir()
    return folder / case / good.name


@task(f"{A}/load-verified", answer="load_verified", misconceptions=["M3"])
def check_load_verified(load_verified, seed, chk):
    model = _reference(seed + 1)
    with tempfile.TemporaryDirectory(prefix="course-verify-") as tmp:
        folder = Path(tmp)
        marker = folder / sc.MARKER
        manifest = sc.save_params(folder, model, {"publisher": "vendor", "seed": int(seed % 1000)})
        good, digest = folder / manifest["file"], manifest["sha256"]
        params = {"coef": model.coef_, "intercept": model.intercept_, "classes": model.classes_}

        kind, got = _outcome(load_verified, good, digest)
        chk.current_case = "the genuine file with its published hash"
        chk.require(kind == "returned", expected="the file to load",
                   seen=f"it raised {type(got).__name__}: {got}" if kind == "raised" else "")
        try:
            same = all(np.array_equal(np.asarray(got[k]), v) for k, v in params.items())
        except Exception:  # noqa: BLE001
            same = False
        chk.require(same, expected="a dict with the arrays 'coef', 'intercept' and 'classes' of the file",
                   seen=fmt(got))

        rng = np.random.default_rng(seed)
        tampered = _genuine_name(folder, "tampered", good)
        coef = model.coef_.copy()
        coef.flat[int(rng.integers(coef.size))] += 0.5
        np.savez(tampered, coef=coef, intercept=model.intercept_, classes=model.classes_)
        disguised = _genuine_name(folder, "disguised", good)
        disguised.write_bytes(sc.hostile_pickle(folder, str(rng.choice(sc.PAYLOADS[2:])), inside=model))
        smuggled = sc.hostile_npz(_genuine_name(folder, "smuggled", good), folder, str(rng.choice(sc.PAYLOADS[2:])), params=params)
        cases = [
            ("a file changed after publication, under the genuine name, with the publisher's hash", tampered, digest),
            ("a pickle under the genuine .npz name, with its own (matching) hash", disguised, sc.sha256_of(disguised)),
            ("an .npz under the genuine name smuggling an object array, with its own (matching) hash", smuggled, sc.sha256_of(smuggled)),
        ]
        for label, path, h in cases:
            chk.current_case = label
            kind, got = _outcome(load_verified, path, h)
            chk.expect(not marker.exists(), expected="the file refused without running anything",
                       seen=f"loading it ran the payload ({sc.MARKER} was written)",
                       why="a matching hash proves who published a file, not that reading it is safe: "
                           "read only formats that cannot run code")
            chk.expect(kind == "raised" and isinstance(got, ValueError),
                       expected="ValueError",
                       seen=(f"{type(got).__name__}: {got}" if kind == "raised" else f"it was loaded: {fmt(got)}"),
                       why="a file that fails its hash or is not plain arrays must not reach your model")
    chk.current_case = ""
    return chk.passed("genuine file loaded; tampered, disguised and smuggling files refused without running code")
