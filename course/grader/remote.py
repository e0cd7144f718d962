"""Services (such as `course.science.services.PredictionAPI`) handed to a learner's function during cohort grading.

A check may call a learner's function with a service, e.g. a prediction API that counts queries. In
`course grade` the learner's function runs in the sandbox and the service must stay in the grading
process (its model, its query count and its budget are the trusted side of the threat model). So the
service crosses the boundary as a handle: in the sandbox, a `RemoteService` proxy forwards each method
call and public attribute read, as plain data, through two named pipes in the scratch folder to a
`Server` thread in the grading process, which answers from the real object. Only classes that declare
`_course_remote_ = True` can be handed over, and only their public names (no leading underscore, none
in `_course_private_`) can be reached.
"""
from __future__ import annotations

import base64
import copy
import json
import os
import threading
import uuid
from pathlib import Path

from course.grader import protocol

REQ, RESP = "api-req.fifo", "api-resp.fifo"


# --------------------------------------------------------------------------- trusted side
class Server:
    """Answers the sandbox's calls on the services registered for the call in progress."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.objects: dict = {}
        self.lock = threading.Lock()
        self._closed = False
        for name in (REQ, RESP):
            path = self.folder / name
            os.mkfifo(path, 0o666)
            os.chmod(path, 0o666)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def register(self, obj) -> dict:
        """The wire form of an object handed to the sandbox (called by `protocol.encode`).

        A service (`_course_remote_ = True`, e.g. a PredictionAPI) is served as it is, so that its query
        count is the grader's; anything else (a model, a function) is served as a deep copy, so that the
        learner's code cannot change the checker's own objects.
        """
        if not getattr(type(obj), "_course_remote_", False):
            try:
                obj = copy.deepcopy(obj)
            except Exception:  # noqa: BLE001 - functions and modules are not copied; they are not changed either
                pass
        with self.lock:
            handle = len(self.objects) + 1
            self.objects[handle] = obj
        methods = sorted(n for n in dir(type(obj)) if _public(obj, n) and callable(getattr(type(obj), n, None))
                         and not isinstance(getattr(type(obj), n, None), property))
        return {"handle": handle, "cls": type(obj).__name__, "methods": methods, "callable": callable(obj)}

    def forget_all(self) -> None:
        with self.lock:
            self.objects.clear()

    def _answer(self, req: dict) -> dict:
        obj = self.objects.get(int(req.get("handle", -1)))
        name = str(req.get("name", ""))
        if obj is None:
            return {"ok": False, "ename": "RuntimeError", "evalue": "this service is no longer available"}
        if name != "__call__" and not _public(obj, name):
            return {"ok": False, "ename": "AttributeError", "evalue": f"{type(obj).__name__} has no public attribute {name!r}"}
        try:
            if req.get("op") == "getattr":
                value = getattr(obj, name)
                if callable(value):
                    return {"ok": True, "callable": True}
                return {"ok": True, "result": protocol.encode(value)}
            args = protocol.decode(req.get("args", "[]"))
            target = obj if name == "__call__" else getattr(obj, name)
            return {"ok": True, "result": protocol.encode(target(*args))}
        except Exception as e:  # noqa: BLE001 - the service's errors go back to the learner's code
            return {"ok": False, "ename": type(e).__name__, "evalue": str(e)[:2000]}

    def _serve(self) -> None:
        try:
            with open(self.folder / REQ, "r") as req, open(self.folder / RESP, "w") as resp:
                for line in req:
                    if self._closed:
                        break
                    try:
                        answer = self._answer(json.loads(line))
                    except (ValueError, TypeError) as e:
                        answer = {"ok": False, "ename": "ValueError", "evalue": f"malformed request: {e}"}
                    resp.write(json.dumps(answer) + "\n")
                    resp.flush()
        except OSError:
            pass

    def close(self) -> None:
        """Stop serving; unblock the thread if the sandbox never opened the pipes."""
        self._closed = True
        try:
            fd = os.open(self.folder / REQ, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        try:
            fd = os.open(self.folder / RESP, os.O_RDONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        self.forget_all()


def send_file(path) -> dict:
    """The wire form of a file the grader hands to the sandbox (its name and content)."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) > 64 * 2**20:
        raise ValueError(f"{path.name} is too large to hand to the sandbox")
    return {"name": path.name, "data": base64.b64encode(data).decode()}


def receive_file(spec: dict) -> Path:
    """In the sandbox: store a file the grader sent and return its path there."""
    folder = Path(os.environ.get("COURSE_RPC_DIR", ".rpc")) / "files" / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    path = folder / Path(str(spec["name"])).name
    path.write_bytes(base64.b64decode(spec["data"], validate=True))
    return path


def _public(obj, name: str) -> bool:
    private = set(getattr(type(obj), "_course_private_", ()))
    return bool(name) and not name.startswith("_") and name not in private


# --------------------------------------------------------------------------- sandbox side
class _Channel:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.req = self.resp = None

    def ask(self, message: dict) -> dict:
        if self.req is None:
            self.req = open(self.folder / REQ, "w")
            self.resp = open(self.folder / RESP, "r")
        self.req.write(json.dumps(message) + "\n")
        self.req.flush()
        line = self.resp.readline()
        if not line:
            raise RuntimeError("the grading service stopped answering")
        return json.loads(line)


_CHANNEL = None


def _channel() -> _Channel:
    global _CHANNEL
    if _CHANNEL is None:
        _CHANNEL = _Channel(Path(os.environ.get("COURSE_RPC_DIR", ".rpc")))
    return _CHANNEL


def _raise(reply: dict):
    ename, evalue = reply.get("ename", "RuntimeError"), reply.get("evalue", "")
    from course.science import services

    cls = getattr(services, ename, None)
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = {"ValueError": ValueError, "TypeError": TypeError, "AttributeError": AttributeError,
               "PermissionError": PermissionError}.get(ename, RuntimeError)
    raise cls(evalue)


class RemoteService:
    """In the sandbox: stands for a service that lives in the grading process."""

    def __init__(self, spec: dict):
        object.__setattr__(self, "_spec", spec)

    def _call(self, name, *args):
        reply = _channel().ask({"op": "call", "handle": self._spec["handle"], "name": name, "args": protocol.encode(list(args))})
        if not reply.get("ok"):
            _raise(reply)
        return protocol.decode(reply["result"])

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._spec["methods"]:
            return lambda *args: self._call(name, *args)
        reply = _channel().ask({"op": "getattr", "handle": self._spec["handle"], "name": name})
        if not reply.get("ok"):
            _raise(reply)
        if reply.get("callable"):
            return lambda *args: self._call(name, *args)
        return protocol.decode(reply["result"])

    def __call__(self, *args):
        return self._call("__call__", *args)

    def __setattr__(self, name, value):
        raise AttributeError("a grading service cannot be changed")

    def __repr__(self):
        return f"<{self._spec['cls']} (served by the grader)>"


def proxy(spec: dict) -> RemoteService:
    return RemoteService(spec)
