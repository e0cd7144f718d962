"""`course release`: regenerate `exercises/` (nbgrader's release) from `solutions/` (its source).

nbgrader's generate_assignment runs in a scratch course directory, so the repository gets no
gradebook; a test fails whenever `exercises/` is stale.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from course.grader.course_dir import (
    EXERCISES,
    GradingError,
    assignments,
    nbgrader_api,
    quiet_env,
    result_or_raise,
    scratch_course,
)


def generate(course_root: Path, assignment: str) -> None:
    """Run nbgrader generate_assignment for one assignment inside `course_root`."""
    api = nbgrader_api(course_root)
    with quiet_env() as log:
        result = api.generate_assignment(assignment, force=True, create=True)
    result_or_raise(result, f"generate the release of {assignment}", log.getvalue())


def build_release(dest: Path, names: list | None = None) -> list:
    """Generate the release of the given assignments (default: all) into dest/<assignment>/."""
    names = names or assignments()
    unknown = set(names) - set(assignments())
    if unknown:
        raise GradingError(f"unknown assignment(s) {sorted(unknown)}; known: {assignments()}")
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        root = scratch_course(Path(tmp), names)
        for name in names:
            generate(root, name)
            target = Path(dest) / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / "exercises" / name, target)
    return names


def release(names: list | None = None) -> list:
    """Regenerate exercises/ from solutions/ (all assignments by default)."""
    return build_release(EXERCISES, names)
