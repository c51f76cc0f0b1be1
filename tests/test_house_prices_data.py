"""house_prices.data: reading and checking the Kaggle CSVs, writing the submission."""

import re

import numpy as np
import pandas as pd
import pytest
import torch
from house_prices_helpers import frames, kaggle_copies

from d2lcompute import house_prices as hp
from d2lcompute.errors import DataError, MissingFileError


@pytest.fixture
def kaggle(real_data_dir):
    """The real CSVs and the book's tensors, as fresh copies."""
    return kaggle_copies(real_data_dir)


def test_read_data_through_the_hub(kaggle):
    train_data, test_data = kaggle[:2]
    assert train_data.shape == (1460, 81) and test_data.shape == (1459, 80)
    # "None" is a category (no masonry veneer), not a missing value, as in the book
    assert (train_data["MasVnrType"] == "None").sum() == 864


def test_read_csv_names_the_file_it_cannot_parse(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="cannot read .*broken.csv as a CSV file"):
        hp.read_csv(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda tr, te: (tr.drop(columns="SalePrice"), te),
            "training data has no column 'SalePrice'",
        ),
        (lambda tr, te: (tr.drop(columns="Id"), te), "training data has no column 'Id'"),
        (lambda tr, te: (tr, te.drop(columns="Id")), "test data has no column 'Id'"),
        (lambda tr, te: (tr, te.assign(Pool=1)), "only in the test data: 'Pool'"),
        (lambda tr, te: (tr, te.assign(SalePrice=1)), "only in the test data: 'SalePrice'"),
        (lambda tr, te: (tr, te.drop(columns="Street")), "only in the training data: 'Street'"),
        (lambda tr, te: (tr.iloc[:0], te), "training data has no rows"),
        (
            lambda tr, te: (tr.assign(SalePrice=[1, -5, 3, 4]), te),
            r"positive number .* -5 \(Id 2\)",
        ),
        (lambda tr, te: (tr.assign(SalePrice=[1, "cheap", 3, 4]), te), r"'cheap' \(Id 2\)"),
        (
            lambda tr, te: (tr.assign(LotArea=["8450", "9600", "big", "9550"]), te),
            r"column 'LotArea' of the training data holds numbers but also 'big' \(Id 3\)",
        ),
        (
            lambda tr, te: (tr, te.assign(LotArea=["1", "n/a?"])),
            r"column 'LotArea' of the test data holds numbers but also 'n/a\?' \(Id 6\)",
        ),
    ],
)
def test_check_data_rejects_bad_frames(change, message):
    with pytest.raises(ValueError, match=message):
        hp.check_data(*change(*frames()))


@pytest.mark.parametrize(
    "prices, shown",
    [
        ([1, np.nan, 3, 4], "nan"),
        ([1, 2, np.inf, 4], "inf"),
        ([1, 2, 3, 1e308], "1e+308"),
        ([1, 0, 3, 4], "0"),
    ],
)
def test_check_data_names_the_row_of_an_unusable_price(prices, shown):
    """A missing, zero, infinite or absurd price would make training diverge or score NaN."""
    train, test = frames()
    row = next(i for i, p in enumerate(prices) if not 0 < p <= 1e9)
    with pytest.raises(
        DataError,
        match=rf"SalePrice must be a positive number up to 1e\+09 "
        rf"in every row; row {row + 1} of the training data "
        rf"has SalePrice {re.escape(shown)} \(Id {row + 1}\)",
    ):
        hp.check_data(train.assign(SalePrice=prices), test)


@pytest.mark.parametrize(
    "ids, message",
    [
        ([5, 5], r"Id must be unique; it repeats; row 2 of the test data has Id 5"),
        ([5, "six"], r"Id must be an integer in every row; row 2 of the test data has Id 'six'"),
        ([5.5, 6], r"Id must be an integer in every row; row 1 of the test data has Id 5.5"),
    ],
)
def test_check_data_refuses_test_ids_a_submission_cannot_use(ids, message):
    train, test = frames()
    with pytest.raises(ValueError, match=message):
        hp.check_data(train, test.assign(Id=ids))


def test_check_data_accepts_text_columns_and_missing_values():
    train, test = frames()
    hp.check_data(train, test)  # Street is text with a gap; LotArea has a NaN
    # a text column with no value in one file reads as float64 there; still not numeric
    hp.check_data(train, test.assign(Street=[None, None]))


def test_write_submission_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "submission.csv"
    hp.write_submission(pd.Series([1, 2]), np.array([1.5, 2.5]), path)
    old = path.read_text()

    def fail(self, f, **kwargs):
        f.write("Id,Sale")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(OSError, match="disk full"):
        hp.write_submission(pd.Series([3]), np.array([9.0]), path)
    assert path.read_text() == old
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]


@pytest.mark.parametrize(
    "preds, shown",
    [
        ([1.0, -1.0], r"1 of the 2 .* \(Id 2: -1.0\)"),
        ([np.inf, 5.0], r"1 of the 2 .* \(Id 1: inf\)"),
        ([np.nan, np.nan], r"2 of the 2 .* \(Id 1: nan\)"),
    ],
)
def test_write_submission_never_writes_prices_that_are_not_positive_and_finite(
    tmp_path, preds, shown
):
    path = tmp_path / "submission.csv"
    path.write_text("Id,SalePrice\n1,1.0\n")
    with pytest.raises(DataError, match=rf"{shown}; nothing was written"):
        hp.write_submission(pd.Series([1, 2]), np.array(preds), path)
    assert path.read_text() == "Id,SalePrice\n1,1.0\n"


@pytest.mark.parametrize(
    ("where", "value"), [("train", np.inf), ("test", 1e308), ("test", -np.inf)]
)
def test_an_infinite_or_absurd_numeric_feature_is_refused_naming_column_and_row(where, value):
    train, test = frames()
    frame = train if where == "train" else test
    frame["LotArea"] = frame["LotArea"].astype("float64")
    frame.loc[1, "LotArea"] = value
    with pytest.raises(DataError, match=r"column 'LotArea' must be a finite number") as info:
        hp.check_data(train, test)
    name = "training" if where == "train" else "test"
    assert f"row 2 of the {name} data has LotArea" in str(info.value)
    with pytest.raises(DataError, match="LotArea"):
        hp.preprocess(train, test)


def test_an_infinite_feature_in_a_csv_file_is_refused(tmp_path):
    train, test = frames()
    train.to_csv(tmp_path / "train.csv", index=False)
    text = (tmp_path / "train.csv").read_text().replace("9600.0", "inf")
    (tmp_path / "train.csv").write_text(text)
    with pytest.raises(DataError, match=r"'LotArea'.*row 2 of the training data has LotArea inf"):
        hp.check_data(hp.read_csv(tmp_path / "train.csv"), test)


def test_read_data_from_a_folder_that_does_not_exist_says_so(tmp_path):
    with pytest.raises(MissingFileError, match="no such folder") as info:
        hp.read_data(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value)
    assert not (tmp_path / "nowhere").exists()


def test_house_prices_train_says_the_features_hold_nan_before_training():
    X, y = torch.randn(8, 3), torch.rand(8, 1) + 1
    X[5, 2] = float("nan")
    net = hp.get_net(3)
    before = [p.clone() for p in net.parameters()]
    with pytest.raises(DataError, match=r"train_features holds nan at row 5, column 2"):
        hp.train(net, X, y, None, None, 2, 0.1, 0, 4)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))  # not trained
    with pytest.raises(DataError, match=r"test_labels holds inf at row 1"):
        hp.train(
            net,
            torch.randn(8, 3),
            y,
            torch.randn(2, 3),
            torch.tensor([[1.0], [np.inf]]),
            2,
            0.1,
            0,
            4,
        )
