"""Grade a class: many student files, each isolated, on warm workers: :func:`grade_files`.

One server process imports torch, Hypothesis and the checks once (multiprocessing's
``forkserver`` with :mod:`d2lcompute.testing._warm` preloaded); every file is then checked
in a fresh process forked from it. So a file starts in a fraction of a second, yet its
global state (a monkeypatched torch, its entries in ``sys.modules``) dies with its process,
and a file that hangs is killed at its time limit without touching the others. Each
process runs in its own scratch folder (its working directory, ``$HOME`` and ``$TMPDIR``)
on one torch thread, and ``jobs`` of them run at a time.

The results go to a gradebook (:func:`write_gradebook`: CSV and JSON, one row per file and
exercise) and a summary per exercise (:func:`summarize`).
"""

import collections
import csv
import io
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import d2lcompute
from d2lcompute.testing import runner

GRADEBOOK_COLUMNS = ("file", "exercise", "passed", "total", "verdict", "first_failure", "notes")


@dataclass
class FileGrade:
    """The rows of one student file (:class:`~d2lcompute.testing.runner.FileCheckRow`) and
    the seconds its process ran."""

    file: str
    rows: list
    seconds: float = 0.0

    @property
    def passed(self):
        return bool(self.rows) and all(row.status == "passed" for row in self.rows)


def find_submissions(paths):
    """The ``.py`` files named in ``paths``, folders searched recursively, in sorted order."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*.py")
                if not any(part.startswith((".", "__")) for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(
                f"paths must be Python files or folders, got {str(path)!r}: no such file"
            )
    return files


def grade_files(paths, exercises=None, *, jobs=1, timeout=120, strict=()):
    """Check every file in ``paths``, ``jobs`` at a time, each in its own warm process.

    Args:
        paths: the students' ``.py`` files.
        exercises: exercise names to run in each; default: those each file defines.
        jobs: files checked at once (one torch thread each).
        timeout: seconds per file, import included; then its process is killed.
        strict: exercise names whose notes count as failures, or ``["all"]``.

    Returns:
        One :class:`FileGrade` per file, in the order of ``paths``.
    """
    from d2lcompute._checks import check_int, check_number

    jobs = check_int("jobs", jobs, min_value=1)
    timeout = check_number("timeout", timeout, min_value=0.1)
    exercises = runner.checked_exercises(exercises)
    paths = [Path(path) for path in paths]
    context = _context() if paths else None
    grades, pending, running = [None] * len(paths), list(enumerate(paths)), {}
    with tempfile.TemporaryDirectory(prefix="d2lcompute-grading-") as root:
        while pending or running:
            while pending and len(running) < jobs:
                index, path = pending.pop(0)
                job = _Job(index, path, Path(root) / str(index))
                job.start(context, exercises, ",".join(strict), timeout)
                running[job.process.sentinel] = job
            wait = min(job.deadline for job in running.values()) - time.monotonic()
            ready = multiprocessing.connection.wait(list(running), timeout=max(wait, 0))
            for sentinel, job in list(running.items()):
                if sentinel in ready or time.monotonic() >= job.deadline:
                    grades[job.index] = job.finish(timed_out=sentinel not in ready)
                    del running[sentinel]
    return grades


def _context():
    """The forkserver context, its server started (once) with this process's d2lcompute.

    The server finds packages through ``$PYTHONPATH`` and its own working directory, not this
    process's ``sys.path``: the folder this d2lcompute came from goes first for its start.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["d2lcompute.testing._warm"])
    package_root = str(Path(d2lcompute.__file__).resolve().parents[1])
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, saved]))
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    # Wait for the server's imports: they must not count against the first file's limit.
    ready = context.Process(target=os.getpid)
    ready.start()
    ready.join()
    return context


class _Job:
    """One file's process: its scratch folder, results file and deadline."""

    def __init__(self, index, path, folder):
        self.index, self.path, self.folder = index, path, folder
        self.scratch, self.results = folder / "scratch", folder / "results.jsonl"

    def start(self, context, exercises, strict, timeout):
        self.scratch.mkdir(parents=True)
        self.timeout = timeout
        self.process = context.Process(
            target=runner.check_in_scratch,
            args=(str(self.path.resolve()), str(self.results), exercises, str(self.scratch)),
            kwargs={"strict": strict},
            daemon=True,
        )
        self.started = time.monotonic()
        self.process.start()
        self.deadline = self.started + timeout

    def finish(self, timed_out):
        if timed_out:
            try:  # the child leads its own process group: its children go too
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:  # killed before it called setsid
                self.process.kill()
        self.process.join()
        tail = self.folder.joinpath("output.txt")
        tail = tail.read_text(errors="replace")[-runner.OUTPUT_LIMIT :] if tail.exists() else ""
        rows = runner.rows_from(
            runner.read_events(self.results),
            self.path,
            timed_out,
            self.timeout,
            self.process.exitcode,
            tail,
        )
        shutil.rmtree(self.folder, ignore_errors=True)
        return FileGrade(str(self.path), rows, time.monotonic() - self.started)


# ---- the gradebook and the summary ------------------------------------------------------


def gradebook_rows(grades):
    """One dict per file and exercise, with the :data:`GRADEBOOK_COLUMNS`."""
    return [
        {
            "file": grade.file,
            "exercise": row.exercise,
            "passed": row.num_passed,
            "total": row.total,
            "verdict": row.status,
            "first_failure": first_line(row.message),
            "notes": " | ".join(row.notes),
        }
        for grade in grades
        for row in grade.rows
    ]


def write_gradebook(grades, prefix):
    """Write ``PREFIX.csv`` (one row per file and exercise) and ``PREFIX.json`` (that, every
    check, each file's seconds, and the summary). Returns the two paths."""
    from d2lcompute._files import atomic_write

    rows = gradebook_rows(grades)
    text = io.StringIO()
    writer = csv.DictWriter(text, GRADEBOOK_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    csv_path, json_path = Path(f"{prefix}.csv"), Path(f"{prefix}.json")
    with atomic_write(csv_path, "w", newline="") as f:
        f.write(text.getvalue())
    report = {
        "files": [
            {
                "file": grade.file,
                "seconds": round(grade.seconds, 2),
                "exercises": [vars(row) for row in grade.rows],
            }
            for grade in grades
        ],
        "summary": summarize(grades),
    }
    with atomic_write(json_path, "w") as f:
        json.dump(report, f, indent=2)
    return csv_path, json_path


def summarize(grades):
    """Per exercise: files that define it, how many passed, and the most common failure
    (the first failed check's title, or the row's status for a crash or time-out)."""
    by_exercise = collections.defaultdict(list)
    for grade in grades:
        for row in grade.rows:
            by_exercise[row.exercise].append(row)
    summary = []
    for exercise, rows in by_exercise.items():
        causes = collections.Counter(_failure_kind(row) for row in rows if row.status != "passed")
        common, count = causes.most_common(1)[0] if causes else ("", 0)
        summary.append(
            {
                "exercise": exercise,
                "files": len(rows),
                "passed": sum(row.status == "passed" for row in rows),
                "notes": sum(bool(row.notes) for row in rows if row.status == "passed"),
                "most_common_failure": common,
                "count": count,
            }
        )
    return summary


def _failure_kind(row):
    failed = [check["check"] for check in row.checks if not check["passed"]]
    return failed[0] if failed else f"{row.status}: {first_line(row.message, 60)}"


def first_line(message, limit=100):
    """The first line of ``message``, cut to ``limit`` characters."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
