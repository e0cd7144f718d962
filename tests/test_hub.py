"""The workshop hub (workshop/hub/): JupyterHub on loopback, the whole nbgrader loop between users.

JupyterHub runs workshop/hub/jupyterhub_config.py as it is, with its configurable-http-proxy
from npm, a test authenticator, the local process spawner and real system accounts (created by
the hub, removed by the test). Through the hub's REST API and each user's own server, the
instructor releases 01-ml-recap, two learners fetch it, one submits the solution and one the
blank, the instructor collects and autogrades, and the scores must be the auto-graded maximum
and 0. The round-trip time is written to test-artifacts/hub-round-trip.json.
"""
from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import IN_CI, ROOT, require, stop_process_group

from course.delivery.workshop import hub

ASSIGNMENT = "01-ml-recap"
COURSE_ID = "aml-course"
INSTRUCTOR = "amlhub-teacher"
LEARNERS = ["amlhub-ada", "amlhub-bob"]
USERS = [INSTRUCTOR, *LEARNERS]
ARTIFACTS = ROOT / "test-artifacts"
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(method: str, url: str, token: str, body=None, form=None, timeout: float = 60):
    """(status, headers, parsed body) of one HTTP request; never raises for an HTTP error status."""
    headers = {"Authorization": f"token {token}"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    elif method in ("POST", "PUT"):
        data = b""
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, hdrs, raw = r.status, r.headers, r.read()  # case-insensitive
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, e.headers, e.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, hdrs, parsed


def _wait(what: str, condition, timeout: float, interval: float = 1.0, log=None):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = condition()
            if last:
                return last
        except OSError as e:  # connection refused while starting
            last = e
        time.sleep(interval)
    tail = log().strip()[-4000:] if log else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})\n{tail}")


def _processes_of(users: list) -> list:
    import psutil

    uids = set()
    for u in users:
        try:
            uids.add(pwd.getpwnam(u).pw_uid)
        except KeyError:
            pass
    found = []
    for p in psutil.process_iter(["uids"]):
        try:
            if p.info["uids"] and p.info["uids"].real in uids:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def _remove_users(users: list) -> None:
    """Stop the test accounts' processes (by pid) and delete the accounts with their homes."""
    import psutil

    procs = _processes_of(users)
    for p in procs:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)
    for p in _processes_of(users):
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    for u in users:
        try:
            pwd.getpwnam(u)
        except KeyError:
            continue
        subprocess.run([shutil.which("userdel", path=SBIN_PATH) or "userdel", "--remove", u], capture_output=True,
                       timeout=60)
        subprocess.run([shutil.which("groupdel", path=SBIN_PATH) or "groupdel", u], capture_output=True, timeout=60)


def _auto_points(notebook: Path) -> int:
    """Points of the autograder test cells (graded, not answer cells) of a source notebook."""
    nb = json.loads(notebook.read_text())
    total = 0
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            total += meta.get("points", 0)
    return total


def _answer(blank: dict, solution: Path) -> dict:
    """The blank notebook with every answer cell filled in from the solution (as a learner would)."""
    import nbformat

    from course.grader import release

    answers = release.typed_answers(nbformat.read(solution, as_version=4))
    assert answers, f"{solution} has no answer cells"
    # every answer has its cell in the learner's copy, or answered() raises
    return json.loads(json.dumps(release.answered(nbformat.from_dict(blank), answers)))


def _hub_prerequisites() -> Path:
    """Skip (locally) or fail (in CI) unless the hub can run here; return its user environment."""
    require("configurable-http-proxy")
    if shutil.which("useradd", path=SBIN_PATH) is None:
        require("useradd")  # skips locally, fails in CI
    if os.geteuid() != 0:
        message = "the hub test creates system accounts: it needs root"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    if not Path(hub.HUB_PYTHON).exists():
        message = f"{hub.HUB_PYTHON} (the hub's interpreter, readable by every user) is missing"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    env_dir = hub.ensure_hub_env()  # built by .ci/install-system; built here if missing (~90 s)
    hub.install_course(env_dir)     # this checkout's course package, as a room's admin would
    return env_dir


@contextlib.contextmanager
def hub_on_loopback(instructors: list, learners: list, extra_env: dict | None = None):
    """workshop/hub/jupyterhub_config.py running on loopback (test authenticator, local spawner).

    Yields a dict: url, api, admin (a token of the workshop-admin service), log (a function
    returning the hub's log so far), base (its folder), env_dir. On exit the hub stops every
    server and the proxy, and the accounts are removed.
    """
    env_dir = _hub_prerequisites()
    users = [*instructors, *learners]
    _remove_users(users)  # leftovers of an interrupted run
    base = Path(tempfile.mkdtemp(prefix="aml-hub-", dir="/tmp"))
    base.chmod(0o755)
    exchange, configs, state, repo = base / "exchange", base / "config", base / "state", base / "repo"
    exchange.mkdir()
    exchange.chmod(0o777)
    for role in ("instructor", "learner"):
        shutil.copytree(ROOT / "workshop" / "hub" / role, configs / role)
    shutil.copy2(ROOT / "workshop" / "hub" / "start-server.py", configs / "start-server.py")
    for part in ("lessons", "exercises"):  # the course checkout the servers copy into ~/my-work
        shutil.copytree(ROOT / part, repo / part, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy2(ROOT / "run.py", repo / "run.py")
    subprocess.run(["chmod", "-R", "a+rX", str(configs), str(repo)], check=True)

    port, hub_port, proxy_port = _free_port(), _free_port(), _free_port()
    url = f"http://127.0.0.1:{port}"
    admin = secrets.token_hex(24)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("AML_HUB_")}
    env.update({
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{SBIN_PATH}",  # the hub runs useradd
        "AML_HUB_AUTH": "dummy",
        "AML_HUB_SPAWNER": "local",  # no systemd in a test container: limits are not enforced here
        "AML_HUB_BIND_URL": url,
        "AML_HUB_HUB_BIND_URL": f"http://127.0.0.1:{hub_port}",
        "AML_HUB_PROXY_API_URL": f"http://127.0.0.1:{proxy_port}",
        "AML_HUB_STATE_DIR": str(state),
        "AML_HUB_CONFIG_DIRS": str(configs),
        "AML_HUB_USER_ENV": str(env_dir),
        "AML_HUB_EXCHANGE": str(exchange),
        "AML_HUB_REPO": str(repo),
        "AML_HUB_COURSE_ID": COURSE_ID,
        "AML_HUB_INSTRUCTORS": ",".join(instructors),
        "AML_HUB_LEARNERS": ",".join(learners),
        "AML_HUB_API_TOKEN": admin,
        **(extra_env or {}),
    })
    log_file = base / "hub.log"
    log = open(log_file, "w")
    hub_process = subprocess.Popen([str(env_dir / "bin" / "jupyterhub"), "-f", str(ROOT / "workshop" / "hub" / "jupyterhub_config.py")],
                                   cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    read_log = lambda: log_file.read_text(errors="replace")  # noqa: E731
    api = f"{url}/hub/api"
    try:
        _wait("the hub's API", lambda: hub_process.poll() is None and _call("GET", f"{api}/", admin, timeout=5)[0] == 200,
              timeout=90, log=read_log)
        assert hub_process.poll() is None, read_log()[-4000:]
        yield {"url": url, "api": api, "admin": admin, "log": read_log, "base": base, "env_dir": env_dir}
    finally:
        stop_process_group(hub_process, timeout=60)  # the hub stops every user's server and its proxy
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy2(log_file, ARTIFACTS / "hub.log")
        _remove_users(users)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_hub_round_trip_release_fetch_submit_collect_autograde():
    with hub_on_loopback([INSTRUCTOR], LEARNERS) as h:
        _round_trip(h["url"], h["api"], h["admin"], h["log"])


def _round_trip(url, api, admin, read_log):
    """The whole nbgrader loop between an instructor and two learners, through each one's server."""
    # The hub created the system accounts of its roster (LocalAuthenticator.create_system_users).
    for u in USERS:
        pwd.getpwnam(u)
    status, _, groups = _call("GET", f"{api}/groups", admin)
    assert status == 200
    members = {g["name"]: set(g["users"]) for g in groups}
    assert members[f"formgrade-{COURSE_ID}"] == {INSTRUCTOR}
    assert members[f"nbgrader-{COURSE_ID}"] == set(LEARNERS)

    # The instructor's course folder: the repository's solutions/ with its nbgrader_config.py.
    teacher = pwd.getpwnam(INSTRUCTOR)
    course_dir = Path(teacher.pw_dir) / "aml-course"
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course_dir / "solutions" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy2(ROOT / "nbgrader_config.py", course_dir / "nbgrader_config.py")
    subprocess.run(["chown", "-R", f"{teacher.pw_uid}:{teacher.pw_gid}", str(course_dir)], check=True)

    for u in USERS:
        status, _, _ = _call("POST", f"{api}/users/{u}/server", admin)
        assert status in (201, 202), f"starting {u}'s server: HTTP {status}\n{read_log()[-3000:]}"

    def ready():
        return all(_call("GET", f"{api}/users/{u}", admin)[2].get("servers", {}).get("", {}).get("ready") for u in USERS)

    _wait("three single-user servers", ready, timeout=180, interval=2, log=read_log)
    tokens = {}
    ARTIFACTS.mkdir(exist_ok=True)
    for u in USERS:
        status, _, body = _call("POST", f"{api}/users/{u}/tokens", admin, body={"note": "hub test", "expires_in": 3600})
        assert status in (200, 201), f"token for {u}: HTTP {status} {body}"
        tokens[u] = body["token"]

    def on(user, method, path, **kw):
        return _call(method, f"{url}/user/{user}/{path}", tokens[user], **kw)

    # The course reached every home folder through start-server.py (run.py's update rule).
    for u in USERS:
        status, _, model = on(u, "GET", "api/contents/my-work/lessons/lesson-01-ml-recap.ipynb?content=0")
        assert status == 200, f"{u} has no ~/my-work/lessons/lesson-01-ml-recap.ipynb: {model}"
        assert on(u, "GET", f"api/contents/my-work/{ASSIGNMENT}?content=0")[0] == 200, f"{u}: no exercise in ~/my-work"

    # The formgrader's CSP fix holds for the instructor only; learners have no formgrader.
    status, headers, _ = on(INSTRUCTOR, "GET", "formgrader")
    assert status == 200, f"formgrader: HTTP {status}"
    assert "frame-ancestors 'self'" in headers.get("Content-Security-Policy", ""), dict(headers)
    status, headers, _ = on(LEARNERS[0], "GET", "lab")
    assert status == 200 and "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), dict(headers)
    assert on(LEARNERS[0], "GET", "formgrader/api/status")[0] == 404

    start = time.perf_counter()
    fg = f"formgrader/api/assignment/{ASSIGNMENT}"
    for action in ("assign", "release"):
        status, _, body = on(INSTRUCTOR, "POST", f"{fg}/{action}", timeout=300)
        assert status == 200 and body.get("success"), f"{action}: HTTP {status} {body}"
    released = time.perf_counter()

    nb_path = f"{COURSE_ID}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    for learner in LEARNERS:
        status, _, listing = on(learner, "GET", f"assignments?course_id={COURSE_ID}")
        assert status == 200, listing
        assert any(a["assignment_id"] == ASSIGNMENT and a["status"] == "released" for a in listing["value"]), listing
        status, _, listing = on(learner, "POST", "assignments/fetch",
                                form={"assignment_id": ASSIGNMENT, "course_id": COURSE_ID})
        assert status == 200, listing
        status, _, model = on(learner, "GET", f"api/contents/{nb_path}")
        assert status == 200, f"{learner} has no fetched notebook at ~/{nb_path}: {model}"
        if learner == LEARNERS[0]:  # the first learner answers every task; the second submits the blank
            filled = _answer(model["content"], ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
            status, _, saved = on(learner, "PUT", f"api/contents/{nb_path}",
                                  body={"type": "notebook", "format": "json", "content": filled})
            assert status == 200, saved
        status, _, result = on(learner, "POST", "assignments/submit",
                               form={"assignment_id": ASSIGNMENT, "course_id": COURSE_ID})
        assert status == 200 and not (isinstance(result, dict) and result.get("success") is False), result
    submitted = time.perf_counter()

    status, _, body = on(INSTRUCTOR, "POST", f"{fg}/collect", timeout=120)
    assert status == 200 and body.get("success"), f"collect: {body}"
    for learner in LEARNERS:
        status, _, body = on(INSTRUCTOR, "POST", f"formgrader/api/submission/{ASSIGNMENT}/{learner}/autograde",
                             timeout=600)
        assert status == 200 and body.get("success"), f"autograde {learner}: {body}"
    status, _, submissions = on(INSTRUCTOR, "GET", f"formgrader/api/submissions/{ASSIGNMENT}")
    assert status == 200, submissions
    seconds = time.perf_counter() - start

    scores = {s["student"]: s for s in submissions}
    auto = _auto_points(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert auto > 0
    solution, blank = scores[LEARNERS[0]], scores[LEARNERS[1]]
    assert solution["autograded"] and blank["autograded"]
    assert solution["score"] == pytest.approx(auto), f"solution: {solution['score']} of {auto} auto-graded points"
    assert solution["max_score"] >= auto
    assert blank["score"] == 0, f"blank: {blank['score']}"
    record = {
        "assignment": ASSIGNMENT, "round_trip_seconds": round(seconds, 1),
        "release_seconds": round(released - start, 1), "fetch_and_submit_seconds": round(submitted - released, 1),
        "collect_and_autograde_seconds": round(seconds - (submitted - start), 1),
        "scores": {k: {"score": v["score"], "max_score": v["max_score"]} for k, v in scores.items()},
        "jupyterhub": _call("GET", f"{api}/", admin)[2].get("version"),
    }
    (ARTIFACTS / "hub-round-trip.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"hub round trip (release → fetch → submit → collect → autograde ×2): {seconds:.1f} s")


# --------------------------------------------------------------------------- accounts, HTTPS, limits (fast)
CONFIG = ROOT / "workshop" / "hub" / "jupyterhub_config.py"

AUTH_SCRIPT = r'''
import asyncio, json, os, sys
from pathlib import Path
from traitlets.config import Config
sys.path.insert(0, sys.argv[2])
import hub as hubtools  # course/delivery/workshop/hub.py, stdlib only
tmp = Path(sys.argv[1])
c = Config()
ns = {"get_config": lambda: c, "__file__": sys.argv[3]}
exec(compile(Path(sys.argv[3]).read_text(), sys.argv[3], "exec"), ns)
from jupyterhub import orm
db = orm.new_session_factory("sqlite:///" + str(tmp / "hub.sqlite"))()
auth = ns["RoomAuthenticator"](config=c, _deprecated_db_session=db)
login = lambda name, pw: asyncio.run(auth.authenticate(None, {"username": name, "password": pw}))
out = {}
codes = hubtools.issue_codes(tmp / "roster.txt", tmp / "codes.json", tmp / "sheet.csv", instructors=["teach"])
out["issued"] = sorted(codes)
out["ada_code"] = login("ada", codes["ada"])
out["ada_lower_case"] = login("ada", codes["ada"].lower())
out["ada_wrong"] = login("ada", "AAAA-BBBB-CCCC")
out["ada_bobs_code"] = login("ada", codes["bob"])
out["signup_roster_name"] = auth.create_user("bob", "a-long-unusual-passphrase") is not None
out["signup_instructor_name"] = auth.create_user("teach", "a-long-unusual-passphrase") is not None
out["signup_stranger"] = auth.create_user("carol", "a-long-unusual-passphrase") is not None
out["stranger_before_approval"] = login("carol", "a-long-unusual-passphrase")
auth.get_user("carol").is_authorized = True; db.commit()
out["stranger_after_approval"] = login("carol", "a-long-unusual-passphrase")
out["stranger_allowed"] = auth.check_allowed("carol")
out["unknown_allowed"] = auth.check_allowed("mallory")
out["admins"] = sorted(auth.admin_users)
db.close()
new = hubtools.issue_codes(tmp / "roster.txt", tmp / "codes.json", tmp / "sheet.csv", instructors=["teach"], only=["ada"],
                           hub_db=tmp / "hub.sqlite")
db = orm.new_session_factory("sqlite:///" + str(tmp / "hub.sqlite"))()
auth = ns["RoomAuthenticator"](config=c, _deprecated_db_session=db)
login = lambda name, pw: asyncio.run(auth.authenticate(None, {"username": name, "password": pw}))
out["ada_old_code_after_reissue"] = login("ada", codes["ada"])
out["ada_new_code"] = login("ada", new["ada"])
out["bob_keeps_his_code"] = login("bob", codes["bob"])
out["culler"] = [s["name"] for s in c.JupyterHub.services]
out["spawner"] = str(c.JupyterHub.spawner_class)
out["limits"] = [c.SystemdSpawner.mem_limit, c.SystemdSpawner.cpu_limit]
print(json.dumps(out))
'''


def _hub_python() -> Path:
    py = hub.HUB_ENV / "bin" / "python"
    if not py.exists():
        message = f"the hub's environment ({hub.HUB_ENV}) is not built: python3 course/delivery/workshop/hub.py hub-env"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    return py


def test_login_codes_open_only_their_own_account_and_roster_names_cannot_be_claimed(tmp_path):
    py = _hub_python()
    (tmp_path / "roster.txt").write_text("ada\nbob\n# a comment\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AML_HUB_") and k != "PYTHONPATH"}
    env.update({"AML_HUB_STATE_DIR": str(tmp_path / "state"), "AML_HUB_CODES": str(tmp_path / "codes.json"),
                "AML_HUB_ROSTER": str(tmp_path / "roster.txt"), "AML_HUB_INSTRUCTORS": "teach",
                "AML_HUB_SIGNUP": "approve", "AML_HUB_IDLE_TIMEOUT": "1800"})
    res = subprocess.run([str(py), "-c", AUTH_SCRIPT, str(tmp_path), str(ROOT / "course" / "delivery" / "workshop"), str(CONFIG)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["issued"] == ["ada", "bob", "teach"]
    assert out["ada_code"] == "ada" and out["ada_lower_case"] == "ada", "a learner's own code opens their account"
    assert out["ada_wrong"] is None and out["ada_bobs_code"] is None, "another learner's code must not open it"
    assert not out["signup_roster_name"] and not out["signup_instructor_name"], \
        "signing up for a roster name would let the first person in claim it"
    assert out["signup_stranger"] and out["stranger_before_approval"] is None, "a sign-up waits for an admin"
    assert out["stranger_after_approval"] == "carol" and out["stranger_allowed"] and not out["unknown_allowed"]
    assert out["admins"] == ["teach"], "instructors are the only admins"
    assert out["ada_old_code_after_reissue"] is None, "a reissued code revokes the old one"
    assert out["ada_new_code"] == "ada" and out["bob_keeps_his_code"] == "bob"
    assert out["culler"] == ["idle-culler"] and "systemdspawner" in out["spawner"].lower()
    assert out["limits"] == ["1G", 1.0]
    assert oct((tmp_path / "codes.json").stat().st_mode & 0o777) == "0o600", "the hashes are readable by root only"


def test_the_hub_refuses_unsafe_settings_off_loopback(tmp_path):
    py = _hub_python()
    script = ("import sys; from traitlets.config import Config; c = Config(); "
              "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), {'get_config': lambda: c, '__file__': sys.argv[1]})")
    base = {k: v for k, v in os.environ.items() if not k.startswith("AML_HUB_") and k != "PYTHONPATH"}
    base["AML_HUB_STATE_DIR"] = str(tmp_path)
    for extra, said in (({"AML_HUB_AUTH": "shared-password"}, "shared room password"),
                        ({"AML_HUB_AUTH": "dummy", "AML_HUB_BIND_URL": "http://0.0.0.0:8000"}, "only for tests on loopback"),
                        ({"AML_HUB_SPAWNER": "local", "AML_HUB_BIND_URL": "https://0.0.0.0:443"}, "no memory or CPU limit")):
        res = subprocess.run([str(py), "-c", script, str(CONFIG)], env={**base, **extra}, capture_output=True, text=True,
                             timeout=120)
        assert res.returncode != 0 and said in res.stderr, f"{extra}: {res.stderr[-800:]}"


def test_the_local_ca_signs_for_the_hub_only_and_learners_who_trust_it_connect(tmp_path):
    import ssl
    import threading

    require("openssl")
    out = tmp_path / "tls"
    res = subprocess.run(["sh", str(ROOT / "workshop" / "hub" / "local-ca.sh"), "127.0.0.1", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["ca.crt", "fullchain.pem", "privkey.pem"], "the CA's key must be gone"
    text = subprocess.run(["openssl", "x509", "-in", str(out / "ca.crt"), "-noout", "-text"], capture_output=True, text=True).stdout
    assert "Name Constraints: critical" in text and "IP:127.0.0.1/255.255.255.255" in text
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(out / "fullchain.pem", out / "privkey.pem")
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    def serve():
        conn, _ = sock.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"hub")
        except OSError:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    learner = ssl.create_default_context(cafile=str(out / "ca.crt"))  # a learner who trusts ca.crt
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            learner.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.recv(3) == b"hub"
    t.join(timeout=10)
    sock.close()
    stranger = ssl.create_default_context()  # without ca.crt: the certificate is not trusted
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            stranger.wrap_socket(raw, server_hostname="127.0.0.1")
    sock.close()
