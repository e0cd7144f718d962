"""The workshop's commands: `course agenda`, `course site`, `course bundle` (and `hub-env`, stdlib only)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course.delivery.workshop.agenda import agenda
from course.delivery.workshop.bundle import PLATFORMS, build_bundle
from course.delivery.workshop.catalogue import load_tracks, missing_references
from course.delivery.workshop.site import build_site


def _cmd_agenda(args) -> int:
    try:
        written = agenda(Path(args.out) if args.out else None, args.track or None, pdf=not args.no_pdf)
    except ValueError as e:
        print(f"course agenda: {e}", file=sys.stderr)
        return 2
    for f in written["html"] + written["pdf"]:
        print(f)
    if not args.no_pdf and not written["pdf"]:
        print("(no PDF: Chromium is not installed; print the HTML from a browser instead)")
    missing = missing_references(load_tracks())
    if missing:
        print("note: not in this copy of the course yet: " + ", ".join(f"{k} {n} ({t})" for t, k, n in missing))
    return 0


def _cmd_site(args) -> int:
    report = build_site(Path(args.out) if args.out else None, only=args.lessons or None, jobs=args.jobs,
                        use_cache=not args.no_cache)
    print(report.summary())
    print(f"open {report.out / 'index.html'}")
    return 1 if report.broken or report.remote_assets else 0


def _cmd_bundle(args) -> int:
    if args.check_platforms:
        from course.delivery.workshop.bundle import SUPPORTED, check_platforms

        try:
            result = check_platforms(args.python)
        except RuntimeError as e:
            print(f"course bundle: {e}", file=sys.stderr)
            return 2
        ok = [p for p, r in result["platforms"].items() if r["installable"]]
        print(f"{SUPPORTED}: installable on {', '.join(ok) or 'no platform'}; update the README's list to match")
        return 0
    try:
        report = build_bundle(Path(args.out) if args.out else None, platforms=args.platform or None,
                              python=args.python, with_tests=not args.no_tests, ref=args.ref)
    except (ValueError, RuntimeError) as e:
        print(f"course bundle: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"hand out the folder {report.out} (e.g. on a USB stick); learners run install.sh, or install.bat on Windows")
    return 0


def _item_ids(args) -> list:
    """The items chosen by --form / --half / --items (default: every item of the bank), in order."""
    from course.science import beliefs

    if getattr(args, "items", None):
        return [i.strip() for i in args.items.split(",") if i.strip()]
    if getattr(args, "form", None):
        forms = getattr(beliefs, "FORMS", None)
        if not forms or args.form not in forms:
            raise ValueError(f"no form {args.form!r}; the bank has {sorted(forms) if forms else 'no forms'}")
        return list(forms[args.form])
    if getattr(args, "half", None):
        return list(getattr(beliefs, "HALVES", {})[args.half])
    return list(beliefs.IDS)


def _cmd_questionnaire(args) -> int:
    import csv
    import json

    from course.science import beliefs, questionnaire

    try:
        ids = _item_ids(args)
        if args.action == "sheet":
            out = Path(args.out or f"build/workshop/questionnaire-{args.phase}.html")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(questionnaire.sheet(ids, phase=args.phase), encoding="utf-8")
            print(f"{out}: {len(ids)} statements; print it from a browser")
            return 0
        folder = Path(args.out or "paper-answers") / args.phase
        if args.action == "enter":
            rows = ([(args.learner, args.codes or "")] if not args.csv else
                    [(r[0].strip(), r[1]) for r in csv.reader(Path(args.csv).read_text(encoding="utf-8").splitlines())
                     if len(r) >= 2 and r[0].strip() and r[0].strip().lower() != "learner"])
            if not rows or not rows[0][0]:
                raise ValueError("give --learner NAME and the codes, or --csv FILE with rows learner,codes")
            for learner, codes in rows:
                answers = questionnaire.parse_codes(codes, ids)
                target = folder / f"{learner}.json"
                beliefs.write_json(target, questionnaire.record(answers, args.phase, learner))
                blank = len(ids) - len(answers)
                print(f"{target}: {len(answers)} answered" + (f", {blank} blank" if blank else ""))
            return 0
        records = [json.loads(f.read_text(encoding="utf-8"))["answers"] for f in sorted(folder.glob("*.json"))]
        if not records:
            raise ValueError(f"no entered answers in {folder}")
        shares = beliefs.aggregate(records)
        print(f"{len(records)} sheet(s), phase {args.phase}: share of answers correct per misconception")
        for m, share in shares.items():
            print(f"  {m}  {'   -' if share != share else f'{share:4.0%}'}")
        return 0
    except (ValueError, KeyError, OSError) as e:
        print(f"course questionnaire: {e}", file=sys.stderr)
        return 2


def add_commands(subparsers) -> None:
    """Add `agenda`, `site` and `bundle` to the `course` command's subparsers."""
    a = subparsers.add_parser("agenda", help="render the workshop tracks and the facilitator guide (HTML, and PDF with Chromium)")
    a.add_argument("--track", action="append", help="a track id (repeatable; default: all tracks)")
    a.add_argument("--out", help="output folder (default: build/workshop)")
    a.add_argument("--no-pdf", action="store_true", help="HTML only")
    a.set_defaults(func=_cmd_agenda)
    s = subparsers.add_parser("site", help="build the static course site from the executed lessons (offline)")
    s.add_argument("--out", help="output folder (default: build/site)")
    s.add_argument("--lessons", nargs="*", help="lesson numbers or names (default: all)")
    s.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default: 2)")
    s.add_argument("--no-cache", action="store_true", help="execute every lesson again, ignoring .course/site-cache")
    s.set_defaults(func=_cmd_site)
    b = subparsers.add_parser("bundle", help="build an offline install bundle (wheelhouse + repository + install scripts)")
    b.add_argument("--platform", action="append", choices=["current", "all", *PLATFORMS],
                   help="target platform (repeatable; default: current)")
    b.add_argument("--python", default="3.11", help="Python version of the learners' machines (default: 3.11)")
    b.add_argument("--out", help="output folder (default: build/bundle/aml-course-bundle)")
    b.add_argument("--no-tests", action="store_true", help="leave out the test tools (pytest)")
    b.add_argument("--ref", default="HEAD", help="git revision to archive (default: HEAD)")
    b.add_argument("--check-platforms", action="store_true",
                   help="only resolve the wheels of every platform (no download) and write workshop/bundle/supported.json")
    b.set_defaults(func=_cmd_bundle)
    q = subparsers.add_parser("questionnaire", help="the mental-model check on paper: print the sheet, enter answers, sum up")
    q.add_argument("action", choices=["sheet", "enter", "summary"])
    q.add_argument("--codes", help="enter: one token a statement in sheet order, e.g. \"T3 F2 - T4\"")
    q.add_argument("--phase", choices=["before", "after"], default="before")
    pick = q.add_mutually_exclusive_group()
    pick.add_argument("--form", help="a form of the item bank (e.g. A or B)")
    pick.add_argument("--half", choices=["first", "second"], help="one half of the bank")
    pick.add_argument("--items", help="comma-separated item ids, in sheet order")
    q.add_argument("--learner", help="enter: whose sheet")
    q.add_argument("--csv", help="enter: a CSV file of rows learner,codes")
    q.add_argument("--out", help="sheet: the HTML file; enter/summary: the folder of entered answers (default paper-answers)")
    q.set_defaults(func=_cmd_questionnaire)


def main(argv=None) -> int:
    """`python -m course.delivery.workshop.cli agenda|site|bundle ...`: the three commands as `course` has them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="workshop")
    add_commands(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
