"""Check students' files against the book's reference implementations.

One file (``check FILE.py``): imported in a separate process with a time limit, the
exercise checks run for the names it defines (MySequential, dropout_layer, save and load,
...) or for each --exercise, and one row per exercise shows the checks passed and the
first failure, with what was expected and the likely cause. A file that fails to import,
loops forever or prints without end gets a row, never a crash.

A class (``check FOLDER`` or several files): every file in its own warm, time-limited
process (--jobs at a time), one line per file and exercise, a summary per exercise, and a
gradebook (``--gradebook PREFIX``: PREFIX.csv and PREFIX.json).

A convention correctness does not need (key names, a weight's layout, the book's fold
sizes) is a note beside the verdict; ``--strict`` (or ``--strict EXERCISE``) counts it.
Exit status: 0 when every check passed, 1 otherwise.
"""

import json
import os
from pathlib import Path

from d2lcompute.testing.grading import first_line

HELP = "check students' exercise files against the reference implementations"


def add_arguments(parser):
    from d2lcompute.commands import _positive_float, _positive_int

    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a student's Python file, or several, or a folder of them (searched recursively)",
    )
    parser.add_argument(
        "--exercise",
        action="append",
        metavar="NAME",
        help="an exercise to check (repeatable; default: every exercise whose names FILE defines)",
    )
    parser.add_argument(
        "--strict",
        action="append",
        nargs="?",
        const="all",
        metavar="EXERCISE",
        help="count the notes (conventions correctness does not need) as failures: for "
        "every exercise, or for EXERCISE (repeatable)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON, for a grading script"
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=120,
        metavar="S",
        help="seconds for each file's check, import included (default: 120)",
    )
    parser.add_argument(
        "--jobs",
        type=_positive_int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="files checked at once, one thread each (default: the number of CPUs)",
    )
    parser.add_argument(
        "--gradebook",
        default="gradebook",
        metavar="PREFIX",
        help="for several files: write PREFIX.csv and PREFIX.json (default: gradebook)",
    )


def run(args):
    from d2lcompute.commands import CommandError

    try:
        if len(args.paths) == 1 and not Path(args.paths[0]).is_dir():
            return _check_one(args)
        return _check_many(args)
    except (FileNotFoundError, ValueError) as e:
        raise CommandError(str(e)) from None


def _check_one(args):
    from d2lcompute.testing.runner import check_file

    rows = check_file(args.paths[0], args.exercise, timeout=args.timeout, strict=args.strict)
    if args.json:
        print(json.dumps({"file": args.paths[0], "exercises": [vars(r) for r in rows]}, indent=2))
    else:
        print(_table(rows))
    return 0 if rows and all(row.status == "passed" for row in rows) else 1


def _check_many(args):
    from d2lcompute.testing import grading

    files = grading.find_submissions(args.paths)
    if not files:
        raise FileNotFoundError(f"no Python files in {', '.join(args.paths)}")
    print(f"checking {len(files)} files, {args.jobs} at a time", flush=True)
    grades = grading.grade_files(
        files, args.exercise, jobs=args.jobs, timeout=args.timeout, strict=args.strict or ()
    )
    csv_path, json_path = grading.write_gradebook(grades, args.gradebook)
    if args.json:
        print(json_path.read_text())
    else:
        print(_class_table(grades))
        print()
        print(_summary_table(grading.summarize(grades)))
        print(f"\ngradebook: {csv_path} and {json_path}")
    return 0 if all(grade.passed for grade in grades) else 1


# ---- tables ------------------------------------------------------------------------------


def _table(rows):
    """One row per exercise; under a failure its expected value and likely cause, under a
    pass its notes."""
    cells = [
        (
            row.exercise,
            f"{row.num_passed}/{row.total}" if row.total else row.status,
            first_line(row.message),
        )
        for row in rows
    ]
    details = [_details(row) for row in rows]
    return _columns(("exercise", "passed", "first failure"), cells, details)


def _details(row):
    """The expected value and the likely cause of a failure, or the notes of a pass."""
    if row.status == "passed":
        return [_cut(f"note: {text}") for text in row.notes]
    lines = [line.strip() for line in row.message.splitlines()[1:]]
    return [_cut(line) for line in lines if line.startswith(("expected:", "likely cause:"))]


def _class_table(grades):
    cells = [
        (
            grade.file,
            row.exercise,
            f"{row.num_passed}/{row.total}" if row.total else row.status,
            first_line(row.message) or ("note: " + first_line(row.notes[0]) if row.notes else ""),
        )
        for grade in grades
        for row in grade.rows
    ]
    return _columns(("file", "exercise", "passed", "first failure"), cells)


def _summary_table(summary):
    cells = [
        (
            item["exercise"],
            f"{item['passed']}/{item['files']}",
            f"{item['count']} x {item['most_common_failure']}" if item["count"] else "",
        )
        for item in summary
    ]
    return _columns(("exercise", "passed", "most common failure"), cells)


def _columns(header, cells, details=None):
    """Left-aligned columns; ``details[i]``: lines shown under row i, in the last column."""
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header) - 1)]
    indent = " " * sum(width + 2 for width in widths)
    lines = [
        "  ".join(f"{h:<{w}}" for h, w in zip(header, widths)) + f"  {header[-1]}",
        "  ".join("-" * w for w in widths) + f"  {'-' * len(header[-1])}",
    ]
    for i, cell in enumerate(cells):
        lines.append(
            ("  ".join(f"{c:<{w}}" for c, w in zip(cell, widths)) + f"  {cell[-1]}").rstrip()
        )
        lines += [indent + "  " + line for line in (details[i] if details else [])]
    return "\n".join(lines)


def _cut(line, limit=100):
    return line if len(line) <= limit else line[: limit - 3] + "..."
