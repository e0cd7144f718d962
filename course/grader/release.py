"""`course release`: regenerate `exercises/` (nbgrader's release) from `solutions/` (its source).

nbgrader's generate_assignment runs in a scratch course directory, so the repository gets no
gradebook; a test fails whenever `exercises/` is stale.

With a private release seed (`course release --seed R --out DIR`) the value tasks that have a bank of
scenario variants (`course.checks.variants`) show other variants than the public release: each cell the
check module's `render(seed)` names has its public text replaced by the text of the seed's variants.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from course.checks.variants import PUBLIC_SEED
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


def apply_variants(notebook: Path, assignment: str, seed: int) -> int:
    """Replace the public variants of `assignment`'s value tasks by those of `seed` in a released notebook.

    Returns the number of cells changed. Every cell the renderer names must contain its public text.
    """
    import nbformat

    from course.checks import variants

    public, private = variants.render(assignment, variants.PUBLIC_SEED), variants.render(assignment, seed)
    if not public:
        return 0
    nb = nbformat.read(notebook, as_version=4)
    changed = 0
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in public:
            if public[gid] not in cell.source:
                raise GradingError(f"{assignment}: cell {gid} no longer holds the public variants' text; "
                                   "update the check module's render() with the notebook")
            cell.source = cell.source.replace(public[gid], private[gid])
            changed += 1
    if changed != len(public):
        raise GradingError(f"{assignment}: cells {sorted(public)} expected, {changed} found")
    # The checks in the learner's kernel must know the release: the first answer cell with variants says so (an
    # answer cell: graders restore locked cells from the public source). Judges outside the kernel read the
    # notebook's metadata (the self-check) or the instructor's --release-seed (course grade).
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") in public
               and c.metadata["nbgrader"].get("solution")]
    if not answers:
        raise GradingError(f"{assignment}: a private release needs an answer cell among {sorted(public)}")
    answers[0].source = (f"import os\nos.environ[{variants.RELEASE_SEED_VARIABLE!r}] = \"{seed}\"  "
                         "# this notebook's items: keep this line\n" + answers[0].source)
    nb.metadata.setdefault("course", {})["release_seed"] = seed  # for the self-check and the instructor
    nbformat.write(nb, notebook)
    return changed


def build_release(dest: Path, names: list | None = None, seed: int | None = None) -> list:
    """Generate the release of the given assignments (default: all) into dest/<assignment>/.

    With a release `seed` other than the public one, the value tasks show the seed's scenario variants.
    """
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
            if seed is not None and seed != PUBLIC_SEED:
                apply_variants(target / f"{name}.ipynb", name, seed)
    return names


def release(names: list | None = None) -> list:
    """Regenerate exercises/ from solutions/ (all assignments by default)."""
    return build_release(EXERCISES, names)


SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def typed_answers(solution) -> dict:
    """{grade id: source} of a solution notebook's answer cells as a learner would type them (no solution markers)."""
    out = {}
    for cell in solution.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = "\n".join(l for l in cell.source.splitlines() if l.strip() not in SOLUTION_MARKERS)
    return out


def answered(blank, answers: dict):
    """A copy of the released notebook `blank` with `answers` {grade id: source} typed into its answer cells: with
    `typed_answers(solution)`, what an honest learner submits (the benchmark's and the tests' submissions)."""
    import copy

    nb = copy.deepcopy(blank)
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
    unknown = sorted(set(answers) - set(cells))
    if unknown:
        raise KeyError(f"no answer cell with grade id {', '.join(unknown)} in the release; its answer cells: {sorted(cells)}")
    for gid, source in answers.items():
        cells[gid].source = source
    return nb
