"""The workshop hub: its user environment (one venv every server runs) and the room's login codes.

Only the standard library is imported: `.ci/install-system` and workshop/hub/setup.sh run
`python3 course/delivery/workshop/hub.py hub-env` before any course environment exists, and
`python3 course/delivery/workshop/hub.py codes ROSTER` on the hub, as root.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # the repository (this file must run before `course` is importable)
REQ = ROOT / "requirements"



HUB_ENV = Path(os.environ.get("COURSE_HUB_ENV", "/opt/aml-course/hub-env"))


HUB_PYTHON = os.environ.get("COURSE_HUB_PYTHON", "/usr/bin/python3.11")


def pin_name(line: str) -> str:
    """The package name of a requirement line ("Foo_Bar==1.0 ; marker" -> "foo-bar")."""
    return re.split(r"[=<>!~ ;\[]", line, 1)[0].strip().lower().replace("_", "-")


def read_pins(path: Path) -> list:
    """The requirement lines of a pins file, comments and blank lines left out."""
    return [l.split("#", 1)[0].strip() for l in Path(path).read_text().splitlines() if l.split("#", 1)[0].strip()]


def hub_requirements() -> list:
    """The hub's pins: requirements/hub.txt, plus the lock's pins that hub.txt does not replace."""
    hub = read_pins(REQ / "hub.txt")
    replaced = {pin_name(p) for p in hub}
    return [p for p in read_pins(REQ / "lock.txt") if pin_name(p) not in replaced] + hub


def ensure_hub_env(env_dir: Path = HUB_ENV, python: str = HUB_PYTHON, log=print) -> Path:
    """Create (or update) the hub's environment; a no-op when its pins have not changed."""
    env_dir = Path(env_dir)
    reqs = hub_requirements()
    secml = (REQ / "secml.txt").read_text()
    stamp = hashlib.sha256(("\n".join(reqs) + secml + python).encode()).hexdigest()
    stamp_file = env_dir / ".hub-stamp"
    if stamp_file.exists() and stamp_file.read_text().strip() == stamp and (env_dir / "bin" / "jupyterhub").exists():
        return env_dir
    log(f"building the hub's user environment in {env_dir} with {python} ...")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if not (env_dir / "bin" / "python").exists():
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, "-m", "venv", str(env_dir)], check=True, env=env)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--no-input", "install", "--quiet"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(reqs) + "\n")
    try:
        for cmd in (pip + ["-r", f.name], pip + ["--no-deps", "--ignore-requires-python", "-r", str(REQ / "secml.txt")]):
            res = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if res.returncode != 0:
                noise = "WARNING: Location"
                raise RuntimeError("building the hub environment failed:\n" + "\n".join(
                    l for l in (res.stdout + res.stderr).splitlines() if not l.startswith(noise))[-3000:])
    finally:
        os.unlink(f.name)
    _readable(env_dir)
    stamp_file.write_text(stamp + "\n")
    return env_dir


def install_course(env_dir: Path = HUB_ENV) -> None:
    """Install this repository's `course` package (a copy, not a link) into the hub's environment."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT / "course", src / "course", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(ROOT / "pyproject.toml", src / "pyproject.toml")
        shutil.copy2(ROOT / "README.md", src / "README.md")
        res = subprocess.run([str(Path(env_dir) / "bin" / "python"), "-m", "pip", "--disable-pip-version-check",
                              "install", "--quiet", "--no-deps", "--no-build-isolation", "--force-reinstall", str(src)],
                             env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("installing the course package into the hub environment failed:\n" + res.stderr[-2000:])
    _readable(env_dir)


def _readable(path: Path) -> None:
    """Every user must be able to read and run the environment (chmod -R a+rX)."""
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=False)


# --------------------------------------------------------------------------- login codes
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed from paper
CODE_ITERATIONS = 200_000


def new_code(groups: int = 3, size: int = 4) -> str:
    """A random code such as "K7QF-3MZP-XW2A" (about 59 bits with the defaults)."""
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(size)) for _ in range(groups))


def normal_code(code: str) -> str:
    """What is compared: upper case, no spaces (the hyphens are part of the code)."""
    return (code or "").strip().upper().replace(" ", "")


def hash_code(code: str, salt: bytes | None = None, iterations: int = CODE_ITERATIONS) -> str:
    """"pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>": what the hub stores; jupyterhub_config.py checks it."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", normal_code(code).encode(), salt, iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest}"


def _roster_names(path: Path) -> list:
    names = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].split(",", 1)[0].strip().lower()
        if name and name not in names:
            names.append(name)
    return names


def issue_codes(roster: Path, codes_file: Path, sheet: Path, instructors=(), only=(), hub_db: Path | None = None) -> dict:
    """Give every roster name (and instructor) a code; return {name: code}.

    The hashes go to `codes_file` (root only, read by the hub at each login); the codes themselves
    are written once, to `sheet` (a CSV to print and cut into slips) and nowhere else. With `only`,
    just those names get a new code (a lost slip): their old code stops working, the others keep theirs;
    `hub_db` (the hub's sqlite database) then loses their NativeAuthenticator password too, so
    neither the old code nor a password set with it opens the account any more.
    """
    learners = _roster_names(roster)
    staff = [n.strip().lower() for n in instructors if n.strip()]
    names = list(dict.fromkeys(staff + learners))
    bad = [n for n in names if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", n)]
    if bad:
        raise ValueError(f"not usable as account names (lower-case letters, digits, - and _): {bad}")
    codes_file = Path(codes_file)
    try:
        stored = json.loads(codes_file.read_text())["codes"]
    except (OSError, ValueError, KeyError):
        stored = {}
    wanted = [n.lower() for n in only] or names
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise ValueError(f"not on the roster or among the instructors: {unknown}")
    issued = {n: new_code() for n in wanted}
    stored = {n: stored[n] for n in names if n in stored and n not in issued}
    stored.update({n: hash_code(c) for n, c in issued.items()})
    codes_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(codes_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"format": "aml-hub-codes", "version": 1, "codes": stored}, f, indent=1)
    os.chmod(codes_file, 0o600)
    if only and hub_db is not None and Path(hub_db).exists():
        import sqlite3

        with sqlite3.connect(hub_db) as db:
            if db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='users_info'").fetchone():
                db.executemany("DELETE FROM users_info WHERE username = ?", [(n,) for n in issued])
    sheet = Path(sheet)
    fd = os.open(sheet, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "role", "code"])
        for n, code in issued.items():
            w.writerow([n, "instructor (admin)" if n in staff else "learner", code])
    return issued


def main(argv: list) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="hub.py", description="the workshop hub: its environment and login codes")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("hub-env", help="build the hub's user environment")
    e.add_argument("env_dir", nargs="?", default=str(HUB_ENV))
    c = sub.add_parser("codes", help="issue a login code to every name of the roster (and the instructors)")
    c.add_argument("roster", help="one learner name a line")
    c.add_argument("--instructors", default=os.environ.get("AML_HUB_INSTRUCTORS", ""), help="comma-separated")
    c.add_argument("--only", default="", help="comma-separated names: reissue just these (a lost slip)")
    c.add_argument("--codes-file", default=os.environ.get("AML_HUB_CODES", "/srv/aml-hub/codes.json"))
    c.add_argument("--sheet", default="room-codes.csv", help="the CSV of codes to print (default room-codes.csv)")
    c.add_argument("--hub-db", default=os.path.join(os.environ.get("AML_HUB_STATE_DIR", "/srv/aml-hub"), "jupyterhub.sqlite"),
                   help="with --only: the hub's database, whose stored passwords of those names are removed")
    args = p.parse_args(argv)
    if args.command == "hub-env":
        print(f"hub environment ready: {ensure_hub_env(Path(args.env_dir))}")
        return 0
    try:
        issued = issue_codes(Path(args.roster), Path(args.codes_file), Path(args.sheet),
                             instructors=args.instructors.split(","), only=[n for n in args.only.split(",") if n.strip()],
                             hub_db=Path(args.hub_db))
    except (OSError, ValueError) as err:
        print(f"hub.py codes: {err}", file=sys.stderr)
        return 2
    print(f"{len(issued)} code(s) issued: print {args.sheet} (the only copy of the codes), cut it into slips, "
          f"then delete it; the hub checks {args.codes_file}")
    return 0


if __name__ == "__main__":  # `python3 course/delivery/workshop/hub.py hub-env|codes ...`, before the course environment exists
    sys.exit(main(sys.argv[1:]))
