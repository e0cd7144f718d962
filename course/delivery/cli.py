"""The `course` command: release, check, bench (also `python -m course`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _release(args) -> int:
    from course.grader import release

    if args.seed is not None and args.out is None:
        print("course release: --seed makes a cohort's release, with scenario variants other than the public ones; "
              "give it a folder of its own with --out DIR (exercises/ is the public release)", file=sys.stderr)
        return 2
    if args.out is not None:
        names = release.build_release(Path(args.out), args.assignments or None, seed=args.seed)
        print(f"released {len(names)} assignment(s) into {args.out}" + (
            f" with release seed {args.seed}: grade them with `course grade ... --release-seed {args.seed}`"
            if args.seed is not None else ""))
        return 0
    names = release.release(args.assignments or None)
    print(f"regenerated exercises/ for {len(names)} assignment(s): {', '.join(names)}")
    return 0


def _check(args) -> int:
    from course.grader import course_dir, selfcheck

    try:
        result = selfcheck.check(Path(args.notebook), seed=args.seed)
    except course_dir.GradingError as e:
        print(f"course check: {e}", file=sys.stderr)
        return 2
    print(result.report())
    return 0


def _grade(args) -> int:
    import os

    from course import checks
    from course.checks import variants
    from course.grader import cohort, course_dir, submissions
    from course.grader.sandbox import Limits, Sandbox

    if args.release_seed is not None:  # the checks of value tasks accept only the variants released to the cohort
        os.environ[variants.RELEASE_SEED_VARIABLE] = str(args.release_seed)

    if args.seed is None and not os.environ.get(checks.SEED_VARIABLE, "").strip() and not args.public_seed:
        print("course grade: no private grading seed. Pass --seed N (or set $COURSE_GRADING_SEED) and keep it to "
              "yourself: hidden checks draw their data from it. To grade with the course's public default seed "
              "anyway (a practice run), pass --public-seed.", file=sys.stderr)
        return 2
    if args.public_seed:
        if args.seed is not None:
            print("course grade: --seed and --public-seed contradict each other", file=sys.stderr)
            return 2
        os.environ.pop(checks.SEED_VARIABLE, None)
        print(f"course grade: WARNING: grading with the public default seed ({checks.DEFAULT_GRADING_SEED}): "
              "anyone can compute the hidden data", file=sys.stderr)
    limits = Limits(wall_seconds=args.wall, cell_seconds=args.cell_timeout, memory_bytes=args.memory_mb * 2**20)
    sandbox = Sandbox(limits, use_bwrap=not args.no_sandbox)
    broken = sandbox.probe() if sandbox.bwrap else ""
    if broken:  # installed, but cannot start here (user namespaces restricted): as good as missing
        print(f"course grade: WARNING: {broken}", file=sys.stderr)
        sandbox = Sandbox(limits, use_bwrap=False)
    if sandbox.missing and args.scheduler not in (None, "local"):
        print("course grade: the sandboxes run on the Dask workers: each worker checks its own bubblewrap", file=sys.stderr)
    elif sandbox.missing:
        for m in sandbox.missing:
            print(f"course grade: WARNING: {m}", file=sys.stderr)
        if not args.no_sandbox and not args.allow_weak_sandbox:
            print("course grade: refusing to run untrusted code without bubblewrap; install it (Debian/Ubuntu: "
                  "apt install bubblewrap) or pass --allow-weak-sandbox to accept the weaker isolation", file=sys.stderr)
            return 3
    import signal

    def stop(signum, frame):  # SIGTERM (a scheduler, `kill`) stops like Ctrl-C: recorded work kept, sandboxes cleaned up
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        if args.scheduler:
            try:
                from course.grader import dask_grading
            except ImportError as e:
                print(f"course grade: --scheduler needs Dask ({e}): .venv/bin/pip install -r requirements/grading.txt",
                      file=sys.stderr)
                return 2
            summary = dask_grading.grade(args.assignment, Path(args.submissions), scheduler=args.scheduler,
                                         roster=args.roster, seed=args.seed, workers=args.workers, force=args.force,
                                         course_dir=args.course_dir, limits=limits,
                                         allow_weak=args.allow_weak_sandbox or args.no_sandbox)
        else:
            summary = cohort.grade(args.assignment, Path(args.submissions), roster=args.roster, seed=args.seed,
                                   workers=args.workers, force=args.force, course_dir=args.course_dir, sandbox=sandbox)
    except submissions.SubmissionsError as e:
        print(f"course grade: {e}", file=sys.stderr)  # the message lists every skipped file
        return 2
    except (course_dir.GradingError, KeyError, ValueError) as e:
        print(f"course grade: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("course grade: interrupted. What was recorded is kept; run the same command again to grade the rest "
              "(finished learners are skipped).", file=sys.stderr)
        return 130
    print(f"graded {len(summary.graded)} submission(s) of {summary.assignment} in {summary.seconds:.1f} s"
          f" ({len(summary.skipped)} unchanged since the last run, not regraded)")
    for r in sorted(summary.graded, key=lambda r: r.student):
        flag = f"  [{len(r.flags)} flag(s)]" if r.flags else ""
        print(f"  {r.student:<24} {r.score:g} / {r.max_score:g}{flag}")
    for path, why in summary.unrecognised:
        print(f"  not graded: {path}: {why}")
    for name, sid in summary.unmatched:
        print(f"  not on the roster: {name!r}, graded as {sid}")
    for sid, name in summary.missing:
        print(f"  on the roster, no submission: {sid} ({name})")
    for sid, why in summary.lost:
        print(f"  NOT GRADED (the task did not finish; rerun the same command to grade it): {sid}: {why}")
    if summary.public_seed:
        print("seed: the course's PUBLIC default seed (--public-seed): not for grades that count")
    try:
        import latex2mathml  # noqa: F401
    except ImportError:
        print("feedback: maths left as TeX text (install requirements/site.txt for MathML: "
              ".venv/bin/pip install -r requirements/site.txt)")
    print("protections: " + "; ".join(summary.protections))
    print(f"reports: {summary.out_dir} (scores.csv, flags.csv, identity.csv, feedback/, misconceptions.html)")
    return 0


def _bench(args) -> int:
    from course.delivery import bench

    if args.grading:
        import json

        if args.scheduler:
            print(json.dumps(bench.dask_scaling(args.grading, scheduler=args.scheduler), indent=1))
        else:
            print(json.dumps(bench.grading_throughput(args.grading, workers=args.workers), indent=1))
        return 0

    paths = [Path(p).resolve() for p in args.notebooks] or None
    rows = bench.run(paths)
    print(bench.table(rows))
    return 0 if all(status == "ok" for _, _, status in rows) else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="course", description="Tools of the adversarial ML course.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="regenerate exercises/ from solutions/ (nbgrader generate_assignment)")
    r.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    r.add_argument("--seed", type=int, default=None,
                   help="private release seed: value tasks show scenario variants whose keys no public notebook holds "
                        "(needs --out; grade with --release-seed)")
    r.add_argument("--out", default=None, help="release into this folder instead of exercises/")
    r.set_defaults(func=_release)
    c = sub.add_parser("check", help="self-grade one saved exercise notebook, hidden tests included")
    c.add_argument("notebook", help="path to the notebook, e.g. my-work/01-ml-recap/01-ml-recap.ipynb")
    c.add_argument("--seed", type=int, default=None,
                   help="grading seed for hidden data (default: $COURSE_GRADING_SEED or the course default)")
    c.set_defaults(func=_check)
    g = sub.add_parser("grade", help="grade a cohort's submissions, sandboxed and in parallel")
    g.add_argument("assignment", help="assignment id, e.g. 01-ml-recap")
    g.add_argument("submissions", help="nbgrader submitted/ tree, a flat folder of notebooks, or an LMS zip (Moodle, Canvas)")
    g.add_argument("--roster", help="CSV with columns student_id,name (optional first_name, last_name, email, moodle_id, "
                   "canvas_id) mapping the names found to student ids; unmatched and missing learners are listed")
    g.add_argument("--seed", type=int, default=None, help="private grading seed (default: $COURSE_GRADING_SEED; required)")
    g.add_argument("--release-seed", type=int, default=None,
                   help="the seed of `course release --seed` when the cohort got a private release (sets "
                        "$COURSE_RELEASE_SEED): answers to other variants than the released ones score nothing")
    g.add_argument("--public-seed", action="store_true",
                   help="grade with the course's public default seed (a practice run: hidden data are not private)")
    g.add_argument("--workers", type=int, default=None,
                   help="parallel sandboxes (default: one more than the cores); with --scheduler local, the local Dask "
                        "workers (default: one per core)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS|local",
                   help="grade on Dask distributed: a scheduler's address (tcp://host:8786) or `local` for a local "
                        "cluster; needs requirements/grading.txt (this process stays the one writer of the gradebook)")
    g.add_argument("--force", action="store_true", help="regrade submissions that were graded before")
    g.add_argument("--course-dir", default=None, help="nbgrader course folder for the gradebook and reports (default: the repository)")
    g.add_argument("--wall", type=float, default=600, help="seconds one submission may take in all (default 600)")
    g.add_argument("--cell-timeout", type=int, default=60, help="seconds one cell or call may take (default 60)")
    g.add_argument("--memory-mb", type=int, default=2048, help="memory of one sandbox in MiB (default 2048)")
    g.add_argument("--allow-weak-sandbox", action="store_true", help="grade even without bubblewrap (weaker isolation)")
    g.add_argument("--no-sandbox", action="store_true", help=argparse.SUPPRESS)
    g.set_defaults(func=_grade)
    from course.delivery.workshop import cli as workshop

    workshop.add_commands(sub)  # agenda, site, bundle
    b = sub.add_parser("bench", help="execute every notebook and print wall times")
    b.add_argument("notebooks", nargs="*", help="notebooks to run (default: lessons, solutions, exercises)")
    b.add_argument("--grading", type=int, metavar="N", default=0,
                   help="instead: grade N generated submissions with sequential nbgrader and with course grade, and compare")
    b.add_argument("--workers", type=int, default=None, help="with --grading: parallel sandboxes (default: one more than the cores)")
    b.add_argument("--scheduler", default=None, metavar="local",
                   help="with --grading: grade on a local Dask cluster of 1, then 2 workers, and compare throughput")
    b.set_defaults(func=_bench)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
