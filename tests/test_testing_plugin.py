"""The pytest plugin, run inside a separate pytest session with ``pytester``."""

import os
import re

import pytest

# pytester's in-process runs forget the modules first imported inside them, and the torch
# ops that torchvision pulls in (torch.distributed) cannot be registered a second time:
# import them out here, once.
import torchvision.datasets
import torchvision.transforms.v2  # noqa: F401
from conftest import ROOT, real_data_or_skip

pytest_plugins = ["pytester"]

BROKEN_LAYER = """
    import pytest
    import torch
    from torch import nn

    import d2lcompute.testing as dt


    class DataLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(300, 200))

        def forward(self, X):
            return X @ self.weight.data


    @pytest.mark.exercise("MyLinear")
    def test_gradients():
        dt.assert_gradients_flow(DataLinear(), torch.rand(4, 300))


    @pytest.mark.exercise("MyLinear")
    def test_shape():
        dt.assert_output_shape(DataLinear(), (4, 300), (4, 200))
"""


def test_plugin_is_registered_with_its_marker(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.exercise(name): a coursework test*"])


def test_failure_shows_the_teaching_message_not_the_checker(pytester):
    pytester.makepyfile(test_inner_student=BROKEN_LAYER)
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_inner_student.py:19: 1 of 1 parameters get no useful gradient: weight",
            "  likely cause: computed with `.data`?*",
            "*d2lcompute exercises*",
            "MyLinear  1/2 tests passed",
        ]
    )
    # no frames from inside the checker, no tensor walls
    assert "def assert_gradients_flow" not in result.stdout.str()
    assert "tensor([" not in result.stdout.str()


def test_long_tracebacks_stay_available(pytester):
    pytester.makepyfile(test_inner_student=BROKEN_LAYER)
    result = pytester.runpytest("--tb=long", "-k", "gradients")
    result.assert_outcomes(failed=1)
    assert "def assert_gradients_flow" in result.stdout.str()


def test_exercise_report_fails_a_test_with_the_whole_report(pytester):
    pytester.makepyfile(
        test_inner_student="""
        import torch
        import d2lcompute.testing as dt

        def l2_penalty(w):
            return torch.sum(w ** 2)

        def test_l2():
            dt.check_exercise("l2_penalty", l2_penalty).assert_passed()
    """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_inner_student.py:8: l2_penalty: 0/2 checks passed (book §4.5.2)",
            "  FAIL equals sum(w ** 2) / 2",
            "*likely cause: the / 2 is missing*",
        ]
    )
    assert "d2lcompute exercises" not in result.stdout.str()  # no marked tests, no table


def test_seed_fixture_seeds_everything_and_restores_it(pytester):
    pytester.makepyfile(
        test_inner_seed="""
        import random
        import numpy as np
        import pytest
        import torch

        def draws():
            return random.random(), float(np.random.rand()), torch.rand(1).item()

        @pytest.fixture
        def outer():
            random.seed(123); np.random.seed(123); torch.manual_seed(123)
            states = random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state()
            yield
            assert random.getstate() == states[0]
            assert (np.random.get_state()[1] == states[1]).all()
            assert torch.equal(torch.get_rng_state(), states[2])

        def test_seeded(outer, d2l_seed):
            assert d2l_seed == 0
            seen = draws()
            random.seed(0); np.random.seed(0); torch.manual_seed(0)
            assert seen == draws()
    """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_synthetic_regression_is_the_books_data_and_repeatable(pytester):
    pytester.makepyfile(
        test_inner_data="""
        import torch

        seen = []

        def test_data(synthetic_regression):
            X, y, w, b = synthetic_regression
            assert X.shape == (1000, 2) and y.shape == (1000, 1)
            assert w.tolist() == [2.0, -3.4000000953674316] and b == 4.2
            assert (y - (X @ w.reshape(-1, 1) + b)).abs().max() < 0.1  # noise std 0.01
            seen.append(X)

        def test_again(synthetic_regression):
            assert torch.equal(synthetic_regression.features, seen[0])
    """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_fashion_mnist_tiny_reads_the_data_folder(pytester, monkeypatch):
    data = real_data_or_skip()
    monkeypatch.setenv("D2LCOMPUTE_DATA_DIR", str(data))
    before = sorted(os.listdir(data / "FashionMNIST" / "raw"))
    pytester.makepyfile(
        test_inner_data="""
        import torch

        def test_tiny(fashion_mnist_tiny):
            X, y, X_test, y_test = fashion_mnist_tiny
            assert X.shape == (512, 1, 28, 28) and X_test.shape == (256, 1, 28, 28)
            assert X.dtype == torch.float32 and 0 <= X.min() and X.max() <= 1
            assert y.dtype == torch.int64 and set(y.tolist()) == set(range(10))
            assert y[:5].tolist() == [9, 0, 0, 3, 0]  # the first training labels
    """
    )
    pytester.runpytest().assert_outcomes(passed=1)
    assert sorted(os.listdir(data / "FashionMNIST" / "raw")) == before


@pytest.fixture
def subprocess_imports_this_package(monkeypatch):
    """A pytest subprocess runs in a temporary folder: point it at this checkout's package."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


@pytest.mark.usefixtures("subprocess_imports_this_package")
def test_under_xdist_each_worker_has_one_thread_and_the_table_adds_up(pytester):
    pytester.makepyfile(
        test_inner_threads="""
        import os

        import pytest
        import torch

        import d2lcompute.testing as dt


        @pytest.mark.exercise("l2_penalty")
        @pytest.mark.parametrize("half", [True, False])
        def test_l2(half):
            assert os.environ["PYTEST_XDIST_WORKER"].startswith("gw")
            assert torch.get_num_threads() == 1 and os.environ["D2LCOMPUTE_THREADS"] == "1"
            dt.check_exercise("l2_penalty", lambda w: (w ** 2).sum() / (2 if half else 1))\\
                .assert_passed()
    """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*d2lcompute exercises*", "l2_penalty  1/2 tests passed"])


@pytest.mark.slow  # two workers import torch and wait out a hanging file's time limit
@pytest.mark.usefixtures("subprocess_imports_this_package")
def test_grade_a_folder_of_submissions_under_xdist(pytester):
    corpus = ROOT / "tests" / "students" / "corpus"
    for name in ("ok_l2_book", "bug_dropout_reseed", "ok_kfold_book", "fault_hang_import"):
        pytester.makepyfile(**{name: (corpus / f"{name}.py").read_text()})
    args = ["--d2l-grade", "--d2l-timeout", "30", "-n", "2", "-p", "xdist"]
    result = pytester.runpytest_subprocess(*args, "--d2l-strict", "get_k_fold_data")
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    assert "dropout_layer: failed 4/5: two calls drop exactly the same elements" in out
    assert "get_k_fold_data: failed 1/3: (strict) the book's fold_size = n // k" in out
    assert "(import): timeout 0/0: importing fault_hang_import.py did not finish within 30 s" in out
    result.stdout.fnmatch_lines(["*d2lcompute exercises*"])
    assert re.search(r"l2_penalty +1/1 tests passed", out)
