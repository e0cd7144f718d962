"""JupyterHub for a workshop room: one server, in the manner of The Littlest JupyterHub.

Every person gets a system account (created by the hub on first use) and a JupyterLab server
running as that account from one shared environment; nbgrader's exchange lets the instructor
release an assignment, learners fetch and submit it, and the instructor collect and grade it.
See workshop/hub/README.md for the set-up, step by step. Settings come from environment
variables (AML_HUB_*), so this file is used as it is, by a room's server and by the test
(tests/test_hub.py), which runs it on loopback with a test authenticator.

    AML_HUB_INSTRUCTORS    comma-separated user names of the instructors (group formgrade-<course>)
    AML_HUB_LEARNERS       comma-separated user names of the learners (group nbgrader-<course>);
                           or AML_HUB_ROSTER=<file> with one learner name a line
    AML_HUB_AUTH           codes (default) | pam | dummy (tests on loopback only)
    AML_HUB_CODES          codes: the hashed login codes written by `hub.py codes` (default STATE_DIR/codes.json)
    AML_HUB_SIGNUP         codes: "approve" lets people off the roster sign up, an admin approves them
                           at /hub/authorize (default "off"); names on the roster can never be signed up for
    AML_HUB_SPAWNER        systemd (default: limits enforced by systemd) | local (tests on loopback only)
    AML_HUB_MEM_LIMIT      memory of one person's server and kernels (default 1G; see README for sizing)
    AML_HUB_CPU_LIMIT      CPU cores of one person's server (default 1.0)
    AML_HUB_IDLE_TIMEOUT   seconds without activity before a server is stopped by the idle culler (default 3600)
    AML_HUB_REPO           the course checkout whose lessons/ and exercises/ reach every ~/my-work
                           (default /opt/aml-course/repo)
    AML_HUB_BIND_URL       public URL the proxy listens on (default http://0.0.0.0:8000)
    AML_HUB_SSL_CERT/KEY   TLS certificate and key for the public URL (use them on a real network)
    AML_HUB_USER_ENV       the shared environment (default /opt/aml-course/hub-env)
    AML_HUB_EXCHANGE       nbgrader's exchange folder (default /srv/nbgrader/exchange)
    AML_HUB_STATE_DIR      the hub's database, cookie secret, proxy pid (default /srv/aml-hub)
    AML_HUB_COURSE_ID      nbgrader course id (default aml-course)
    AML_HUB_COURSE_DIR     the instructor's course folder, relative to their home (default aml-course)
    AML_HUB_API_TOKEN      optional: a token for the workshop-admin service (scripts, the test)
    AML_HUB_HUB_BIND_URL, AML_HUB_PROXY_API_URL   internal addresses (default 127.0.0.1:8081 / :8001)
"""
import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub's config loader


def setting(name, default=None):
    return os.environ.get(f"AML_HUB_{name}", default)


def names(text):
    return [n.strip().lower() for n in (text or "").replace("\n", ",").split(",") if n.strip() and not n.strip().startswith("#")]


HERE = Path(__file__).resolve().parent
CONFIG_DIRS = Path(setting("CONFIG_DIRS", HERE))  # holds instructor/ and learner/ (Jupyter config folders)
STATE = Path(setting("STATE_DIR", "/srv/aml-hub"))
USER_ENV = Path(setting("USER_ENV", "/opt/aml-course/hub-env"))
EXCHANGE = setting("EXCHANGE", "/srv/nbgrader/exchange")
COURSE_ID = setting("COURSE_ID", "aml-course")
COURSE_DIR = setting("COURSE_DIR", "aml-course")
INSTRUCTOR_GROUP = f"formgrade-{COURSE_ID}"  # nbgrader's naming: formgrade-<course> and nbgrader-<course>
LEARNER_GROUP = f"nbgrader-{COURSE_ID}"
INSTRUCTORS = names(setting("INSTRUCTORS"))
LEARNERS = names(setting("LEARNERS"))
if setting("ROSTER"):
    LEARNERS += [n for n in names(Path(setting("ROSTER")).read_text()) if n not in LEARNERS]
AUTH = setting("AUTH", "codes")
SPAWNER = setting("SPAWNER", "systemd")
REPO = Path(setting("REPO", "/opt/aml-course/repo"))
ON_LOOPBACK = setting("BIND_URL", "http://0.0.0.0:8000").startswith(("http://127.", "http://localhost"))

STATE.mkdir(parents=True, exist_ok=True)
os.chmod(STATE, 0o700)

# --- network: the proxy (configurable-http-proxy, from npm) is public, the hub internal ---------
c.JupyterHub.bind_url = setting("BIND_URL", "http://0.0.0.0:8000")
c.JupyterHub.hub_bind_url = setting("HUB_BIND_URL", "http://127.0.0.1:8081")
c.ConfigurableHTTPProxy.api_url = setting("PROXY_API_URL", "http://127.0.0.1:8001")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
if setting("SSL_CERT"):
    c.JupyterHub.ssl_cert = setting("SSL_CERT")
    c.JupyterHub.ssl_key = setting("SSL_KEY")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops everyone's server

# --- who may log in: a personal code per person from the roster (or an approved sign-up) ----------
from jupyterhub.auth import DummyAuthenticator, LocalAuthenticator  # noqa: E402

CODES_FILE = Path(setting("CODES", STATE / "codes.json"))


def load_codes() -> dict:
    """name -> hashed code, from the file `hub.py codes` writes (read again at every login: reissuing needs no restart)."""
    import json

    try:
        return json.loads(CODES_FILE.read_text())["codes"]
    except (OSError, ValueError, KeyError):
        return {}


def code_matches(stored: str, given: str) -> bool:
    """`stored` is "pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>" (see course/delivery/workshop/hub.py)."""
    import hashlib
    import hmac

    try:
        scheme, iterations, salt, digest = stored.split("$")
    except (AttributeError, ValueError):
        return False
    given = (given or "").strip().upper().replace(" ", "")
    mine = hashlib.pbkdf2_hmac("sha256", given.encode(), bytes.fromhex(salt), int(iterations)).hex()
    return scheme == "pbkdf2_sha256" and hmac.compare_digest(mine, digest)


if AUTH == "codes":
    from nativeauthenticator import NativeAuthenticator
    from nativeauthenticator.orm import UserInfo

    class RoomAuthenticator(LocalAuthenticator, NativeAuthenticator):
        """NativeAuthenticator, with the roster's accounts opened only by their own code.

        A name with a code logs in with that code (which keeps working until `hub.py codes`
        reissues it) or with the password set at /hub/change-password; nobody can sign up for
        it, so the first person in cannot claim it. Anyone else may sign up when AML_HUB_SIGNUP
        is "approve", and logs in once an admin has approved them at /hub/authorize.
        """

        async def authenticate(self, handler, data):
            name = self.normalize_username(data.get("username", ""))
            stored = load_codes().get(name)
            if stored and not self.is_blocked(name) and code_matches(stored, data.get("password", "")):
                import bcrypt

                info = self.get_user(name)
                hashed = bcrypt.hashpw(data["password"].strip().upper().replace(" ", "").encode(), bcrypt.gensalt())
                if info is None:
                    self.db.add(UserInfo(username=name, password=hashed, is_authorized=True))
                else:
                    info.is_authorized = True
                self.db.commit()
                self.successful_login(name)
                return name
            if stored and self.get_user(name) is None:
                self.add_login_attempt(name)  # a roster name, a wrong code
                return None
            return await super().authenticate(handler, data)

        def create_user(self, username, password, **kwargs):
            name = self.normalize_username(username)
            if name in load_codes() or name in INSTRUCTORS or name in LEARNERS:
                return None  # a roster name is opened with its code, never by signing up
            return super().create_user(username, password, **kwargs)

        def check_allowed(self, username, authentication=None):
            if username in load_codes():
                return True
            info = self.get_user(username)
            if info is not None and info.is_authorized:
                return True  # an approved sign-up
            return super().check_allowed(username, authentication)

    import nativeauthenticator

    c.JupyterHub.authenticator_class = RoomAuthenticator
    c.JupyterHub.template_paths = [str(Path(nativeauthenticator.__file__).parent / "templates")]
    c.NativeAuthenticator.enable_signup = setting("SIGNUP", "off") == "approve"
    c.NativeAuthenticator.open_signup = False  # every sign-up waits for an admin's approval
    c.NativeAuthenticator.minimum_password_length = 10
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 120
elif AUTH == "pam":
    c.JupyterHub.authenticator_class = "pam"  # accounts and passwords made beforehand with useradd/passwd
elif AUTH == "dummy":
    if not c.JupyterHub.bind_url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("AML_HUB_AUTH=dummy accepts any password: it is only for tests on loopback")

    class TestAuthenticator(LocalAuthenticator, DummyAuthenticator):
        """Tests only: any password, system accounts."""

    c.JupyterHub.authenticator_class = TestAuthenticator
else:
    raise SystemExit(f"AML_HUB_AUTH={AUTH!r}: use codes, pam or dummy (the shared room password is gone: "
                     "it let anyone log in as any learner)")

c.LocalAuthenticator.create_system_users = True
c.LocalAuthenticator.add_user_cmd = ["useradd", "--create-home", "--shell", "/bin/bash"]
# Instructors are admins, with codes of their own (`hub.py codes --instructors`), never a learner's.
c.Authenticator.admin_users = set(INSTRUCTORS)
if LEARNERS or INSTRUCTORS:
    c.Authenticator.allowed_users = set(INSTRUCTORS + LEARNERS)
else:
    c.Authenticator.allow_all = True  # a room without a roster: whoever the authenticator lets in

# --- per-course groups (nbgrader's JupyterHubAuthPlugin reads them) -----------------------------
c.JupyterHub.load_groups = {
    INSTRUCTOR_GROUP: {"users": INSTRUCTORS},
    LEARNER_GROUP: {"users": LEARNERS},
}
c.JupyterHub.load_roles = [
    # A single-user server's own token: what JupyterHub gives it by default, plus reading its
    # user's groups (for nbgrader's course list). Not "inherit": autograding runs learners' code
    # in the instructor's server, with this token in its environment.
    {"name": "server", "scopes": ["users:activity!user", "access:servers!server", "read:users:groups!user"]},
]
c.JupyterHub.services = []
if setting("API_TOKEN"):
    c.JupyterHub.services.append({"name": "workshop-admin", "api_token": setting("API_TOKEN")})
    c.JupyterHub.load_roles.append({
        "name": "workshop-admin",
        "services": ["workshop-admin"],
        "scopes": ["admin:users", "admin:servers", "admin:groups", "tokens", "list:users", "read:users"],
    })

# --- the single-user servers: JupyterLab from the shared environment, as each user ------------
# Limits: SystemdSpawner runs each server as a transient systemd unit with MemoryMax and CPUQuota,
# so the kernel of one person cannot take the machine (the kernel is OOM-killed inside its unit).
MEM_LIMIT = setting("MEM_LIMIT", "1G")
CPU_LIMIT = float(setting("CPU_LIMIT", "1.0"))
if SPAWNER == "systemd":
    c.JupyterHub.spawner_class = "systemdspawner"
    c.SystemdSpawner.mem_limit = MEM_LIMIT
    c.SystemdSpawner.cpu_limit = CPU_LIMIT
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.isolate_devices = True
    c.SystemdSpawner.disable_user_sudo = True
    c.SystemdSpawner.default_shell = "/bin/bash"
    c.SystemdSpawner.unit_extra_properties = {"MemorySwapMax": "0", "TasksMax": "512"}
elif SPAWNER == "local":
    if not ON_LOOPBACK:
        raise SystemExit("AML_HUB_SPAWNER=local enforces no memory or CPU limit: it is only for tests on loopback")
    c.JupyterHub.spawner_class = "localprocess"
else:
    raise SystemExit(f"AML_HUB_SPAWNER={SPAWNER!r}: use systemd (or local, for tests on loopback)")
# The server starts through start-server.py: it brings the course's lessons and exercises into
# ~/my-work with run.py's update rule (new files copied, unedited ones updated, edited ones kept,
# a new version placed beside them), then becomes jupyterhub-singleuser.
c.Spawner.cmd = [str(USER_ENV / "bin" / "python"), str(CONFIG_DIRS / "start-server.py")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]
c.Spawner.environment = {
    "PATH": f"{USER_ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",  # nbgrader runs a bare `alembic`
    "AML_NBGRADER_EXCHANGE": EXCHANGE,
    "AML_COURSE_ID": COURSE_ID,
    "AML_COURSE_DIR": COURSE_DIR,
    "AML_HUB_REPO": str(REPO),
    "AML_HUB_SINGLEUSER": str(USER_ENV / "bin" / "jupyterhub-singleuser"),
}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120

# --- idle culling: the maintained jupyterhub-idle-culler, as a hub service ---------------------
IDLE = int(setting("IDLE_TIMEOUT", "3600"))
if IDLE > 0:
    import sys

    c.JupyterHub.services.append({
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={IDLE}", "--cull-every=300"],
    })
    c.JupyterHub.load_roles.append({
        "name": "idle-culler", "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    })


def configure_by_role(spawner):
    """Instructors get the formgrader (and its CSP fix); learners get the assignment list only.

    Every non-instructor is also put into the learners' group, so that a room without a roster
    (allow_all) still sees the course.
    """
    from jupyterhub import orm

    user = spawner.user
    instructor = user.name in INSTRUCTORS
    spawner.environment["JUPYTER_CONFIG_PATH"] = str(CONFIG_DIRS / ("instructor" if instructor else "learner"))
    if not instructor:
        group = orm.Group.find(user.db, LEARNER_GROUP)
        if group is not None and group not in user.orm_user.groups:
            user.orm_user.groups.append(group)
            user.db.commit()


c.Spawner.pre_spawn_hook = configure_by_role
