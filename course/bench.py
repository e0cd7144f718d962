"""Execute every notebook of the course and time it (kernel start included): `course bench`."""
from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def notebooks(groups=("lessons", "solutions", "exercises")) -> list:
    """The course's notebooks, in course order within each group."""
    found = []
    for group in groups:
        found += sorted(p for p in (ROOT / group).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return found


def execute(path: Path, timeout: int = 600, allow_errors: bool = False):
    """Run a notebook top to bottom in a fresh kernel, in its own folder; return (notebook, seconds)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("COURSE_NO_SELF_CHECK", "1")  # an exercise's last cell would grade itself again
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return nb, time.perf_counter() - start


def run(paths=None) -> list:
    """Execute notebooks and return [(relative path, seconds, status)]."""
    from tqdm.auto import tqdm

    rows = []
    for path in tqdm(paths or notebooks(), desc="notebooks"):
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        blank = "exercises" in path.parts
        try:
            _, secs = execute(path, allow_errors=blank)
            rows.append((str(rel), secs, "ok"))
        except Exception as e:  # noqa: BLE001 - report and go on with the next notebook
            rows.append((str(rel), float("nan"), f"FAILED: {type(e).__name__}"))
    return rows


def table(rows) -> str:
    width = max([len(r[0]) for r in rows] + [8])
    lines = [f"{'notebook':<{width}}  {'seconds':>8}  status", "-" * (width + 20)]
    lines += [f"{name:<{width}}  {secs:8.1f}  {status}" for name, secs, status in rows]
    done = [s for _, s, st in rows if st == "ok"]
    if done:
        done_sorted = sorted(done)
        median = done_sorted[len(done_sorted) // 2]
        lines += ["-" * (width + 20), f"{'total':<{width}}  {sum(done):8.1f}  ({len(done)} ok, median {median:.1f} s, max {max(done):.1f} s)"]
    return "\n".join(lines)
