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
    AML_HUB_AUTH           shared-password (default) | pam | dummy (tests on loopback only)
    AML_HUB_PASSWORD       the learners' shared password (shared-password; at least 8 characters)
    AML_HUB_ADMIN_PASSWORD the instructors' password (shared-password; at least 32 characters)
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
AUTH = setting("AUTH", "shared-password")

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

# --- who may log in: system accounts, created on first use (as TLJH does) -----------------------
from jupyterhub.auth import DummyAuthenticator, LocalAuthenticator  # noqa: E402

if AUTH == "shared-password":
    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

    class RoomAuthenticator(LocalAuthenticator, SharedPasswordAuthenticator):
        """One password for the room's learners, another for the instructors; system accounts."""

    c.JupyterHub.authenticator_class = RoomAuthenticator
    c.SharedPasswordAuthenticator.user_password = setting("PASSWORD")
    c.SharedPasswordAuthenticator.admin_password = setting("ADMIN_PASSWORD")
elif AUTH == "pam":
    c.JupyterHub.authenticator_class = "pam"  # accounts and passwords made beforehand with useradd/passwd
elif AUTH == "dummy":
    if not c.JupyterHub.bind_url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("AML_HUB_AUTH=dummy accepts any password: it is only for tests on loopback")

    class TestAuthenticator(LocalAuthenticator, DummyAuthenticator):
        """Tests only: any password, system accounts."""

    c.JupyterHub.authenticator_class = TestAuthenticator
else:
    raise SystemExit(f"AML_HUB_AUTH={AUTH!r}: use shared-password, pam or dummy")

c.LocalAuthenticator.create_system_users = True
c.LocalAuthenticator.add_user_cmd = ["useradd", "--create-home", "--shell", "/bin/bash"]
# Instructors are admins: the shared-password authenticator lets anyone with the learners'
# password log in as any non-admin user, so the instructors' accounts need the admin password.
c.Authenticator.admin_users = set(INSTRUCTORS)
if LEARNERS or INSTRUCTORS:
    c.Authenticator.allowed_users = set(INSTRUCTORS + LEARNERS)
else:
    c.Authenticator.allow_all = True  # a room without a roster: any name, with the password

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
if setting("API_TOKEN"):
    c.JupyterHub.services = [{"name": "workshop-admin", "api_token": setting("API_TOKEN")}]
    c.JupyterHub.load_roles.append({
        "name": "workshop-admin",
        "services": ["workshop-admin"],
        "scopes": ["admin:users", "admin:servers", "admin:groups", "tokens", "list:users", "read:users"],
    })

# --- the single-user servers: JupyterLab from the shared environment, as each user ------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(USER_ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.env_keep = ["LANG", "LC_ALL", "TZ"]
c.Spawner.environment = {
    "PATH": f"{USER_ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",  # nbgrader runs a bare `alembic`
    "AML_NBGRADER_EXCHANGE": EXCHANGE,
    "AML_COURSE_ID": COURSE_ID,
    "AML_COURSE_DIR": COURSE_DIR,
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90


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
