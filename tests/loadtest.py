"""Load test of the workshop hub on loopback: simulated learners through the hub's REST API and the kernel API.

Each simulated learner, started `ramp` seconds after the previous one:
1. logs in: the hub makes their account and an API token (POST /hub/api/users/<name>, .../tokens);
2. starts their server (POST .../server) and waits until it is ready;
3. opens lesson 01 from ~/my-work/lessons (GET /user/<name>/api/contents/...), where start-server.py copied it;
4. starts a kernel for it (POST /api/sessions) and runs its code cells in order over the kernel's
   websocket (execute_request / execute_reply), as JupyterLab does.
Errors are counted (an HTTP error, a cell whose reply is not "ok", a timeout). Meanwhile every
learner's processes (by their uid) are sampled: peak memory (sum of PSS, so shared libraries are
not counted twice) and CPU-seconds (user + system, of every process seen). Time to first cell is
from the learner's start to the first cell's reply.

The benchmark (`python tests/loadtest.py N [RAMP]`, as root, with the hub's environment built) runs
N learners and writes test-artifacts/loadtest-N.json; tests/test_loadtest.py runs 2 and asserts
only that there were no errors.
"""
from __future__ import annotations

import asyncio
import json
import os
import pwd
import sys
import threading
import time
import uuid
from pathlib import Path

LESSON = "my-work/lessons/lesson-01-ml-recap.ipynb"


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, ValueError, IndexError):
        return 0.0


class Sampler(threading.Thread):
    """Samples the memory and CPU time of every process of the given uids, twice a second."""

    def __init__(self, names: list, interval: float = 0.5):
        super().__init__(daemon=True)
        self.names, self.interval = names, interval
        self.peak_mb = {n: 0.0 for n in names}
        self.cpu = {n: {} for n in names}  # pid -> last CPU-seconds seen
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            uids = {}
            for n in self.names:
                try:
                    uids[pwd.getpwnam(n).pw_uid] = n
                except KeyError:
                    pass
            totals = dict.fromkeys(self.names, 0)
            for d in os.listdir("/proc"):
                if not d.isdigit():
                    continue
                try:
                    uid = os.stat(f"/proc/{d}").st_uid
                except OSError:
                    continue
                if uid in uids:
                    n = uids[uid]
                    totals[n] += _pss_kb(int(d))
                    self.cpu[n][d] = max(self.cpu[n].get(d, 0.0), _cpu_seconds(int(d)))
            for n, kb in totals.items():
                self.peak_mb[n] = max(self.peak_mb[n], kb / 1024)
            self.stop.wait(self.interval)

    def cpu_seconds(self, name: str) -> float:
        return sum(self.cpu[name].values())


async def _http(client, method, url, token, body=None, timeout=300, ok=()):
    from tornado.httpclient import HTTPRequest

    req = HTTPRequest(url, method=method, headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
                      body=json.dumps(body) if body is not None else (b"" if method in ("POST", "PUT") else None),
                      request_timeout=timeout, connect_timeout=60)
    r = await client.fetch(req, raise_error=False)
    if r.code in ok:
        return None
    if r.code >= 400 or r.code == 599:
        raise RuntimeError(f"{method} {url}: HTTP {r.code} {(r.body or b'')[:300]!r}")
    return json.loads(r.body) if r.body else None


async def _run_cells(ws_url: str, token: str, cells: list, timeout: float, on_first) -> list:
    """Execute cells over a kernel's websocket; return the status of each ("ok", "error", "timeout")."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}),
                                   max_message_size=64 * 1024 * 1024)
    session = uuid.uuid4().hex
    statuses = []
    try:
        for k, code in enumerate(cells):
            msg_id = uuid.uuid4().hex
            conn.write_message(json.dumps({
                "header": {"msg_id": msg_id, "username": "loadtest", "session": session, "msg_type": "execute_request",
                           "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True},
            }))
            deadline = time.monotonic() + timeout
            status = "timeout"
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(conn.read_message(), timeout=max(1.0, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    break
                if raw is None:
                    status = "closed"
                    break
                msg = json.loads(raw)
                if msg.get("channel") == "shell" and msg.get("parent_header", {}).get("msg_id") == msg_id \
                        and msg.get("header", {}).get("msg_type") == "execute_reply":
                    status = msg["content"].get("status", "?")
                    break
            statuses.append(status)
            if k == 0:
                on_first()
            if status != "ok":
                break
    finally:
        conn.close()
    return statuses


async def simulate(url: str, admin: str, name: str, delay: float, cells: list, cell_timeout: float) -> dict:
    from tornado.httpclient import AsyncHTTPClient

    await asyncio.sleep(delay)
    client = AsyncHTTPClient(force_instance=True)
    api, t0 = f"{url}/hub/api", time.monotonic()
    record = {"name": name, "errors": [], "first_cell_s": None, "cells_run": 0, "all_cells_s": None}
    try:
        await _http(client, "POST", f"{api}/users/{name}", admin, ok=(409,))  # 409: on the roster, made at start
        token = (await _http(client, "POST", f"{api}/users/{name}/tokens", admin, {"note": "load test", "expires_in": 7200}))["token"]
        record["login_s"] = round(time.monotonic() - t0, 1)
        await _http(client, "POST", f"{api}/users/{name}/server", admin)
        while not ((await _http(client, "GET", f"{api}/users/{name}", admin)).get("servers", {}).get("", {}).get("ready")):
            if time.monotonic() - t0 > 600:
                raise RuntimeError("server not ready after 600 s")
            await asyncio.sleep(1)
        record["server_ready_s"] = round(time.monotonic() - t0, 1)
        base = f"{url}/user/{name}"
        await _http(client, "GET", f"{base}/api/contents/{LESSON}", token)  # open the lesson
        sess = await _http(client, "POST", f"{base}/api/sessions", token,
                           {"path": LESSON, "type": "notebook", "name": "", "kernel": {"name": "python3"}})
        ws = f"{url.replace('http', 'ws', 1)}/user/{name}/api/kernels/{sess['kernel']['id']}/channels"

        def first():
            record["first_cell_s"] = round(time.monotonic() - t0, 1)

        statuses = await _run_cells(ws, token, cells, cell_timeout, first)
        record["cells_run"] = sum(s == "ok" for s in statuses)
        record["all_cells_s"] = round(time.monotonic() - t0, 1)
        if len(statuses) != len(cells) or any(s != "ok" for s in statuses):
            record["errors"].append(f"cell {len(statuses)} of {len(cells)}: {statuses[-1] if statuses else 'none run'}")
    except Exception as e:  # noqa: BLE001 - every failure is a counted error of this learner
        record["errors"].append(f"{type(e).__name__}: {str(e)[:300]}")
    finally:
        client.close()
    return record


def lesson_cells(root: Path) -> list:
    nb = json.loads((root / "lessons" / "lesson-01-ml-recap.ipynb").read_text())
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


def run_load(url: str, admin: str, names: list, ramp: float, root: Path, cell_timeout: float = 900) -> dict:
    """Simulate the learners against a running hub; return the per-learner records and a summary."""
    cells = lesson_cells(root)
    sampler = Sampler(names)
    sampler.start()
    start = time.monotonic()

    async def main():
        return await asyncio.gather(*(simulate(url, admin, n, k * ramp, cells, cell_timeout) for k, n in enumerate(names)))

    try:
        records = asyncio.run(main())
    finally:
        sampler.stop.set()
        sampler.join(timeout=5)
    for r in records:
        r["peak_mb"] = round(sampler.peak_mb[r["name"]], 1)
        r["cpu_s"] = round(sampler.cpu_seconds(r["name"]), 1)
    return {"learners": len(names), "ramp_s": ramp, "cells": len(cells), "wall_s": round(time.monotonic() - start, 1),
            "errors": sum(len(r["errors"]) for r in records), "records": records, "summary": summarise(records)}


def summarise(records: list) -> dict:
    import statistics

    def stats(key):
        xs = sorted(r[key] for r in records if r.get(key) is not None)
        if not xs:
            return None
        return {"min": xs[0], "median": statistics.median(xs), "max": xs[-1]}

    return {"first_cell_s": stats("first_cell_s"), "peak_mb": stats("peak_mb"), "cpu_s": stats("cpu_s")}


def sizing(summary: dict, burst_seconds: float = 120.0, headroom: float = 1.5) -> dict:
    """The one sizing figure, from per-learner figures (not from contention): memory and cores per learner.

    memory: the largest per-learner peak (server + lesson 01's kernel), times `headroom` for a second
    notebook open, rounded up to a tenth of a GB; cores: the median CPU-seconds of running lesson 01
    once, when the whole room runs it within the same `burst_seconds` (the facilitator says "run all
    cells now"), rounded up to a tenth of a core.
    """
    import math

    mem_gb = summary["peak_mb"]["max"] * headroom / 1024
    cores = summary["cpu_s"]["median"] / burst_seconds
    return {"memory_gb_per_learner": math.ceil(mem_gb * 10) / 10, "cores_per_learner": math.ceil(cores * 10) / 10,
            "method": f"memory: max peak x {headroom}; cores: median CPU-s / {burst_seconds:g} s"}


if __name__ == "__main__":  # python tests/loadtest.py N [RAMP]: the benchmark (root, hub environment built)
    sys.path.insert(0, str(Path(__file__).parent))
    import test_hub

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    ramp = float(sys.argv[2]) if len(sys.argv) > 2 else 6.0
    learners = [f"amlload-{k:02d}" for k in range(n)]
    with test_hub.hub_on_loopback(["amlload-teacher"], learners, {"AML_HUB_IDLE_TIMEOUT": "0"}) as h:
        result = run_load(h["url"], h["admin"], learners, ramp, test_hub.ROOT)
    result["sizing"] = sizing(result["summary"]) if result["summary"]["peak_mb"] else None
    out = test_hub.ARTIFACTS / f"loadtest-{n}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("learners", "ramp_s", "wall_s", "errors", "summary", "sizing")}, indent=1))
    print(f"written to {out}")


def sizing_sentence(figure: dict, learners: int = 30) -> str:
    """How the guides quote the figure (one sentence; tests/test_workshop.py checks both guides say it)."""
    mem, cores = figure["memory_gb_per_learner"], figure["cores_per_learner"]
    return (f"{mem:g} GB of memory and {cores:g} CPU cores per learner ({learners} learners: "
            f"{learners * mem:.0f} GB and {learners * cores:.0f} cores)")
