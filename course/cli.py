"""The `course` command: release, check, bench (also `python -m course`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _release(args) -> int:
    from course import grading

    names = grading.release(args.assignments or None)
    print(f"regenerated exercises/ for {len(names)} assignment(s): {', '.join(names)}")
    return 0


def _check(args) -> int:
    from course import grading

    try:
        result = grading.check(Path(args.notebook), seed=args.seed)
    except grading.GradingError as e:
        print(f"course check: {e}", file=sys.stderr)
        return 2
    print(result.report())
    return 0


def _bench(args) -> int:
    from course import bench

    paths = [Path(p).resolve() for p in args.notebooks] or None
    rows = bench.run(paths)
    print(bench.table(rows))
    return 0 if all(status == "ok" for _, _, status in rows) else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="course", description="Tools of the adversarial ML course.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="regenerate exercises/ from solutions/ (nbgrader generate_assignment)")
    r.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    r.set_defaults(func=_release)
    c = sub.add_parser("check", help="self-grade one saved exercise notebook, hidden tests included")
    c.add_argument("notebook", help="path to the notebook, e.g. my-work/01-ml-recap/01-ml-recap.ipynb")
    c.add_argument("--seed", type=int, default=None, help="grading seed for hidden data (default: $COURSE_GRADING_SEED or the course default)")
    c.set_defaults(func=_check)
    b = sub.add_parser("bench", help="execute every notebook and print wall times")
    b.add_argument("notebooks", nargs="*", help="notebooks to run (default: lessons, solutions, exercises)")
    b.set_defaults(func=_bench)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
