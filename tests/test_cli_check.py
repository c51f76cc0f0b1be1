"""python -m d2lcompute check: the sample student files in tests/students/ (correct, wrong,
crashing, hanging, looping, exiting) each give a clear row, never a traceback or a hang.

Each check starts a child process that imports torch, so the tests share runs where they
can: the table and the JSON output of wrong.py come from one run.
"""

import json
import re
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from d2lcompute.cli import main
from d2lcompute.testing import check_file

STUDENTS = ROOT / "tests" / "students"


@pytest.fixture(scope="module")
def wrong_rows():
    names = ["MySequential", "MyLinear", "dropout_layer", "get_k_fold_data", "l2_penalty"]
    return check_file(STUDENTS / "wrong.py", names)


def test_correct_file_passes_and_its_long_log_is_discarded(capsys):
    assert main(["check", str(STUDENTS / "correct.py")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "exercise       passed  first failure",
        "-------------  ------  -------------",
        "MySequential   4/4",
        "MyLinear       4/4",
        "dropout_layer  5/5",
    ]


def test_wrong_file_table_shows_the_first_failure_with_expected_and_cause(
    wrong_rows, monkeypatch, capsys
):
    # the rows of the shared run stand in for a second run of the same file
    monkeypatch.setattr("d2lcompute.testing.runner.check_file", lambda *a, **k: wrong_rows)
    assert main(["check", str(STUDENTS / "wrong.py")]) == 1
    lines = capsys.readouterr().out.splitlines()[2:]
    rows = [line for line in lines if not line.startswith(" ")]
    assert rows[0].startswith("MySequential     2/4      MySequential holds 3 thing(s) nn.")
    assert rows[1].startswith("MyLinear         3/4      2 of 2 parameters get no useful")
    assert rows[2].startswith("dropout_layer    2/5      dropout_layer(X, 0.1) gives 1 at")
    assert rows[3] == "get_k_fold_data  3/3"  # the book's own code: a note, not a failure
    assert rows[4] == "l2_penalty       missing  wrong.py defines no l2_penalty"
    # under each failure, compactly: what was expected and the likely cause
    dropout = lines[lines.index(rows[2]) + 1 : lines.index(rows[3])]
    assert [line.strip() for line in dropout] == [
        "expected: 0 or X / (1 - p) = 1.11111",
        "likely cause: each element is either dropped (0) or kept and scaled by 1 / (1 - p)",
    ]
    assert all(line.startswith(" " * 27) and len(line) <= 127 for line in dropout)
    kfold = lines[lines.index(rows[3]) + 1 : lines.index(rows[4])]
    assert len(kfold) == 1 and kfold[0].strip().startswith("note: the book's fold_size = n // k")


def test_wrong_file_json_for_grading_scripts(wrong_rows, monkeypatch, capsys):
    monkeypatch.setattr("d2lcompute.testing.runner.check_file", lambda *a, **k: wrong_rows)
    assert main(["check", str(STUDENTS / "wrong.py"), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    mylinear = report["exercises"][1]
    assert (
        mylinear["exercise"],
        mylinear["status"],
        mylinear["num_passed"],
        mylinear["total"],
    ) == ("MyLinear", "failed", 3, 4)
    assert "computed with `.data`?" in mylinear["checks"][2]["message"]
    assert mylinear["message"] == mylinear["checks"][2]["message"]


def test_crashing_file_gets_an_import_row_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "d2lcompute", "check", str(STUDENTS / "crashing.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[2] == (
        "(import)  error   import failed at crashing.py:10: RuntimeError: my training loop "
        "ran at import time and crashed"
    )


def test_hanging_import_is_stopped_at_the_time_limit():
    start = time.monotonic()
    [row] = check_file(STUDENTS / "hanging.py", timeout=2)
    assert time.monotonic() - start < 20
    assert (row.exercise, row.status) == ("(import)", "timeout")
    assert row.message.startswith(
        "importing hanging.py did not finish within 2 s: code at the top level runs on import"
    )


def test_endless_loop_in_one_exercise_keeps_the_finished_rows():
    rows = check_file(STUDENTS / "looping.py", timeout=10)
    assert [(row.exercise, row.status) for row in rows] == [
        ("MySequential", "passed"),
        ("Parallel", "timeout"),
    ]
    assert rows[1].message == "did not finish within 10 s (an endless loop in your code?)"


def test_a_process_that_dies_mid_check_gets_an_error_row():
    [row] = check_file(STUDENTS / "exiting.py")
    assert (row.exercise, row.status) == ("l2_penalty", "error")
    assert row.message == (
        "the check process ended with exit status 3 while checking it "
        "(os._exit() or a crash in your code?)"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["no_such_file.py"], "path must be a Python file, got 'no_such_file.py': no such file"),
        (
            [str(STUDENTS / "correct.py"), "--exercise", "Sequential"],
            "exercises must be names from MySequential, .*; got Sequential",
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(args, message, capsys):
    assert main(["check", *args]) == 2
    err = capsys.readouterr().err
    assert re.match(f"d2lcompute check: error: {message}", err), err
