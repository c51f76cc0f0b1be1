import subprocess
import sys

import pytest

from d2lcompute import hub
from d2lcompute.cli import main


def test_info_reports_versions_devices_and_data(real_data_dir, capsys):
    assert main(["info", "--data-dir", str(real_data_dir)]) == 0
    out = capsys.readouterr().out
    import numpy
    import pandas
    import torch

    import d2lcompute

    assert f"d2lcompute   {d2lcompute.__version__}" in out
    assert f"torch        {torch.__version__}" in out
    assert (
        f"numpy        {numpy.__version__}" in out and f"pandas       {pandas.__version__}" in out
    )
    assert "matplotlib   " in out
    assert "devices      cpu" in out or "cuda" in out or "mps" in out
    assert f"data folder  {real_data_dir}" in out
    assert "chosen: --data-dir" in out
    for rel in [*hub.FASHION_MNIST_SHA1, "kaggle_house_pred_train.csv"]:
        assert f"ok        {rel}" in out


def test_info_flags_missing_and_corrupt_files(tmp_path, capsys):
    (tmp_path / "kaggle_house_pred_train.csv").write_text("Id,SalePrice\n1,2\n")
    assert main(["info", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "BAD HASH  kaggle_house_pred_train.csv  (would be downloaded from http://" in out
    assert (
        "missing   kaggle_house_pred_test.csv  (would be downloaded from "
        f"{hub.DATA_URL}kaggle_house_pred_test.csv)"
    ) in out


def test_info_uses_environment_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("D2LCOMPUTE_DATA_DIR", str(tmp_path))
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"data folder  {tmp_path}" in out and "chosen: $D2LCOMPUTE_DATA_DIR" in out


def test_info_prints_the_books_data_folder_when_it_holds_the_data(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("D2LCOMPUTE_DATA_DIR")
    for rel in [
        *hub.FASHION_MNIST_SHA1,
        "kaggle_house_pred_train.csv",
        "kaggle_house_pred_test.csv",
    ]:
        (tmp_path / "data" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / rel).write_text("x")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"data folder  {(tmp_path / 'data').resolve()}" in out
    assert "chosen: the book's ../data" in out


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
@pytest.mark.parametrize("command", ["house-prices", "fashion-mnist", "info"])
def test_help_works_on_a_console_that_cannot_print_unicode(command, encoding):
    result = subprocess.run(
        [sys.executable, "-m", "d2lcompute", command, "--help"],
        capture_output=True,
        env={**__import__("os").environ, "PYTHONIOENCODING": encoding},
    )
    assert result.returncode == 0, result.stderr.decode(encoding, "replace")
    assert b"usage: d2lcompute" in result.stdout and b"Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["house-prices", "fashion-mnist"])
def test_threads_option_on_every_training_command(command, monkeypatch, capsys):
    import importlib

    import torch

    module = importlib.import_module(f"d2lcompute.commands.{command.replace('-', '_')}")
    calls = []
    monkeypatch.setattr(module, "run", lambda args: 0)
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    assert main([command, "--threads", "3"]) == 0
    assert calls == [3]
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "other processes leave free" in " ".join(capsys.readouterr().out.split())


def test_module_entry_point_and_unknown_command():
    ok = subprocess.run(
        [sys.executable, "-m", "d2lcompute", "--version"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and ok.stdout.startswith("d2lcompute ")
    bad = subprocess.run(
        [sys.executable, "-m", "d2lcompute", "no-such-command"], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "invalid choice: 'no-such-command'" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("device", ["gpu7", "cuda:99"])
def test_resolve_device_rejects_unknown_devices(device):
    from d2lcompute.commands import CommandError, resolve_device

    with pytest.raises(CommandError, match="--device"):
        resolve_device(device)


@pytest.mark.parametrize(
    "flag, text, expected",
    [
        ("--epochs", "0", "a positive integer"),
        ("--epochs", "2.5", "a positive integer"),
        ("--lr", "-1", "a positive number"),
        ("--lr", "nan", "a positive number"),
        ("--weight-decay", "inf", "a number >= 0"),
        ("--dropout", "1", r"a probability in \[0, 1\)"),
        ("--seed", "-3", r"an integer seed in \[0, 2\*\*32\)"),
    ],
)
def test_shared_options_reject_bad_values(flag, text, expected):
    import argparse

    from d2lcompute.commands import add_options

    parser = argparse.ArgumentParser(exit_on_error=False)
    add_options(parser, flag)
    with pytest.raises(argparse.ArgumentError, match=f"expected {expected}, got '{text}'"):
        parser.parse_args([f"{flag}={text}"])  # "=": argparse reads "-3" alone as a flag


def test_shared_options_accept_good_values():
    import argparse

    from d2lcompute.commands import add_options

    parser = argparse.ArgumentParser()
    add_options(parser, "--epochs", "--lr", "--dropout", "--seed", "--data-dir", epochs=10)
    args = parser.parse_args(["--lr", "0.5", "--dropout", "0", "--seed", "7", "--data-dir", "d"])
    assert (args.epochs, args.lr, args.dropout, args.seed, str(args.data_dir)) == (
        10,
        0.5,
        0.0,
        7,
        "d",
    )


def test_a_user_error_is_one_line_and_exit_status_2(monkeypatch, capsys):
    from d2lcompute.commands import info
    from d2lcompute.errors import UserError

    def fails(args):
        raise UserError("the file x.pt is damaged")

    monkeypatch.setattr(info, "run", fails)
    assert main(["info"]) == 2
    assert capsys.readouterr().err == "d2lcompute info: error: the file x.pt is damaged\n"


@pytest.mark.parametrize(
    "bug", [ValueError("bad shape inside"), TypeError("oops"), OSError("some bug")]
)
def test_a_real_bug_keeps_its_traceback(monkeypatch, bug):
    """Only UserError is a one-liner: a ValueError from deep inside is a bug to see whole."""
    from d2lcompute.commands import info

    def fails(args):
        raise bug

    monkeypatch.setattr(info, "run", fails)
    with pytest.raises(type(bug), match=str(bug)):
        main(["info"])


@pytest.mark.parametrize(("rank", "says"), [("0", True), ("1", False)])
def test_ctrl_c_is_reported_once_under_torchrun_by_rank_0(monkeypatch, capsys, rank, says):
    from d2lcompute.commands import info

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(info, "run", interrupted)
    for name, value in zip(("RANK", "LOCAL_RANK", "WORLD_SIZE"), (rank, rank, "2"), strict=True):
        monkeypatch.setenv(name, value)
    assert main(["info"]) == 130
    assert capsys.readouterr().err == ("\nd2lcompute info: interrupted\n" if says else "")
