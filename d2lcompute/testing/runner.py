"""Check a student's file in a separate process with a time limit: :func:`check_file`.

A student's file may fail to import, loop forever or print without end; none of that may
crash or hang the grader. So the file is imported in a child process (``python -m
d2lcompute.testing.runner``) whose printed output is discarded. The child
writes one JSON line per event to a results file as it goes (the plan, each exercise it
starts, each report), so when the time limit kills it, the rows of the exercises that
finished survive and the one that was running is reported as timed out.

:func:`check_file` starts a fresh interpreter per file (simple, and what one file needs);
:mod:`d2lcompute.testing.grading` runs the same child code, :func:`check_in_scratch`, in
processes forked from a warm server, for a folder of files.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

OUTPUT_LIMIT = 4000  # characters of a crashed child's last output shown in its row


@dataclass
class FileCheckRow:
    """One row of the ``check`` table.

    Attributes:
        exercise: the exercise name, or ``"(import)"`` / ``"(checker)"`` for the file itself.
        status: ``"passed"``, ``"failed"``, ``"error"``, ``"timeout"`` or ``"missing"``.
        num_passed, total: checks passed and checks run.
        message: the first failure's teaching message ("" when passed).
        checks: every check as ``{"check", "passed", "message", "notes"}``.
        notes: conventions correctness does not need, each with its reason.
    """

    exercise: str
    status: str
    num_passed: int = 0
    total: int = 0
    message: str = ""
    checks: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def check_file(path, exercises=None, *, timeout=120, strict=()):
    """Import the student's file at ``path`` in a child process and run the exercise checks.

    Args:
        path: the student's ``.py`` file.
        exercises: exercise names to run; default: every exercise whose names the file
            defines (``MySequential``, ``dropout_layer``, ``save`` and ``load``, ...).
        timeout: seconds for the whole run, import included; then the child is killed.
        strict: exercise names whose notes count as failures, or ``["all"]``.

    Returns:
        A list of :class:`FileCheckRow`, one per exercise (or one for a file that does
        not import).
    """
    from d2lcompute._checks import check_number

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path must be a Python file, got {str(path)!r}: no such file")
    timeout = check_number("timeout", timeout, min_value=0.1)
    exercises = checked_exercises(exercises)
    env = {**os.environ, "D2LCOMPUTE_STRICT": ",".join(checked_exercises(strict, "all"))}
    with tempfile.TemporaryDirectory() as folder:
        results, output = Path(folder) / "results.jsonl", Path(folder) / "output.txt"
        argv = [sys.executable, "-m", __name__, str(path.resolve()), str(results), *exercises]
        with open(output, "wb") as out:
            # A new session: on timeout the whole process group goes, grandchildren too.
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
            timed_out = _wait(child, timeout)
        events = read_events(results)
        tail = output.read_text(errors="replace")[-OUTPUT_LIMIT:]
    return rows_from(events, path, timed_out, timeout, child.returncode, tail)


def checked_exercises(names, *extra):
    """``names`` as a list, each an exercise name (or one of ``extra``), else ValueError."""
    names = list(names or [])
    if any(name not in extra for name in names):  # only then: it costs an import of torch
        from d2lcompute.testing.exercises import EXERCISES

        unknown = [name for name in names if name not in EXERCISES and name not in extra]
        if unknown:
            raise ValueError(
                f"exercises must be names from {', '.join(EXERCISES)}; got {', '.join(unknown)}"
            )
    return names


def read_events(results):
    """The JSON events the child wrote to ``results``; a line cut short by a kill is skipped."""
    if not results.exists():
        return []
    return [json.loads(line) for line in results.read_text().splitlines() if line.endswith("}")]


def _wait(child, timeout):
    """Wait for ``child``; kill its process group after ``timeout`` s. True if it timed out."""
    try:
        child.wait(timeout=timeout)
        return False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (AttributeError, ProcessLookupError):  # no process groups (Windows)
            child.kill()
        child.wait()
        return True


def rows_from(events, path, timed_out, timeout, returncode, tail):
    """The table's rows from the child's events, with a row for whatever did not finish."""
    rows = [FileCheckRow(**e["row"]) for e in events if e["event"] == "row"]
    started = {e["exercise"] for e in events if e["event"] == "start"}
    finished = {row.exercise for row in rows}
    planned = next((e["exercises"] for e in events if e["event"] == "plan"), None)
    ended = f"the check process ended with exit status {returncode}"
    if planned is None and not rows:  # the import itself did not finish
        if timed_out:
            message = (
                f"importing {path.name} did not finish within {timeout:g} s: code at "
                f"the top level runs on import (an endless loop, or training?); move "
                f"it under `if __name__ == '__main__':`"
            )
            return [FileCheckRow("(import)", "timeout", message=message)]
        last_output = f"; its last output:\n{tail.strip()}" if tail.strip() else ""
        return [
            FileCheckRow("(checker)", "error", message=f"{ended} before reporting{last_output}")
        ]
    for name in planned or []:
        if name in finished:
            continue
        if name not in started:
            why = "the time limit was reached" if timed_out else ended
            rows.append(FileCheckRow(name, "error", message=f"not run: {why}"))
        elif timed_out:
            rows.append(
                FileCheckRow(
                    name,
                    "timeout",
                    message=(
                        f"did not finish within {timeout:g} s (an endless loop in your code?)"
                    ),
                )
            )
        else:
            rows.append(
                FileCheckRow(
                    name,
                    "error",
                    message=(f"{ended} while checking it (os._exit() or a crash in your code?)"),
                )
            )
    return rows


# ---- the child process ------------------------------------------------------------------


def check_in_scratch(path, results, names, scratch, *, strict=""):
    """The child of a warm grading server: isolate, then :func:`_child`.

    Its own process group (killed as one at the time limit), its writes confined to
    ``scratch`` (the working directory, ``$HOME`` and ``$TMPDIR``), and one torch thread.
    """
    import torch
    from hypothesis.configuration import set_hypothesis_home_dir

    os.setsid()
    os.chdir(scratch)
    set_hypothesis_home_dir(Path(scratch) / ".hypothesis")  # not the server's cwd
    os.environ.update(HOME=scratch, TMPDIR=scratch, TEMP=scratch, TMP=scratch)
    os.environ["D2LCOMPUTE_STRICT"] = strict
    tempfile.tempdir = scratch
    torch.set_num_threads(1)
    output = os.open(Path(scratch).parent / "output.txt", os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    _child(Path(path), Path(results), names)


def _child(path, results, names):
    # The student's prints go nowhere: a print in a training loop must not fill the disk.
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - open until the end
    with open(results, "a") as out:

        def emit(event, **fields):
            out.write(json.dumps({"event": event, **fields}) + "\n")
            out.flush()

        try:
            module = _import(path)
        except BaseException as e:  # noqa: BLE001 - SystemExit in the file is a row, too
            emit("row", row=vars(FileCheckRow("(import)", "error", message=_where(e, path))))
            return
        # Imported after the student's file, so that a file that fails does so quickly.
        from d2lcompute.testing.exercises import EXERCISES, check_exercise

        found = [
            name
            for name, ex in EXERCISES.items()
            if all(hasattr(module, need) for need in ex.needs)
        ]
        names = names or found
        if not names:
            emit(
                "row",
                row=vars(
                    FileCheckRow(
                        "(import)",
                        "missing",
                        message=(
                            f"{path.name} defines none of the exercises: {', '.join(EXERCISES)}"
                        ),
                    )
                ),
            )
            return
        emit("plan", exercises=names)
        for name in names:
            needs = EXERCISES[name].needs
            if name not in found:
                missing = [need for need in needs if not hasattr(module, need)]
                emit(
                    "row",
                    row=vars(
                        FileCheckRow(
                            name,
                            "missing",
                            message=(f"{path.name} defines no {' or '.join(missing)}"),
                        )
                    ),
                )
                continue
            emit("start", exercise=name)
            objs = tuple(getattr(module, need) for need in needs)
            try:
                report = check_exercise(name, objs if len(objs) > 1 else objs[0])
            except (TypeError, ValueError) as e:
                emit("row", row=vars(FileCheckRow(name, "error", message=str(e))))
                continue
            status = "passed" if report.passed else "failed"
            emit(
                "row",
                row=vars(
                    FileCheckRow(
                        name,
                        status,
                        report.num_passed,
                        len(report.results),
                        report.failures[0].message if report.failures else "",
                        report.to_dict()["checks"],
                        report.notes,
                    )
                ),
            )


def _import(path):
    """Import the file at ``path`` as a module named after it, its folder on sys.path."""
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _where(error, path):
    """``error`` as one line, with the line of the student's file that raised it."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
    where = f"{path.name}:{frames[-1].lineno}" if frames else path.name
    return f"import failed at {where}: {type(error).__name__}: {error}"


if __name__ == "__main__":
    _child(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
