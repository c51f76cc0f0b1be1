"""Grading a class: the corpus in tests/students/corpus graded as a folder, each file in its
own warm, time-limited process, with a gradebook and a summary per exercise.

Each corpus file says what it is in its docstring's first line: ``ok EXERCISE: ...``
(correct; a ``note:`` line is a regex for the note it must get), ``bug EXERCISE: ...`` or
``fault ROW STATUS: ...`` (``expect:`` is a regex for the row's first failure message).
The fast test grades a subset (the four bug kinds, the conventions, the faults); the slow one
grades the rest of the corpus.
"""

import csv
import json
import os
import re
from pathlib import Path

import pytest
from conftest import ROOT

from d2lcompute.cli import main
from d2lcompute.testing.grading import FileGrade, find_submissions, grade_files, summarize
from d2lcompute.testing.runner import FileCheckRow

CORPUS = ROOT / "tests" / "students" / "corpus"
FAST = [
    "bug_dropout_row_mask",
    "bug_dropout_reseed",
    "bug_io_ignores_path",
    "bug_init_42_scalar",
    "ok_sequential_modulelist",
    "ok_linear_transposed",
    "ok_linear_wb",
    "ok_kfold_book",
    "ok_kfold_leftover",
    "ok_init_normal_book",
    "fault_crash_import",
    "fault_scribbles",  # writes at import and patches torch.relu; ok_linear_* use it after
    "ok_linear_book",
]


def expectation(path):
    """``(kind, exercise, status, {"expect"|"note": regex})`` from the file's docstring."""
    first, *rest = path.read_text().split('"""')[1].strip().splitlines()
    kind, exercise, *status = first.split(":")[0].split()
    regexes = dict(line.split(": ", 1) for line in rest if line.startswith(("expect:", "note:")))
    return kind, exercise, (status or [None])[0], regexes


def assert_as_expected(grade):
    kind, exercise, status, regexes = expectation(Path(grade.file))
    rows = {row.exercise: row for row in grade.rows}
    assert exercise in rows, (grade.file, rows)
    row = rows[exercise]
    if kind == "ok":
        assert row.status == "passed", (grade.file, row)
        if "note" in regexes:
            assert any(re.search(regexes["note"], text) for text in row.notes), row.notes
        else:
            assert not row.notes, (grade.file, row.notes)
    else:
        assert row.status == (status or "failed"), (grade.file, row)
        assert re.search(regexes["expect"], row.message), (grade.file, row.message)


def test_every_corpus_file_states_what_it_is():
    files = find_submissions([CORPUS])
    kinds = [expectation(path) for path in files]
    assert {kind for kind, *_ in kinds} == {"ok", "bug", "fault"}
    assert all(kind == "ok" or "expect" in regexes for kind, _, _, regexes in kinds)
    exercises = {exercise for kind, exercise, *_ in kinds if kind == "ok"}
    assert len(exercises) == 14  # a correct variant of every exercise


def test_a_class_folder_graded_isolated_with_gradebook_and_summary(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in FAST:
        (folder / f"{name}.py").write_text((CORPUS / f"{name}.py").read_text())
    monkeypatch.chdir(tmp_path)
    # a generous limit: no file here hangs, and a loaded machine must not time one out
    args = ["check", str(folder), "--jobs", "2", "--timeout", "300", "--gradebook", "book"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"checking {len(FAST)} files, 2 at a time")
    # the gradebook: one row per file and exercise; every file graded as its docstring says
    with open("book.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["file"] for row in rows] == [str(p) for p in sorted(folder.glob("*.py"))]
    report = json.loads(Path("book.json").read_text())
    grades = [
        FileGrade(item["file"], [FileCheckRow(**row) for row in item["exercises"]])
        for item in report["files"]
    ]
    for grade in grades:
        assert_as_expected(grade)
    assert report["summary"] == summarize(grades)
    assert all(item["seconds"] > 0 for item in report["files"])
    dropout = next(item for item in report["summary"] if item["exercise"] == "dropout_layer")
    assert dropout["passed"] == 0 and dropout["files"] == 2
    assert dropout["most_common_failure"] == "masks independent across rows and calls"
    assert "2 x masks independent across rows and calls" in out
    by_file = {Path(row["file"]).stem: row for row in rows}
    assert by_file["bug_dropout_row_mask"]["first_failure"] == (
        "every row of the batch gets the same mask"
    )
    assert "fold_size = n // k" in by_file["ok_kfold_book"]["notes"]
    # writes stay in the file's scratch folder; its patched torch does not reach the others
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.csv", "book.json", "submissions"]
    assert not Path(os.path.expanduser("~"), "d2l-corpus-home-file").exists()
    assert by_file["ok_linear_book"]["verdict"] == "passed"


def test_a_hanging_file_is_killed_at_its_limit_and_marks_its_own_row_only():
    files = [CORPUS / "fault_hang_check.py", CORPUS / "fault_crash_import.py"]
    hang, crash = grade_files(files, jobs=2, timeout=10)
    for grade in (hang, crash):
        assert_as_expected(grade)
    assert hang.rows[0].message == "did not finish within 10 s (an endless loop in your code?)"
    assert hang.seconds >= 10  # killed at its limit, not before


def test_strict_per_exercise_makes_only_its_notes_fail():
    files = [CORPUS / "ok_kfold_book.py", CORPUS / "ok_linear_wb.py"]
    kfold, linear = grade_files(files, jobs=2, strict=["get_k_fold_data"])
    [row] = kfold.rows
    assert row.status == "failed" and row.message.startswith("(strict) the book's fold_size")
    assert linear.passed and linear.rows[0].notes


def test_grade_files_checks_its_arguments():
    assert grade_files([]) == []
    with pytest.raises(ValueError, match="jobs must be"):
        grade_files([CORPUS / "ok_l2_book.py"], jobs=0)
    with pytest.raises(ValueError, match="exercises must be names from .*; got l2"):
        grade_files([CORPUS / "ok_l2_book.py"], ["l2"])
    with pytest.raises(FileNotFoundError, match="paths must be Python files or folders"):
        find_submissions([CORPUS / "no_such.py"])


@pytest.mark.slow
def test_the_rest_of_the_corpus():
    rest = [path for path in find_submissions([CORPUS]) if path.stem not in FAST]
    grades = grade_files(rest, jobs=2, timeout=120)
    for grade in grades:
        assert_as_expected(grade)
