"""The pytest plugin (entry point ``pytest11``, active whenever d2lcompute is installed).

- Fixtures: ``d2l_seed`` (seeds random, NumPy and torch; restores them afterwards),
  ``fashion_mnist_tiny`` (a small in-memory slice of the real Fashion-MNIST) and
  ``synthetic_regression`` (the §3.2 linear-regression data).
- The marker ``@pytest.mark.exercise("MySequential")`` labels a coursework test; the run
  ends with a table of passed tests per exercise.
- A :class:`~d2lcompute.testing.failures.CheckFailed` is reported by its teaching message
  and the test line, not by a traceback into the checker full of tensor reprs
  (``--tb=long`` or ``--tb=native`` still show the traceback).
- ``--d2l-grade``: every ``.py`` file under the paths given is a student's submission, one
  test each, checked in its own warm, time-limited process (``--d2l-timeout``) like
  ``python -m d2lcompute check FOLDER``; ``--d2l-strict [EXERCISE]`` counts the notes.
- Under pytest-xdist (``pytest -n 2``) each worker runs torch on one thread.

Nothing heavy is imported until a fixture is used: every pytest run in an environment
with d2lcompute loads this module.
"""

import sys
from typing import NamedTuple

import pytest


class FashionMNISTTiny(NamedTuple):
    """The first 512 training and 256 test images of Fashion-MNIST, in memory.

    Shape:
        ``X_train`` ``(512, 1, 28, 28)`` and ``X_test`` ``(256, 1, 28, 28)``, float32 in
        [0, 1]; ``y_train`` ``(512,)`` and ``y_test`` ``(256,)``, int64 class indices.
    """

    X_train: object
    y_train: object
    X_test: object
    y_test: object


class SyntheticRegression(NamedTuple):
    """§3.2's data: ``y = X @ true_w + true_b + noise``, 1,000 examples, 2 features."""

    features: object
    labels: object
    true_w: object
    true_b: float


def pytest_addoption(parser):
    group = parser.getgroup("d2lcompute")
    group.addoption(
        "--d2l-grade",
        action="store_true",
        help="treat every .py file under the given paths as a student's submission to check",
    )
    group.addoption(
        "--d2l-timeout",
        type=float,
        default=120,
        help="seconds per submission under --d2l-grade (default: 120)",
    )
    group.addoption(
        "--d2l-strict",
        action="append",
        nargs="?",
        const="all",
        metavar="EXERCISE",
        help="count the exercise checks' notes as failures (for EXERCISE only if given)",
    )


def pytest_configure(config):
    import os

    strict = config.getoption("d2l_strict", None)
    if strict:  # read by check_exercise, here and in xdist's workers
        os.environ["D2LCOMPUTE_STRICT"] = ",".join(strict)
    if hasattr(config, "workerinput"):  # an xdist worker: one torch thread each
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "D2LCOMPUTE_THREADS"):
            os.environ[name] = "1"
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
    config.addinivalue_line(
        "markers",
        "exercise(name): a coursework test for the book exercise `name` "
        "(d2lcompute lists the results per exercise at the end)",
    )
    config.pluginmanager.register(_ExerciseTable(), "d2lcompute-exercise-table")


@pytest.fixture
def d2l_seed():
    """Seed ``random``, NumPy and torch with 0 for the test; restore all three afterwards."""
    from d2lcompute._seeding import seeded

    with seeded(0, everywhere=True):
        yield 0


@pytest.fixture
def fashion_mnist_tiny():
    """:class:`FashionMNISTTiny` from the data folder (``$D2LCOMPUTE_DATA_DIR``).

    Read from the files already there; downloaded (once) only when they are missing.
    """
    import torch

    from d2lcompute.image_dataset import load_data_fashion_mnist

    train_iter, test_iter = load_data_fashion_mnist(batch_size=256)  # decoded once per process
    X_train, y_train = train_iter.dataset.batch(torch.arange(512))
    X_test, y_test = test_iter.dataset.batch(torch.arange(256))
    return FashionMNISTTiny(X_train, y_train, X_test, y_test)


@pytest.fixture
def synthetic_regression():
    """:class:`SyntheticRegression` with the book's ``true_w = [2, -3.4]``, ``true_b = 4.2``.

    The same 1,000 examples in every test; the global random state is left alone.
    """
    import torch

    from d2lcompute._seeding import seeded
    from d2lcompute.data import synthetic_data

    true_w, true_b = torch.tensor([2, -3.4]), 4.2
    with seeded(0):
        features, labels = synthetic_data(true_w, true_b, 1000)
    return SyntheticRegression(features, labels, true_w, true_b)


def pytest_collect_file(file_path, parent):
    if parent.config.getoption("d2l_grade") and file_path.suffix == ".py":
        return Submission.from_parent(parent, path=file_path)
    return None


class Submission(pytest.File):
    """A student's file under ``--d2l-grade``: one test that checks every exercise it defines."""

    def collect(self):
        yield SubmissionCheck.from_parent(self, name=self.path.name)


class SubmissionCheck(pytest.Item):
    def runtest(self):
        from d2lcompute.testing.grading import grade_files

        timeout = self.config.getoption("d2l_timeout")
        strict = self.config.getoption("d2l_strict") or ()
        [grade] = grade_files([self.path], timeout=timeout, strict=strict)
        outcomes = [
            (row.exercise, "passed" if row.status == "passed" else "failed") for row in grade.rows
        ]
        self.user_properties.append(("d2l_exercises", outcomes))
        if not grade.passed:
            raise SubmissionFailed(grade.rows)

    def repr_failure(self, excinfo):
        if not excinfo.errisinstance(SubmissionFailed):
            return super().repr_failure(excinfo)
        return "\n".join(
            f"{row.exercise}: {row.status} {row.num_passed}/{row.total}: {row.message}"
            for row in excinfo.value.rows
            if row.status != "passed"
        )

    def reportinfo(self):
        return self.path, None, f"d2lcompute check {self.path.name}"


class SubmissionFailed(Exception):
    def __init__(self, rows):
        super().__init__(f"{len(rows)} exercise(s)")
        self.rows = rows


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    marker = item.get_closest_marker("exercise")
    if marker and (report.when == "call" or report.outcome != "passed"):
        name = marker.args[0] if marker.args else item.name
        # in the report, so that xdist carries it to the controller's summary
        report.user_properties.append(("d2l_exercises", [(name, report.outcome)]))
    failures = sys.modules.get("d2lcompute.testing.failures")
    if (
        failures is None
        or not report.failed  # an xfail keeps pytest's own report
        or call.excinfo is None
        or not call.excinfo.errisinstance(failures.CheckFailed)
        or item.config.getoption("tbstyle") in ("long", "native")
    ):
        return
    entries = [e for e in call.excinfo.traceback if str(e.path) == str(item.path)]
    where = f"{item.path.name}:{entries[-1].lineno + 1}" if entries else item.nodeid
    report.longrepr = f"{where}: {call.excinfo.value}"


class _ExerciseTable:
    """Outcomes per exercise, collected from the reports (which xdist's controller gets
    too), printed at the end of the run."""

    def __init__(self):
        self.results = {}

    def pytest_runtest_logreport(self, report):
        for key, outcomes in report.user_properties:
            if key == "d2l_exercises":
                for name, outcome in outcomes:
                    self.results.setdefault(name, {})[report.nodeid] = outcome

    def pytest_terminal_summary(self, terminalreporter):
        if not self.results:
            return
        terminalreporter.section("d2lcompute exercises")
        width = max(map(len, self.results))
        for name, outcomes in self.results.items():
            passed = sum(outcome == "passed" for outcome in outcomes.values())
            terminalreporter.line(f"{name:<{width}}  {passed}/{len(outcomes)} tests passed")
