"""Check a student's file against the book's reference implementations.

Imports FILE.py in a separate process with a time limit, runs the exercise checks for the
names it defines (MySequential, dropout_layer, save and load, ...) or for each --exercise,
and prints one row per exercise: checks passed, and the first failure's message. A file
that fails to import, loops forever or prints without end gets a row, never a crash.
Exit status: 0 when every check passed, 1 otherwise.
"""

import json

HELP = "check a student's exercise file against the reference implementations"


def add_arguments(parser):
    from d2lcompute.commands import _positive_float

    parser.add_argument("file", metavar="FILE.py", help="the student's Python file")
    parser.add_argument(
        "--exercise",
        action="append",
        metavar="NAME",
        help="an exercise to check (repeatable; default: every exercise whose names FILE defines)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON, for a grading script"
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=120,
        metavar="S",
        help="seconds for the whole check, import included (default: 120)",
    )


def run(args):
    from d2lcompute.commands import CommandError
    from d2lcompute.testing.runner import check_file

    try:
        rows = check_file(args.file, args.exercise, timeout=args.timeout)
    except (FileNotFoundError, ValueError) as e:
        raise CommandError(str(e)) from None
    if args.json:
        print(json.dumps({"file": args.file, "exercises": [vars(row) for row in rows]}, indent=2))
    else:
        print(_table(rows))
    return 0 if rows and all(row.status == "passed" for row in rows) else 1


def _table(rows):
    header = ("exercise", "passed", "first failure")
    cells = [
        (
            row.exercise,
            f"{row.num_passed}/{row.total}" if row.total else row.status,
            _first_line(row.message),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(2)]
    lines = [
        f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]}",
        f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * len(header[2])}",
    ]
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in cells]
    return "\n".join(lines)


def _first_line(message, limit=100):
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
