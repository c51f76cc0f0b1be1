"""Data-parallel training under torchrun (``d2lcompute/distributed.py``), on CPUs with gloo.

The torchrun tests start 2 processes on 127.0.0.1 (about 5 s of start-up on 2 cores) and
compare them with the same runs in this process. Tolerance: after 3 epochs the float32
parameters of 2 processes agree with 1 process to ``ATOL`` = 1e-6 absolute (observed:
1.2e-7). DDP adds the ranks' weighted gradients, one backward pass over the whole batch
adds the examples' in another order; the rounding differs, nothing else.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import distributed_job
import pytest
import torch
from conftest import real_data_or_skip

from d2lcompute import distributed, io
from d2lcompute.cli import main
from d2lcompute.live import figure
from d2lcompute.live.animator import Animator

ATOL = 1e-6
JOB = Path(distributed_job.__file__)
TORCHRUN_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(*args, timeout=120):
    """Run ``args`` (a script or ``-m module``) in 2 processes under torchrun."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(_free_port()),
        *map(str, args),
    ]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def no_torchrun(monkeypatch):
    for name in TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
@pytest.mark.parametrize("n", range(10))
def test_shares_cover_every_row_once_and_differ_by_at_most_one(n, world_size):
    bounds = [distributed.shard_bounds(n, r, world_size) for r in range(world_size)]
    rows = [i for start, stop in bounds for i in range(start, stop)]
    assert rows == list(range(n))  # in order: nothing dropped, nothing repeated
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_without_torchrun_everything_is_a_no_op(no_torchrun):
    assert not distributed.is_launched() and not distributed.start()
    assert (distributed.rank(), distributed.world_size(), distributed.is_main_process()) == (
        0,
        1,
        True,
    )
    assert distributed.all_reduce_sums(2, torch.tensor(3.5)) == [2.0, 3.5]
    value = torch.tensor(0.25)
    assert distributed.weighted_share(value, loader=[]) is value
    assert distributed.local_device("cuda:1") == torch.device("cuda:1")
    assert figure.output_mode() != "off"


def test_a_script_reaches_the_helpers_as_d2l_distributed(no_torchrun):
    import d2lcompute as d2l

    assert d2l.distributed.is_main_process()  # e.g. to print only once under torchrun


def test_ddp_needs_registered_parameters_and_says_so():
    from d2lcompute.classic_loop import _Ch3Model

    W = torch.zeros(4, 2, requires_grad=True)  # the book's scratch net: a function over tensors
    model = _Ch3Model(
        lambda X: X @ W, torch.nn.CrossEntropyLoss(), lambda n: None, "cpu", board=None
    )
    with pytest.raises(TypeError, match="parameters must be registered .* _Ch3Model has none"):
        distributed.data_parallel(model, loader=None)


def test_ranks_other_than_0_show_and_write_nothing(monkeypatch, tmp_path, capsys):
    for name, value in zip(TORCHRUN_ENV, ("1", "1", "2"), strict=True):
        monkeypatch.setenv(name, value)
    assert figure.output_mode() == "off" and not distributed.is_main_process()
    with Animator(xlim=[1, 2], legend=["loss"], save_path=tmp_path / "curve.png") as animator:
        animator.add(1, 0.5)
        animator.add(2, 0.25)
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr() == ("", "")


@pytest.fixture
def group_of_one(monkeypatch):
    """This process as a torchrun job of 1 process, its process group started."""
    for name in TORCHRUN_ENV:
        monkeypatch.setenv(name, "1" if name == "WORLD_SIZE" else "0")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(_free_port()))
    assert distributed.start()
    yield
    torch.distributed.destroy_process_group()


def test_one_process_under_torchrun_trains_as_without_it(group_of_one):
    loaders = []

    class Spy(distributed_job.d2l.Trainer):
        def fit_epoch(self):
            loaders.append(type(self.train_dataloader).__name__)
            step = vars(self.model).get("training_step")
            loaders.append(type(step).__name__ if step else "no wrapper")
            super().fit_epoch()

    under_torchrun = distributed_job.trainer_run(trainer_class=Spy)
    assert set(loaders) == {"BatchLoader", "no wrapper"}  # no shares, no DDP: nothing to average
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in TORCHRUN_ENV:
            monkeypatch.delenv(name)
        plain = distributed_job.trainer_run()
    for name, value in plain["params"].items():
        assert torch.equal(under_torchrun["params"][name], value), name
    assert under_torchrun["board"] == plain["board"]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The job's results in each of 2 processes under torchrun, and the figures they saved."""
    folder = tmp_path_factory.mktemp("torchrun")
    figures = folder / "figures"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("D2LCOMPUTE_FIGURE_DIR", str(figures))
        run = _torchrun(JOB, folder)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [torch.load(folder / f"rank{r}.pt", weights_only=False) for r in range(2)]
    saved = sorted(p.name for p in figures.iterdir())
    return ranks, {"files": saved, "announced": run.stderr.count("figure saved to ")}


@pytest.fixture(scope="module")
def one_process():
    return distributed_job.results()


@pytest.mark.parametrize(
    "path", ["optimizer", "sgd", "trainer", "book_fit_epoch", "lazy_linear_regression"]
)
def test_two_processes_train_the_same_model_as_one(two_processes, one_process, path):
    (rank0, rank1), _ = two_processes
    for name, expected in one_process[path]["params"].items():
        torch.testing.assert_close(rank0[path]["params"][name], expected, rtol=0, atol=ATOL)
        assert torch.equal(rank1[path]["params"][name], rank0[path]["params"][name]), name


@pytest.mark.parametrize("path", ["optimizer", "sgd"])
def test_train_ch3_reports_the_metrics_of_the_whole_data_set(two_processes, one_process, path):
    (rank0, rank1), _ = two_processes
    expected = one_process[path]["history"]
    for key in ("train_loss", "train_acc", "test_acc"):
        assert rank0[path]["history"][key] == pytest.approx(expected[key], abs=ATOL), key
        assert rank1[path]["history"][key] == rank0[path]["history"][key], key


@pytest.mark.parametrize("path", ["trainer", "lazy_linear_regression"])
def test_the_board_plots_the_whole_batch_not_rank_0s_share(two_processes, one_process, path):
    (rank0, _), _ = two_processes
    expected = one_process[path]["board"]
    assert set(rank0[path]["board"]) == set(expected) == {"train_loss", "val_loss"}
    for label, points in expected.items():
        assert rank0[path]["board"][label] == pytest.approx(points, abs=ATOL), label


def test_evaluation_is_shared_between_ranks_with_one_process_result(two_processes, one_process):
    (rank0, rank1), _ = two_processes
    expected = one_process["evaluation"]
    for rank in (rank0, rank1):
        for key in ("accuracy", "loss", "mean_loss"):
            assert rank["evaluation"][key] == pytest.approx(expected[key], abs=ATOL), key
    # three passes over 33 examples in batches of 8: each rank its rows of every batch
    assert expected["rows"] == 3 * 33
    assert (rank0["evaluation"]["rows"], rank1["evaluation"]["rows"]) == (3 * 17, 3 * 16)


def test_all_ranks_stop_a_diverging_run_at_the_same_batch_as_one_process(
    two_processes, one_process
):
    (rank0, rank1), _ = two_processes
    assert rank0["diverged"] == rank1["diverged"] == one_process["diverged"] == (1, 2)


def test_ranks_draw_the_same_order_but_their_own_dropout_masks(two_processes):
    (rank0, rank1), _ = two_processes
    # the same order: the parameter tests above; a shared random state would give equal masks
    for mask0, mask1 in zip(rank0["dropout_masks"], rank1["dropout_masks"], strict=True):
        assert not torch.equal(mask0, mask1)


def test_only_rank_0_saves_figures(two_processes):
    _, figures = two_processes
    # Trainer.fit five times and train_ch3 twice: seven figures, named after the job, saved
    # and announced once (by rank 0 only: a second rank would announce its own seven)
    assert figures["files"] == [f"distributed_job-{n}.png" for n in range(1, 8)]
    assert figures["announced"] == 7


def test_a_rank_that_raises_stops_all_ranks_with_its_message(tmp_path):
    run = _torchrun(JOB, tmp_path, "--fail-on-rank", "1", timeout=180)  # start-up: 60 s when busy
    end = time.time()
    assert run.returncode != 0
    failed_at = re.search(r"rank 1 failed on purpose at ([\d.]+)", run.stdout + run.stderr)
    assert failed_at, run.stderr[-3000:]
    # rank 0, waiting for rank 1's gradients, is stopped rather than left hanging
    assert end - float(failed_at[1]) < 10  # observed: 1.7 s
    assert not list(tmp_path.glob("rank*.pt"))


def test_two_nodes_on_one_machine_train_as_one_process(tmp_path, one_process):
    """Two launchers, one process each, meeting through torchrun's c10d rendezvous."""
    endpoint = f"127.0.0.1:{_free_port()}"
    launchers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--nnodes",
                "2",
                "--nproc-per-node",
                "1",
                "--node-rank",
                str(node),
                "--rdzv-backend",
                "c10d",
                "--rdzv-endpoint",
                endpoint,
                "--rdzv-conf",
                "join_timeout=60",
                JOB,
                tmp_path,
                "--trainer",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a process group of its own, to end with its workers
        )
        for node in (0, 1)
    ]
    try:
        outputs = [launcher.communicate(timeout=120)[0] for launcher in launchers]
    finally:
        for launcher in launchers:
            if launcher.poll() is None:
                os.killpg(launcher.pid, signal.SIGKILL)
                launcher.wait()
    assert [launcher.returncode for launcher in launchers] == [0, 0], outputs
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False)["trainer"] for r in (0, 1)]
    expected = one_process["trainer"]
    for name, value in expected["params"].items():
        torch.testing.assert_close(ranks[0]["params"][name], value, rtol=0, atol=ATOL)
        assert torch.equal(ranks[1]["params"][name], ranks[0]["params"][name]), name
    for label, points in expected["board"].items():
        assert ranks[0]["board"][label] == pytest.approx(points, abs=ATOL), label


@pytest.mark.slow
def test_the_command_under_torchrun_matches_one_process_and_resumes(tmp_path, capsys):
    """One epoch of --model mlp (no dropout, so the same model) on the real Fashion-MNIST."""
    options = ["--model", "mlp", "--data-dir", real_data_or_skip(), "--device", "cpu"]
    assert (
        main(
            [
                "fashion-mnist",
                *map(str, options),
                "--epochs",
                "1",
                "--output-dir",
                str(tmp_path / "one"),
            ]
        )
        == 0
    )
    capsys.readouterr()

    run = _torchrun(
        "-m",
        "d2lcompute",
        "fashion-mnist",
        *options,
        "--epochs",
        "1",
        "--output-dir",
        tmp_path / "two",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("fashion-mnist: model mlp") == 1  # rank 0 alone prints
    assert run.stdout.count("test accuracy") == 1
    one, two = (
        io.load(tmp_path / "one" / "checkpoint.pt"),
        io.load(tmp_path / "two" / "checkpoint.pt"),
    )
    for name, expected in one["model"].items():
        torch.testing.assert_close(two["model"][name], expected, rtol=0, atol=ATOL)
    for key in ("train_loss", "train_acc", "test_acc"):
        assert two["extra"]["history"][key] == pytest.approx(one["extra"]["history"][key], abs=ATOL)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "checkpoint.pt",
        "fashion_mnist.png",
        "metrics.csv",
    ]

    # --resume: every rank loads the checkpoint one process wrote, and the run continues
    shutil.copytree(tmp_path / "one", tmp_path / "resumed")
    run = _torchrun(
        "-m",
        "d2lcompute",
        "fashion-mnist",
        *options,
        "--epochs",
        "2",
        "--resume",
        "--output-dir",
        tmp_path / "resumed",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("(from the checkpoint)") == 1
    history = io.load(tmp_path / "resumed" / "checkpoint.pt")["extra"]["history"]
    assert history["epoch"] == [1, 2] and history["test_acc"][1] > history["test_acc"][0]
