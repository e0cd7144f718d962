"""Start one person's JupyterLab on the hub, after bringing the course into their ~/my-work.

Run by the spawner as that person (Spawner.cmd in jupyterhub_config.py), with the hub's user
environment. The lessons go to ~/my-work/lessons/ and the exercises to ~/my-work/<assignment>/
through run.py's `update_copies`, the rule of the learner's own workspace: a new file is copied,
an unedited copy is updated when the course changes, an edited copy is kept and the course's new
version is placed beside it. So pulling a fix into the course checkout (AML_HUB_REPO) reaches
everyone at their next server start, and nobody's work is overwritten. Only the standard library.
"""
import importlib.util
import os
import sys
from pathlib import Path


def sync(repo: Path, home: Path) -> list:
    spec = importlib.util.spec_from_file_location("course_run", repo / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    return run.update_copies({"lessons": repo / "lessons", "": repo / "exercises"}, home / "my-work",
                             prepare=run.kernel_metadata)


def main() -> None:
    repo = Path(os.environ.get("AML_HUB_REPO", "/opt/aml-course/repo"))
    try:
        changes = sync(repo, Path.home())
        counts = {}
        for what, *_ in changes:
            counts[what] = counts.get(what, 0) + 1
        print(f"[start-server] course copied into ~/my-work: {counts or 'up to date'}", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - a failed copy must not keep the person out of their server
        print(f"[start-server] could not update ~/my-work from {repo}: {type(e).__name__}: {e}", file=sys.stderr)
    # The learner's own files (saved predictions, the mental-model check's answers) go to ~/my-work, not beside the
    # shared course, which the learner cannot write to: the kernels inherit this variable.
    os.environ["COURSE_WORKSPACE"] = str(Path.home() / "my-work")
    singleuser = os.environ.get("AML_HUB_SINGLEUSER") or str(Path(sys.executable).with_name("jupyterhub-singleuser"))
    os.execv(singleuser, [singleuser, *sys.argv[1:]])


if __name__ == "__main__":
    main()
