"""``python -m d2lcompute house-prices``: the k-fold table, the submission, and bad input."""

import subprocess
import sys

import pandas as pd
import pytest

from d2lcompute import hub
from d2lcompute.cli import main


@pytest.fixture
def small_csvs(real_data_dir, tmp_path):
    """The first 80 training and 30 test rows of the real data, as CSVs in tmp_path."""
    train = pd.read_csv(
        real_data_dir / "kaggle_house_pred_train.csv", nrows=80, dtype=str, keep_default_na=False
    )
    test = pd.read_csv(
        real_data_dir / "kaggle_house_pred_test.csv", nrows=30, dtype=str, keep_default_na=False
    )
    return train, test


def _write(tmp_path, train, test):
    train_csv, test_csv = tmp_path / "train.csv", tmp_path / "test.csv"
    train.to_csv(train_csv, index=False)
    test.to_csv(test_csv, index=False)
    return ["--train-csv", str(train_csv), "--test-csv", str(test_csv)]


def _check_png(path):
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100


def test_the_figure_is_fold_1s_train_and_valid_curve_per_epoch(tmp_path):
    from d2lcompute.commands.house_prices import _plot_fold
    from d2lcompute.house_prices.folds import KFoldResult

    # the improved recipe scores its valid fold on some epochs only: None elsewhere
    train_ls = [[0.5, 0.3, 0.2, 0.15], [9.0, 9.0, 9.0, 9.0]]
    valid_ls = [[None, 0.35, None, 0.18], [9.0, 9.0, 9.0, 9.0]]
    fig = _plot_fold(
        KFoldResult(train_ls, valid_ls, [0.15, 9.0], [0.18, 9.0]), 0, tmp_path / "f.png"
    )
    _check_png(tmp_path / "f.png")
    axes = fig.axes[0]
    train, valid = axes.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4] and list(train.get_ydata()) == train_ls[0]
    assert list(valid.get_xdata()) == [2, 4] and list(valid.get_ydata()) == [0.35, 0.18]
    assert axes.get_yscale() == "log" and axes.get_xlabel() == "epoch"
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["train", "valid"]


def _table(out):
    """The fold rows of the printed table: (fold, train, valid)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["fold"])
    rows = []
    for line in lines[start + 1 :]:
        fields = line.split()
        if len(fields) != 3:
            break
        rows.append((fields[0], float(fields[1]), float(fields[2])))
    return rows


@pytest.mark.parametrize("recipe, epochs, folds", [("book", 5, 5), ("improved", 3, 3)])
def test_house_prices_prints_the_table_and_writes_the_submission(
    real_data_dir, tmp_path, capsys, recipe, epochs, folds
):
    output = tmp_path / "sub" / "submission.csv"
    status = main(
        [
            "house-prices",
            "--recipe",
            recipe,
            "--epochs",
            str(epochs),
            "--folds",
            str(folds),
            "--data-dir",
            str(real_data_dir),
            "--output",
            str(output),
            "--device",
            "cpu",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    rows = _table(captured.out)
    assert [r[0] for r in rows] == [*map(str, range(1, folds + 1)), "mean"]
    mean_valid = sum(r[2] for r in rows[:-1]) / folds
    assert rows[-1][2] == pytest.approx(mean_valid, abs=2e-6)
    lines = captured.out.splitlines()
    if recipe == "book":
        assert lines[0].startswith("recipe book: the book's own job (Chinese edition §4.10")
    else:  # the default says it is not the book's, and how to run the book's
        assert lines[0].startswith("recipe improved (the default)")
        assert "--recipe book reproduces the book's §4.10/§5.7 job (about 0.17)" in lines[0]
    assert lines[1].startswith(f"recipe {recipe}: {folds} folds, {epochs} epochs")
    figure = tmp_path / "figures" / "house-prices-fold1.png"  # conftest's figure folder
    assert (
        lines[-2]
        == f"wrote {figure} (fold 1: train and valid log-RMSE per epoch, as the book plots)"
    )
    assert lines[-1] == (
        f"next: upload {output} at "
        "https://www.kaggle.com/c/house-prices-advanced-regression-techniques "
        "(Submit Predictions) for its score"
    )
    _check_png(figure)
    # in a log, progress while it cross-validates: a line as each fold starts
    assert [f"k-fold fold {i}/{folds}: training..." for i in range(1, folds + 1)] == [
        line for line in captured.err.splitlines() if line.startswith("k-fold")
    ]
    submission = pd.read_csv(output)
    assert list(submission.columns) == ["Id", "SalePrice"] and len(submission) == 1459
    assert "1459 houses" in captured.out


def test_house_prices_runs_as_a_module(small_csvs, tmp_path):
    output = tmp_path / "submission.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "d2lcompute",
            "house-prices",
            "--recipe",
            "book",
            "--epochs",
            "2",
            "--folds",
            "2",
            "--device",
            "cpu",
            "--output",
            str(output),
            *_write(tmp_path, *small_csvs),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "mean" in result.stdout and "Traceback" not in result.stderr
    assert len(pd.read_csv(output)) == 30


def test_house_prices_defaults_to_submission_csv_in_the_working_folder(
    small_csvs, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("D2LCOMPUTE_FIGURE_DIR")
    assert (
        main(
            [
                "house-prices",
                "--epochs",
                "2",
                "--folds",
                "2",
                "--device",
                "cpu",
                *_write(tmp_path, *small_csvs),
            ]
        )
        == 0
    )
    assert "recipe improved" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "submission.csv")) == 30
    assert (tmp_path / "house-prices-fold1.png").is_file()  # next to the submission


def _fails(argv, capsys):
    status = main(["house-prices", "--epochs", "1", "--folds", "2", "--device", "cpu", *argv])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    *progress, last = err.splitlines()
    assert last.startswith("d2lcompute house-prices: error: ")
    assert all(line.endswith(": training...") for line in progress)  # a line per fold
    return last


def test_missing_data_files_say_where_to_put_them(tmp_path, monkeypatch, capsys):
    # nothing listens on port 9 of this machine: the download fails at once, offline
    monkeypatch.setattr(hub, "DOWNLOAD_RETRIES", 0)  # each retry would wait a second or two
    for name in ("kaggle_house_train", "kaggle_house_test"):
        url, sha1 = hub.DATA_HUB[name]
        monkeypatch.setitem(
            hub.DATA_HUB, name, ("http://127.0.0.1:9/" + url.rsplit("/", 1)[1], sha1)
        )
    (tmp_path / "empty").mkdir()
    err = _fails(["--data-dir", str(tmp_path / "empty")], capsys)
    assert "kaggle_house_pred_train.csv" in err and str(tmp_path / "empty") in err
    assert "--data-dir" in err and "could not download" in err
    assert len(err.strip().splitlines()) <= 3  # the progress line, then at most two lines


def test_a_data_dir_that_does_not_exist_says_no_such_folder(tmp_path, capsys):
    err = _fails(["--data-dir", str(tmp_path / "nowhere")], capsys)
    assert f"--data-dir) {tmp_path / 'nowhere'}: no such folder" in err
    assert not (tmp_path / "nowhere").exists()


def test_an_edited_data_file_is_kept_and_named(real_data_dir, tmp_path, capsys):
    train = pd.read_csv(real_data_dir / "kaggle_house_pred_train.csv")
    train.drop(columns="Alley").to_csv(tmp_path / "kaggle_house_pred_train.csv", index=False)
    edited = (tmp_path / "kaggle_house_pred_train.csv").read_bytes()
    err = _fails(["--data-dir", str(tmp_path)], capsys)
    assert "kaggle_house_pred_train.csv exists but differs from" in err
    assert "--train-csv" in err
    assert (tmp_path / "kaggle_house_pred_train.csv").read_bytes() == edited


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda tr, te: (tr.drop(columns="SalePrice"), te),
            "training data has no column 'SalePrice'",
        ),
        (lambda tr, te: (tr, te.drop(columns="Id")), "test data has no column 'Id'"),
        (lambda tr, te: (tr, te.assign(Garden="yes")), "only in the test data: 'Garden'"),
        (lambda tr, te: (tr.drop(columns="Street"), te), "only in the test data: 'Street'"),
        (
            lambda tr, te: (tr.assign(LotArea=tr["LotArea"].where(tr.index != 7, "huge")), te),
            r"column 'LotArea' of the training data holds numbers but also 'huge' \(Id 8\)",
        ),
        (
            lambda tr, te: (tr, te.assign(GrLivArea=te["GrLivArea"].where(te.index != 3, "1,200"))),
            r"column 'GrLivArea' of the test data holds numbers but also '1,200' \(Id 1464\)",
        ),
        (
            lambda tr, te: (tr.assign(SalePrice=tr["SalePrice"].where(tr.index != 0, "0")), te),
            r"SalePrice must be a positive number .* 0 \(Id 1\)",
        ),
    ],
)
def test_broken_csvs_are_named_with_their_problem(small_csvs, tmp_path, capsys, change, message):
    import re

    err = _fails(_write(tmp_path, *change(*small_csvs)), capsys)
    assert re.search(message, err), err
    assert "train.csv" in err  # which files were read


def test_unreadable_and_missing_csvs(small_csvs, tmp_path, capsys):
    argv = _write(tmp_path, *small_csvs)
    (tmp_path / "test.csv").write_bytes(b"")
    assert "cannot read" in _fails(argv, capsys) and "test.csv" in _fails(argv, capsys)
    err = _fails(["--train-csv", str(tmp_path / "nope.csv"), "--test-csv", argv[3]], capsys)
    assert "nope.csv" in err and "No such file" in err
    assert "--train-csv and --test-csv go together" in _fails(argv[:2], capsys)


def test_bad_option_values_in_the_command(small_csvs, tmp_path, capsys):
    argv = _write(tmp_path, *small_csvs)
    assert "--folds must be at least 2, got 1" in _fails([*argv, "--folds", "1"], capsys)
    assert "--folds 81 is more than the 80 training rows" in _fails(
        [*argv, "--folds", "81"], capsys
    )
    assert "is a folder" in _fails([*argv, "--output", str(tmp_path)], capsys)
    assert "--device" in _fails([*argv, "--device", "cuda:99"], capsys)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["--lr", "-1"], "argument --lr: expected a positive number, got '-1'"),
        (["--weight-decay", "x"], "argument --weight-decay: expected a number >= 0, got 'x'"),
        (["--batch-size", "2.5"], "argument --batch-size: expected a positive integer"),
        (["--recipe", "fancy"], "argument --recipe: invalid choice: 'fancy'"),
        (["--seed", "-3"], "argument --seed: expected an integer seed"),
    ],
)
def test_bad_option_values_stop_argparse(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["house-prices", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("recipe, lr", [("book", "1e6"), ("improved", "1e4")])
def test_a_diverged_run_exits_2_and_writes_no_submission(small_csvs, tmp_path, capsys, recipe, lr):
    """Before: "mean inf inf", 1459 prices of -1.0 (or hundreds of negative ones), exit 0."""
    output = tmp_path / "submission.csv"
    err = _fails(
        [
            *_write(tmp_path, *small_csvs),
            "--recipe",
            recipe,
            "--lr",
            lr,
            "--epochs",
            "3",
            "--output",
            str(output),
        ],
        capsys,
    )
    assert "diverged at epoch" in err or "predicted prices are not finite positive" in err
    assert len(err.splitlines()) == 1 and not output.exists()


def test_an_output_path_that_cannot_be_written_is_refused_before_training(
    small_csvs, tmp_path, capsys
):
    (tmp_path / "afile").write_text("")
    err = _fails(
        [*_write(tmp_path, *small_csvs), "--output", str(tmp_path / "afile" / "s.csv")], capsys
    )
    assert f"--output {tmp_path / 'afile' / 's.csv'}: {tmp_path / 'afile'} is a file" in err
    assert "recipe" not in capsys.readouterr().out  # refused before the run started
