"""The English edition's own cells, unchanged, train data-parallel under torchrun (2 processes).

Their concise models are built from ``nn.LazyLinear`` (§3.5 ``LinearRegression``, §4.5
``SoftmaxRegression``, §5.6 ``DropoutMLP``), which DDP refuses until the parameters have
their shapes. Under torchrun they must give one process's parameters: the shapes come from
the first batch, and the initial values from the random stream one process draws them from.
§3.5's cell, on synthetic data, is checked with the fast jobs in test_distributed.py.
Slow: Fashion-MNIST is read in each process (about 30 s on 2 busy cores).
"""

import book_cells_job
import pytest
import torch
from conftest import real_data_or_skip
from test_distributed import ATOL, _torchrun

JOB = book_cells_job.__file__
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    real_data = real_data_or_skip()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("D2LCOMPUTE_DATA_DIR", str(real_data))
        monkeypatch.setenv("D2LCOMPUTE_FIGURE_DIR", str(tmp_path_factory.mktemp("figures")))
        yield real_data


@pytest.fixture(scope="module")
def two_processes(data_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("book_cells")
    run = _torchrun(JOB, folder)
    assert run.returncode == 0, run.stderr[-3000:]
    return [torch.load(folder / f"rank{r}.pt", weights_only=False) for r in range(2)]


@pytest.fixture(scope="module")
def one_process(data_dir):
    return book_cells_job.results()


@pytest.mark.parametrize("cell", ["softmax_regression", "dropout_mlp"])
def test_the_books_lazy_models_train_as_in_one_process(two_processes, one_process, cell):
    rank0, rank1 = (rank[cell] for rank in two_processes)
    expected = one_process[cell]
    assert set(rank0["params"]) == set(expected["params"])
    for name, value in expected["params"].items():
        torch.testing.assert_close(rank0["params"][name], value, rtol=0, atol=ATOL)
        assert torch.equal(rank1["params"][name], rank0["params"][name]), name
    for label, points in expected["board"].items():  # the board plots the whole batches
        assert rank0["board"][label] == pytest.approx(points, abs=ATOL), label


def test_with_dropout_the_ranks_still_hold_one_model(two_processes):
    rank0, rank1 = (rank["dropout_mlp_0.5"]["params"] for rank in two_processes)
    for name, value in rank0.items():
        assert torch.equal(rank1[name], value), name
