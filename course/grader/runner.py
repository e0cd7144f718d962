"""Runs INSIDE the grading sandbox: execute one prepared notebook, then answer the grader's calls.

Everything here is untrusted from the grader's point of view (the learner's code runs in the same
sandbox and could change it): the grader only ever receives plain data from it (`course.grader.protocol`)
and judges that data itself. Protocol, one JSON object per line:

    runner -> grader  {"event": "executed", "cells": [...], "kernel_alive": bool}
    grader -> runner  {"op": "call", "id": n, "task": id, "args": <wire>}   (call the learner's function)
    grader -> runner  {"op": "value", "id": n, "task": id}                  (send the learner's value)
    runner -> grader  {"id": n, "ok": true, "result": <wire>} | {"id": n, "ok": false, "ename": .., "evalue": ..}
    grader -> runner  {"op": "quit"}
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PRELUDE = '''
def __course_setup__():
    import json as _json
    from course.grader import protocol, remote

    answers, handles = {}, {}

    class Missing:
        def __init__(self, why):
            self.why = why

    def export(task, getter):
        try:
            answers[task] = getter()
        except NameError as e:
            answers[task] = Missing(str(e))

    def register(obj):
        handles[len(handles) + 1] = obj
        kind = type(obj)
        methods = sorted(n for n in dir(kind) if not n.startswith("_") and callable(getattr(kind, n, None))
                         and not isinstance(getattr(kind, n, None), property))
        return {"handle": len(handles), "cls": kind.__name__, "methods": methods, "callable": callable(obj)}

    def rpc(task, path_in, path_out):
        try:
            req = _json.loads(open(path_in).read())
            args = protocol.decode(req.get("args", "[]"), remote=remote.proxy, files=remote.receive_file)
            if req["op"] == "method":
                obj, name = handles[int(req["handle"])], str(req["name"])
                if name.startswith("_") and name != "__call__":
                    raise AttributeError(name)
                if req.get("getattr"):
                    result = getattr(obj, name)
                    if callable(result):
                        reply = {"ok": True, "callable": True}
                        raise StopIteration
                else:
                    result = (obj if name == "__call__" else getattr(obj, name))(*args)
            else:
                a = answers.get(task, Missing("the answer was never defined"))
                if isinstance(a, Missing):
                    raise NameError(a.why)
                result = a if req["op"] == "value" else a(*args)
            reply = {"ok": True, "result": protocol.encode(result, remote=register)}
        except StopIteration:
            pass
        except BaseException as e:  # the learner's code may raise anything, even SystemExit
            reply = {"ok": False, "ename": type(e).__name__, "evalue": str(e)[:2000]}
        with open(path_out, "w") as f:
            f.write(_json.dumps(reply))

    return export, rpc


__course_export__, __course_rpc__ = __course_setup__()
del __course_setup__
'''


_CHANNEL = sys.stdout  # the protocol channel; everything else printed here goes to stderr


def _send(obj) -> None:
    _CHANNEL.write(json.dumps(obj) + "\n")
    _CHANNEL.flush()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... [output cut at {limit} characters]"


def _safe_outputs(cell, limit: int) -> list:
    """Outputs worth showing in feedback: text and PNG only (no HTML or JavaScript from the learner)."""
    kept, used = [], 0
    for out in cell.get("outputs", []):
        t = out.get("output_type")
        if t == "stream":
            text = _clip(out.get("text", ""), limit - used)
            kept.append({"output_type": "stream", "name": out.get("name", "stdout"), "text": text})
            used += len(text)
        elif t in ("execute_result", "display_data"):
            data = out.get("data", {})
            d = {}
            if "image/png" in data and len(data["image/png"]) < limit:
                d["image/png"] = data["image/png"]
            if "text/plain" in data:
                d["text/plain"] = _clip(str(data["text/plain"]), 4000)
            if d:
                o = {"output_type": "display_data", "data": d, "metadata": {}}
                kept.append(o)
        elif t == "error":
            kept.append({"output_type": "error", "ename": str(out.get("ename", ""))[:200],
                         "evalue": _clip(str(out.get("evalue", "")), 4000),
                         "traceback": [_clip(str(x), 4000) for x in out.get("traceback", [])[-20:]]})
        if used >= limit:
            break
    return kept


def main() -> int:
    # jsonschema (through nbformat) imports rfc3987_syntax, an optional IRI format checker nbformat's schema never
    # uses, whose grammar takes ~1.6 s to build: paid by every sandbox, once per submission. Left out here.
    sys.modules.setdefault("rfc3987_syntax", None)
    import time

    t0 = time.perf_counter()
    import nbformat
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    timings = {"imports": round(time.perf_counter() - t0, 2)}
    spec = json.loads(sys.stdin.readline())
    nb = nbformat.read(spec["notebook"], as_version=4)
    limit = int(spec.get("output_bytes", 2 * 2**20))
    nb.cells.insert(0, nbformat.v4.new_code_cell(PRELUDE))
    client = NotebookClient(nb, timeout=int(spec.get("cell_timeout", 60)), kernel_name="python3",
                            allow_errors=True, interrupt_on_timeout=True, resources={"metadata": {"path": os.getcwd()}})
    rpc_dir = Path(".rpc")
    rpc_dir.mkdir(exist_ok=True)
    cells, alive = [], True
    t1 = time.perf_counter()
    with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        timings["kernel_start"] = round(time.perf_counter() - t1, 2)
        t2 = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            status = "ok"
            if alive:
                try:
                    client.execute_cell(cell, index)
                    if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                        status = "error"
                except CellTimeoutError:
                    status = "timeout"
                except DeadKernelError:
                    status, alive = "dead", False
                except Exception as e:  # noqa: BLE001 - report, do not die
                    status = f"runner-error: {type(e).__name__}"
                    alive = client.kc is not None and run_sync(client.km.is_alive)()
            else:
                status = "not-run"
            if index == 0:
                continue  # the prelude
            err = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), {})
            cells.append({"index": index - 1, "status": status, "ename": err.get("ename", ""),
                          "evalue": _clip(str(err.get("evalue", "")), 2000), "outputs": _safe_outputs(cell, limit // 8)})
        alive = alive and run_sync(client.km.is_alive)()
        timings["cells"] = round(time.perf_counter() - t2, 2)
        _send({"event": "executed", "cells": cells, "kernel_alive": alive, "timings": timings})
        for line in sys.stdin:
            req = json.loads(line)
            if req.get("op") == "quit":
                break
            rid = req.get("id")
            if not alive or not run_sync(client.km.is_alive)():
                _send({"id": rid, "ok": False, "ename": "KernelDied", "evalue": "the notebook's kernel is no longer running"})
                alive = False
                continue
            path_in, path_out = rpc_dir / f"in-{rid}.json", rpc_dir / f"out-{rid}.json"
            path_in.write_text(json.dumps(req))
            code = f"__course_rpc__({str(req.get('task', ''))!r}, {str(path_in)!r}, {str(path_out)!r})"
            probe = nbformat.v4.new_code_cell(code)
            nb.cells.append(probe)  # nbclient writes the executed cell back at its index
            try:
                client.execute_cell(probe, len(nb.cells) - 1)
            except CellTimeoutError:
                _send({"id": rid, "ok": False, "ename": "Timeout", "evalue": "the function did not return within the time limit"})
                continue
            except DeadKernelError:
                alive = False
                _send({"id": rid, "ok": False, "ename": "KernelDied", "evalue": "the kernel died while running the function"})
                continue
            finally:
                nb.cells.pop()
            try:
                size = path_out.stat().st_size
                if size > limit * 16:
                    raise ValueError(f"the answer is larger than {limit * 16 // 2**20} MiB")
                reply = json.loads(path_out.read_text())
            except (OSError, ValueError) as e:
                reply = {"ok": False, "ename": "NoAnswer", "evalue": f"no usable answer came back ({e})"}
            reply["id"] = rid
            _send(reply)
            for p in (path_in, path_out):
                try:
                    p.unlink()
                except OSError:
                    pass
    return 0


if __name__ == "__main__":
    sys.stdout = sys.stderr  # keep the protocol channel clean
    sys.exit(main())
