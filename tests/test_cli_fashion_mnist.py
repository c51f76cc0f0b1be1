import re
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import real_data_or_skip

from d2lcompute import checkpoints, dropout, fashion_mnist_improved, io
from d2lcompute import multilayer_perceptrons as mlp
from d2lcompute.cli import build_parser, main
from d2lcompute.commands import fashion_mnist

# a table row: epoch, train loss, train acc, test acc, seconds [, a note]
ROW = re.compile(r"^\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:  \(.*\))?$", re.M)


def _run(data_dir, output_dir, *extra):
    return main(
        [
            "fashion-mnist",
            "--data-dir",
            str(data_dir),
            "--output-dir",
            str(output_dir),
            "--device",
            "cpu",
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory):
    """A folder holding the run of the default model after 1 of its epochs (trained once)."""
    data = real_data_or_skip()
    folder = tmp_path_factory.mktemp("one-epoch")
    assert _run(data, folder, "--epochs", "1") == 0
    return folder


def _copy(folder, tmp_path):
    return shutil.copytree(folder, tmp_path / "run")


def test_resume_reaches_the_same_result_as_an_uninterrupted_run(
    one_epoch_run, real_data_dir, tmp_path, capsys
):
    straight = tmp_path / "straight"
    assert _run(real_data_dir, straight, "--epochs", "2") == 0
    straight_out = capsys.readouterr().out

    resumed = _copy(one_epoch_run, tmp_path)
    assert _run(real_data_dir, resumed, "--epochs", "2", "--resume") == 0
    resumed_out = capsys.readouterr().out
    assert "(from the checkpoint)" in resumed_out

    a, b = io.load(straight / "checkpoint.pt"), io.load(resumed / "checkpoint.pt")
    assert a["epoch"] == b["epoch"] == 2
    for key in ("train_loss", "train_acc", "test_acc"):
        assert a["extra"]["history"][key] == b["extra"]["history"][key]  # exactly, not approx
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    # the printed table agrees with the checkpoint (seconds aside)
    rows = [tuple(map(float, r[:4])) for r in ROW.findall(straight_out)]
    history = a["extra"]["history"]
    assert rows == [
        (e, round(loss, 4), round(tr, 4), round(te, 4))
        for e, loss, tr, te in zip(
            history["epoch"], history["train_loss"], history["train_acc"], history["test_acc"]
        )
    ]
    # the resumed run shows epoch 1 from its checkpoint, then trains epoch 2
    assert [r[:4] for r in ROW.findall(resumed_out)] == [r[:4] for r in ROW.findall(straight_out)]


def test_a_run_writes_table_checkpoint_and_figure_only(one_epoch_run, capsys):
    assert sorted(p.name for p in one_epoch_run.iterdir()) == [
        "checkpoint.pt",
        "fashion_mnist.png",
        "metrics.csv",
    ]
    lines = (one_epoch_run / "metrics.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,train_acc,test_acc,seconds"  # as --help promises
    assert len(lines) == 2 and lines[1].startswith("1,")
    assert (one_epoch_run / "fashion_mnist.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = io.load(one_epoch_run / "checkpoint.pt")
    # the default is the book's 4.6 setting
    assert state["extra"]["options"] == {
        "model": "dropout",
        "lr": 0.5,
        "batch_size": 256,
        "dropout": [0.2, 0.5],
        "seed": 0,
    }
    assert 0.6 < state["extra"]["history"]["test_acc"][0] < 0.9


def test_resume_with_nothing_left_to_train(one_epoch_run, real_data_dir, tmp_path, capsys):
    folder = _copy(one_epoch_run, tmp_path)
    before = (folder / "checkpoint.pt").read_bytes()
    assert _run(real_data_dir, folder, "--epochs", "1", "--resume") == 0
    assert "nothing to train: the checkpoint already holds 1 epoch(s)" in capsys.readouterr().out
    assert (folder / "checkpoint.pt").read_bytes() == before


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--lr", "0.3"], "--lr 0.5 (now 0.3)"),
        (["--seed", "1"], "--seed 0 (now 1)"),
        (["--batch-size", "128"], "--batch-size 256 (now 128)"),
        (["--model", "dropout-scratch"], "--model dropout (now dropout-scratch)"),
        (["--dropout", "0.3"], r"--dropout [0.2, 0.5] (now [0.3, 0.3])"),
    ],
)
def test_resume_refuses_a_checkpoint_made_with_other_options(
    one_epoch_run, real_data_dir, tmp_path, capsys, extra, message
):
    folder = _copy(one_epoch_run, tmp_path)
    before = (folder / "checkpoint.pt").read_bytes()
    assert _run(real_data_dir, folder, "--epochs", "2", "--resume", *extra) == 2
    err = capsys.readouterr().err
    assert "made with other options" in err and message in err
    assert "Traceback" not in err
    assert (folder / "checkpoint.pt").read_bytes() == before


def test_resume_without_checkpoint(real_data_dir, tmp_path, capsys):
    assert _run(real_data_dir, tmp_path / "empty", "--resume") == 2
    assert "--resume: no checkpoint at" in capsys.readouterr().err


def test_resume_refuses_a_foreign_checkpoint(real_data_dir, tmp_path, capsys):
    checkpoints.save_checkpoint(tmp_path / "checkpoint.pt", torch.nn.Linear(2, 2), epoch=1)
    assert _run(real_data_dir, tmp_path, "--resume") == 2
    assert "was not written by fashion-mnist" in capsys.readouterr().err


def test_resume_refuses_a_corrupted_checkpoint(real_data_dir, tmp_path, capsys):
    path = tmp_path / "checkpoint.pt"
    checkpoints.save_checkpoint(path, torch.nn.Linear(20, 20), epoch=1)
    path.write_bytes(path.read_bytes()[:1000])  # as if the disk filled up mid-write
    assert _run(real_data_dir, tmp_path, "--resume") == 2
    err = capsys.readouterr().err
    assert err.startswith("d2lcompute fashion-mnist: error: --resume: cannot read")
    assert "Traceback" not in err


def _in_the_second_epoch(monkeypatch, then):
    """Make every training step of the second epoch return ``then(loss)`` for its loss."""
    from d2lcompute import classic_loop

    real_step = classic_loop._Ch3Model.training_step

    def training_step(self, batch):
        loss = real_step(self, batch)
        return then(loss) if self.trainer.epoch == 1 else loss

    monkeypatch.setattr(classic_loop._Ch3Model, "training_step", training_step)


def _interrupt(loss):
    raise KeyboardInterrupt


def test_interrupted_run_keeps_the_last_epoch_and_says_how_to_resume(tmp_path, capsys, monkeypatch):
    # tiny stand-in data and a Ctrl-C in the second epoch: no real data needed
    _stand_in_data(monkeypatch)
    _in_the_second_epoch(monkeypatch, _interrupt)
    assert _run(tmp_path, tmp_path / "out", "--epochs", "3") == 130
    err = capsys.readouterr().err
    assert "run the same command with --resume to continue" in err
    assert io.load(tmp_path / "out" / "checkpoint.pt")["epoch"] == 1


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--model", "resnet"], "invalid choice: 'resnet'"),
        (["--epochs", "-1"], "expected a positive integer, got '-1'"),
        (["--epochs", "0"], "expected a positive integer, got '0'"),
        (["--lr", "-0.1"], "expected a positive number, got '-0.1'"),
        (["--dropout", "1.5"], "expected a probability in [0, 1), got '1.5'"),
    ],
)
def test_bad_option_values_exit_with_status_2(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["fashion-mnist", "--output-dir", str(tmp_path), *extra])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--data-dir", "no/such/folder"], "--data-dir no/such/folder: no such folder"),
        (["--device", "cuda:3"], "--device cuda:3: no such device on this machine"),
        (["--device", "gpu"], "--device must be cpu, cuda, cuda:N or mps, got 'gpu'"),
        (
            ["--model", "mlp", "--dropout", "0.3"],
            "--dropout applies to the dropout and improved models only",
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["fashion-mnist", "--output-dir", str(tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("d2lcompute fashion-mnist: error: ") and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written for a run that never started


def test_bad_device_in_a_subprocess(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "d2lcompute",
            "fashion-mnist",
            "--device",
            "tpu",
            "--output-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "d2lcompute fashion-mnist: error: --device" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    "model, lr, dropout, kind",
    [
        ("mlp-scratch", 0.1, None, mlp.MLPScratch),
        ("mlp", 0.1, None, torch.nn.Sequential),
        ("dropout-scratch", 0.5, [0.2, 0.5], dropout.DropoutMLPScratch),
        ("dropout", 0.5, [0.2, 0.5], torch.nn.Sequential),
    ],
)
def test_each_model_gets_the_books_settings(model, lr, dropout, kind):
    args = build_parser().parse_args(["fashion-mnist", "--model", model])
    options = fashion_mnist._options(args)
    assert options == {"model": model, "lr": lr, "batch_size": 256, "dropout": dropout, "seed": 0}
    assert args.epochs == 10
    net = fashion_mnist._build(options)
    assert isinstance(net, kind)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    hidden = 256 if model.startswith("mlp") else 2
    n_params = sum(p.numel() for p in net.parameters())
    expected = (
        784 * 256 + 256 + 256 * 10 + 10
        if hidden == 256
        else 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    )
    assert n_params == expected


def test_dropout_option_sets_both_layers():
    args = build_parser().parse_args(["fashion-mnist", "--model", "dropout", "--dropout", "0.3"])
    net = fashion_mnist._build(fashion_mnist._options(args))
    assert [m.p for m in net if isinstance(m, torch.nn.Dropout)] == [0.3, 0.3]
    args = build_parser().parse_args(
        ["fashion-mnist", "--model", "dropout-scratch", "--dropout", "0.3"]
    )
    net = fashion_mnist._build(fashion_mnist._options(args))
    assert (net.dropout1, net.dropout2) == (0.3, 0.3)


def test_help_lists_models_and_resume(capsys):
    with pytest.raises(SystemExit):
        main(["fashion-mnist", "--help"])
    out = capsys.readouterr().out
    for word in [*fashion_mnist.MODELS, "--resume", "--output-dir", "runs/fashion-mnist"]:
        assert word in out


def _stand_in_data(monkeypatch):
    from d2lcompute import image_dataset

    g = torch.Generator().manual_seed(0)
    batches = [
        (torch.rand(16, 1, 28, 28, generator=g), torch.randint(0, 10, (16,), generator=g))
        for _ in range(2)
    ]
    monkeypatch.setattr(
        image_dataset,
        "load_data_fashion_mnist",
        lambda batch_size, resize=None, *, data_dir=None: (batches, batches),
    )


def test_a_diverged_epoch_is_never_saved_and_the_last_good_one_is_kept(
    tmp_path, capsys, monkeypatch
):
    """Before: --lr 1e6 saved a checkpoint full of NaN and exited 0."""
    _stand_in_data(monkeypatch)
    _in_the_second_epoch(monkeypatch, lambda loss: loss * float("nan"))
    assert _run(tmp_path, tmp_path / "out", "--epochs", "3") == 2
    err = capsys.readouterr().err
    assert re.search(
        r"^d2lcompute fashion-mnist: error: fashion-mnist training diverged at "
        r"epoch 2, batch 1: the loss is not finite; the last finite loss was [\d.]+\. "
        r"Try a smaller --lr \(it was 0.5\); .*checkpoint.pt still holds "
        r"epoch 1\.\n$",
        err,
    )
    assert "Traceback" not in err
    saved = io.load(tmp_path / "out" / "checkpoint.pt")
    assert saved["epoch"] == 1
    assert all(torch.isfinite(t).all() for t in saved["model"].values())


def test_output_dir_that_is_a_file_is_refused_before_training(tmp_path, capsys, monkeypatch):
    _stand_in_data(monkeypatch)
    (tmp_path / "out").write_text("")
    assert _run(tmp_path, tmp_path / "out") == 2
    assert f"--output-dir {tmp_path / 'out'} is a file; give a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda path: path.write_bytes(
                path.read_bytes().replace(b"\x00\x00\x80\x3f", b"\x00\x00\x80\x7f", 1)
            ),
            "fails its CRC-32 checksum",
        ),
        (
            lambda path: torch.save({**io.load(path), "format": "d2lcompute.checkpoint/9"}, path),
            "written by another version of d2lcompute",
        ),
    ],
)
def test_resume_from_a_damaged_or_newer_checkpoint_is_one_line(
    tmp_path, capsys, monkeypatch, damage, message
):
    _stand_in_data(monkeypatch)
    assert _run(tmp_path, tmp_path / "out", "--epochs", "1", "--model", "mlp") == 0
    ckpt = tmp_path / "out" / "checkpoint.pt"
    with torch.no_grad():  # make sure the bytes the first case flips are there
        state = io.load(ckpt)
        state["model"]["1.bias"][0] = 1.0
        torch.save(state, ckpt)
    damage(ckpt)
    capsys.readouterr()
    assert _run(tmp_path, tmp_path / "out", "--epochs", "2", "--model", "mlp", "--resume") == 2
    err = capsys.readouterr().err
    assert err.startswith("d2lcompute fashion-mnist: error: --resume: ") and message in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("extra", [{"history": 3}, "not a dict"])
def test_resume_refuses_a_checkpoint_with_garbled_extras(tmp_path, capsys, monkeypatch, extra):
    """Before: AttributeError or KeyError tracebacks."""
    _stand_in_data(monkeypatch)
    assert _run(tmp_path, tmp_path / "out", "--epochs", "1", "--model", "mlp") == 0
    ckpt = tmp_path / "out" / "checkpoint.pt"
    state = io.load(ckpt)
    if isinstance(extra, dict):
        state["extra"].update(extra)
    else:
        state["extra"] = extra
    torch.save(state, ckpt)
    capsys.readouterr()
    assert _run(tmp_path, tmp_path / "out", "--epochs", "2", "--model", "mlp", "--resume") == 2
    err = capsys.readouterr().err
    assert err.startswith("d2lcompute fashion-mnist: error: --resume: ")
    assert "was not written by fashion-mnist" in err or "is damaged" in err


def test_running_out_of_memory_names_the_batch_size_and_other_errors_stay_bugs(
    tmp_path, capsys, monkeypatch
):
    from d2lcompute import classic_loop

    _stand_in_data(monkeypatch)

    def out_of_memory(*args, **kwargs):
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't "
            "allocate memory: you tried to allocate 824633720832 bytes."
        )

    monkeypatch.setattr(classic_loop._Ch3Model, "training_step", out_of_memory)
    assert _run(tmp_path, tmp_path / "out", "--batch-size", "100000000") == 2
    assert re.search(
        r"error: --batch-size 100000000: out of memory on cpu \(.*can't allocate "
        r"memory.*\); try a smaller --batch-size\n$",
        capsys.readouterr().err,
    )

    def bug(*args, **kwargs):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(classic_loop._Ch3Model, "training_step", bug)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        _run(tmp_path, tmp_path / "out")


def test_a_full_disk_during_the_checkpoint_save_is_one_line(tmp_path, capsys, monkeypatch):
    """Before: "RuntimeError: [enforce fail at inline_container.cc:672]" and a traceback."""
    import errno
    import os

    _stand_in_data(monkeypatch)
    real_fdopen = os.fdopen

    class FullDisk:  # what torch.save writes to: every write fails as on a full disk
        def __init__(self, f):
            self.f = f

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k)))
    assert _run(tmp_path, tmp_path / "out", "--epochs", "1", "--model", "mlp") == 2
    err = capsys.readouterr().err
    assert re.search(
        # the epoch's metrics.csv and figure are written before its checkpoint
        r"(^|\n)d2lcompute fashion-mnist: error: cannot write "
        r".*(checkpoint.pt|metrics.csv): No space "
        r"left on device; free some space or choose another folder\n$",
        err,
    )
    assert "Traceback" not in err and not (tmp_path / "out" / "checkpoint.pt").exists()


# ---- the improved recipe (--model improved) -------------------------------------------------


def _real_subset(monkeypatch, real_data_dir, n_train=1024, n_test=512):
    """The first images of the real Fashion-MNIST, so that a few epochs take seconds."""
    from d2lcompute import data, image_dataset

    full = image_dataset.load_data_fashion_mnist

    def subset(batch_size, resize=None, *, data_dir=None):
        train_iter, test_iter = full(batch_size, resize, data_dir=real_data_dir)
        return tuple(
            data.BatchLoader(
                image_dataset.ImageTensorDataset(it.dataset.images[:n], it.dataset.labels[:n]),
                batch_size,
                shuffle=it.shuffle,
            )
            for it, n in [(train_iter, n_train), (test_iter, n_test)]
        )

    monkeypatch.setattr(image_dataset, "load_data_fashion_mnist", subset)


def test_improved_gets_its_recipe_and_dropout_sets_both_layers():
    args = build_parser().parse_args(["fashion-mnist", "--model", "improved", "--epochs", "7"])
    options = fashion_mnist._options(args)
    assert options == {
        "model": "improved",
        "lr": 0.003,
        "batch_size": 256,
        "dropout": [0.2, 0.2],
        "seed": 0,
        "epochs": 7,
    }
    assert isinstance(fashion_mnist._build(options), fashion_mnist_improved.ImprovedMLP)
    args = build_parser().parse_args(
        ["fashion-mnist", "--model", "improved", "--dropout", "0.3", "--lr", "0.01"]
    )
    options = fashion_mnist._options(args)
    assert (options["lr"], options["dropout"]) == (0.01, [0.3, 0.3])
    net = fashion_mnist._build(options)
    assert [m.p for m in net if isinstance(m, torch.nn.Dropout)] == [0.3, 0.3]


def test_improved_one_epoch_on_real_data(real_data_dir, tmp_path, capsys):
    assert _run(real_data_dir, tmp_path, "--model", "improved", "--epochs", "1") == 0
    out = capsys.readouterr().out
    assert (
        "model improved (AdamW, one-cycle schedule over 1 epochs), peak lr 0.003, batch "
        "size 256, dropout 0.2/0.2, seed 0"
    ) in out
    state = io.load(tmp_path / "checkpoint.pt")
    assert state["optimizer_type"] == "AdamW"
    # 235 steps (60,000 / 256): the schedule has reached its last rate, step 234
    assert state["extra"]["scheduler"]["last_epoch"] == 234
    assert state["extra"]["history"]["test_acc"][0] > 0.83  # the book's model: about 0.77


def test_improved_resume_reaches_the_same_result_and_schedule(
    real_data_dir, tmp_path, capsys, monkeypatch
):
    _real_subset(monkeypatch, real_data_dir)
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert _run(real_data_dir, straight, "--model", "improved", "--epochs", "3") == 0
    with monkeypatch.context() as m:
        _in_the_second_epoch(m, _interrupt)
        assert _run(real_data_dir, resumed, "--model", "improved", "--epochs", "3") == 130
    assert io.load(resumed / "checkpoint.pt")["epoch"] == 1
    assert _run(real_data_dir, resumed, "--model", "improved", "--epochs", "3", "--resume") == 0

    a, b = io.load(straight / "checkpoint.pt"), io.load(resumed / "checkpoint.pt")
    for key in ("train_loss", "train_acc", "test_acc"):
        assert a["extra"]["history"][key] == b["extra"]["history"][key]  # exactly
    for name, tensor in a["model"].items():  # batch-norm running statistics included
        assert torch.equal(tensor, b["model"][name]), name
    assert a["extra"]["scheduler"] == b["extra"]["scheduler"]
    assert a["optimizer"]["param_groups"] == b["optimizer"]["param_groups"]  # lr, betas


def test_improved_resume_refuses_another_epochs(real_data_dir, tmp_path, capsys, monkeypatch):
    _real_subset(monkeypatch, real_data_dir, n_train=256, n_test=256)
    assert _run(real_data_dir, tmp_path, "--model", "improved", "--epochs", "1") == 0
    before = (tmp_path / "checkpoint.pt").read_bytes()
    assert _run(real_data_dir, tmp_path, "--model", "improved", "--epochs", "2", "--resume") == 2
    err = capsys.readouterr().err
    assert (
        "made with other options: --epochs 1 (now 2) (the improved recipe's learning-rate "
        "schedule spans --epochs)"
    ) in err
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    state = io.load(tmp_path / "checkpoint.pt")  # a checkpoint that lost its schedule
    del state["extra"]["scheduler"]
    torch.save(state, tmp_path / "checkpoint.pt")
    assert _run(real_data_dir, tmp_path, "--model", "improved", "--epochs", "1", "--resume") == 2
    assert "is damaged: it holds no learning-rate schedule" in capsys.readouterr().err


def test_each_epoch_is_one_line_in_a_log(tmp_path, capsys, monkeypatch):
    """Before: each epoch twice, the engine's line on stderr and the table row on stdout."""
    _stand_in_data(monkeypatch)
    assert _run(tmp_path, tmp_path / "out", "--epochs", "3", "--model", "mlp") == 0
    out, err = capsys.readouterr()
    assert [int(row[0]) for row in ROW.findall(out)] == [1, 2, 3]
    assert len(out.splitlines()) == 2 + 3 + 1  # header, column names, 3 rows, the summary
    assert err == ""  # no second line per epoch, no bar in a log, no figure but the run's


def test_resume_if_present_starts_a_run_then_continues_it(tmp_path, capsys, monkeypatch):
    """For torchrun --max-restarts, which reruns the same command line."""
    _stand_in_data(monkeypatch)
    straight, restarted = tmp_path / "straight", tmp_path / "restarted"
    options = ("--epochs", "3", "--model", "mlp")
    assert _run(tmp_path, straight, *options) == 0
    with monkeypatch.context() as m:
        _in_the_second_epoch(m, _interrupt)
        assert _run(tmp_path, restarted, *options, "--resume-if-present") == 130
    assert io.load(restarted / "checkpoint.pt")["epoch"] == 1
    capsys.readouterr()
    assert _run(tmp_path, restarted, *options, "--lr", "0.2", "--resume-if-present") == 2
    assert "--resume: " in capsys.readouterr().err  # the same refusals as --resume
    assert _run(tmp_path, restarted, *options, "--resume-if-present") == 0
    assert "(from the checkpoint)" in capsys.readouterr().out
    a, b = io.load(straight / "checkpoint.pt"), io.load(restarted / "checkpoint.pt")
    assert b["epoch"] == 3
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert (restarted / "metrics.csv").read_text().count("\n") == 4


def test_in_a_terminal_the_bar_moves_within_the_epoch_and_is_cleared_at_the_end(
    tmp_path, capsys, monkeypatch
):
    """Before: the command's bar moved once per epoch and a finished 100 % bar stayed."""
    from d2lcompute.live import figure

    _stand_in_data(monkeypatch)  # 2 batches per epoch
    monkeypatch.setattr(figure, "output_mode", lambda: "terminal")
    positions, original = [], figure.LiveFigure.update
    monkeypatch.setattr(
        figure.LiveFigure,
        "update",
        lambda self, x, *args: positions.append(x) or original(self, x, *args),
    )
    assert _run(tmp_path, tmp_path / "out", "--epochs", "2", "--model", "mlp") == 0
    assert positions[:2] == [0.5, 1.0]  # half an epoch, then the end of the first
    out, err = capsys.readouterr()
    assert [int(row[0]) for row in ROW.findall(out)] == [1, 2]  # the rows, once each
    assert "epoch 1/2: train" not in err  # no second line per epoch on the bar's stream
    assert "100%" in err and err.endswith("\r") and err.split("\r")[-2].strip() == ""  # cleared
