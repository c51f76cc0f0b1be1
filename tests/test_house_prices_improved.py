"""house_prices.improved: the improved recipe (leakage-free preprocessing, log target, blend)."""

import numpy as np
import pandas as pd
import pytest
import torch
from house_prices_helpers import kaggle_copies, skewed_frame

from d2lcompute import house_prices as hp
from d2lcompute.errors import DivergenceError
from d2lcompute.house_prices import improved as hpi


@pytest.fixture
def kaggle(real_data_dir):
    return kaggle_copies(real_data_dir)[:2]


def test_validation_rows_cannot_change_the_training_rows(kaggle):
    train_data, _ = kaggle
    k, i = 5, 2
    bounds = hp.fold_bounds(k, len(train_data))
    wild = train_data.copy()
    rows = slice(bounds[i], bounds[i + 1])
    numeric = wild.select_dtypes("number").columns.drop(["Id", "SalePrice"])
    wild.iloc[rows, wild.columns.get_indexer(numeric)] *= 1000
    wild.iloc[rows, wild.columns.get_loc("Neighborhood")] = "Atlantis"
    wild.iloc[rows, wild.columns.get_loc("GrLivArea")] = np.nan
    wild.iloc[rows, wild.columns.get_loc("SalePrice")] = 1
    original = hpi.get_k_fold_data(k, i, train_data)
    changed = hpi.get_k_fold_data(k, i, wild)
    assert torch.equal(original[0], changed[0]) and torch.equal(original[1], changed[1])
    assert not torch.equal(original[2], changed[2])  # the validation rows did change
    assert original[0].shape == (len(train_data) - 292, original[2].shape[1])
    price = torch.tensor(train_data["SalePrice"].to_numpy(dtype=float))
    kept = torch.cat([torch.arange(bounds[i]), torch.arange(bounds[i + 1], 1460)])
    torch.testing.assert_close(original[1][:, 0], torch.log1p(price[kept]).float())


def test_validation_rows_cannot_change_a_folds_training(kaggle):
    train_data, _ = kaggle
    data = train_data.iloc[:600].reset_index(drop=True)
    wild = data.copy()
    wild.iloc[:200, wild.columns.get_loc("LotArea")] *= 1000
    wild.iloc[:200, wild.columns.get_loc("MSZoning")] = "Moon"  # a new column for other folds
    args = {"k": 3, "num_epochs": 4, "num_seeds": 2, "seed": 0}
    original, changed = hpi.k_fold(train_data=data, **args), hpi.k_fold(train_data=wild, **args)
    # fold 1 validates on the changed rows: its training, and so its train curve, is the same
    np.testing.assert_allclose(original.train_ls[0], changed.train_ls[0], rtol=1e-6)
    assert original.valid_ls[0] != changed.valid_ls[0]
    assert original.train_ls[1] != changed.train_ls[1]  # the other folds train on those rows


# ---- the recipe --------------------------------------------------------------------------------


def test_improved_k_fold_quick_run_beats_the_book(kaggle):
    train_data, _ = kaggle
    calls = []
    result = hpi.k_fold(
        5, train_data, 20, num_seeds=1, seed=0, callback=lambda *a: calls.append(a[:2])
    )
    assert len(result.valid_scores) == 5 and result.valid_l < 0.14  # the book's: 0.17
    assert sorted(calls) == [(i, e) for i in range(5) for e in range(1, 21)]
    assert all(len(curve) == 20 for curve in result.valid_ls)


def test_improved_k_fold_is_reproducible():
    data = skewed_frame()
    first = hpi.k_fold(2, data, 3, num_seeds=2, seed=3, num_hiddens=8)
    assert hpi.k_fold(2, data, 3, num_seeds=2, seed=3, num_hiddens=8) == first
    assert hpi.k_fold(2, data, 3, num_seeds=2, seed=4, num_hiddens=8) != first


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("num_seeds", 0, "num_seeds must be >= 1"),
        ("holdout", 0.9, "holdout must be <= 0.5"),
        ("linear_weight", 2, r"linear_weight must be a probability in \[0, 1\]"),
        ("alphas", [0.1, 0], "alphas must be > 0, got alphas=0"),
        ("alphas", [], r"alphas must hold at least one lasso penalty, got alphas=\[\]"),
        ("dropout", 1.5, r"dropout must be a probability in \[0, 1\]"),
        ("patience", 0, "patience must be >= 1"),
    ],
)
def test_improved_k_fold_rejects_bad_options(option, value, message):
    with pytest.raises(ValueError, match=message):
        hpi.k_fold(2, skewed_frame(), 1, **{option: value})


def test_improved_k_fold_runs_the_books_data_checks():
    """Without them a training set lacking SalePrice gave NaN scores instead of an error."""
    with pytest.raises(ValueError, match="training data has no column 'SalePrice'"):
        hpi.k_fold(2, skewed_frame().drop(columns="SalePrice"), 1)
    with pytest.raises(ValueError, match="row 3 of the training data has SalePrice -1.0"):
        hpi.k_fold(
            2, skewed_frame().assign(SalePrice=lambda d: d.SalePrice.where(d.Id != 3, -1)), 1
        )


def test_improved_train_and_pred_writes_a_submission(kaggle, tmp_path):
    train_data, test_data = kaggle
    path = tmp_path / "submission.csv"
    train_ls = hpi.train_and_pred(train_data, test_data, 5, num_seeds=1, path=path)
    assert len(train_ls) == 5 and train_ls[-1] < 0.2
    submission = pd.read_csv(path)
    assert submission["Id"].tolist() == test_data["Id"].tolist()
    assert submission["SalePrice"].between(3e4, 8e5).all()


def test_improved_net_is_an_mlp_with_dropout():
    net = hpi.get_net(10, num_hiddens=7, dropout=0.25)
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert net[0].weight.shape == (7, 10) and net[2].p == 0.25 and net[3].out_features == 1
    with pytest.raises(ValueError, match="num_hiddens must be >= 1, got num_hiddens=0"):
        hpi.get_net(10, num_hiddens=0)


def test_improved_recipe_raises_on_divergence_and_writes_nothing(tmp_path):
    data = skewed_frame()
    with pytest.raises(
        DivergenceError,
        match=r"the improved recipe's MLP 1 of 1 in fold 1 "
        r"diverged at epoch 1",
    ):
        hpi.k_fold(2, data, 3, 1e20, num_seeds=1, num_hiddens=8)
    test = data.drop(columns="SalePrice").assign(Id=data.Id + 100)
    with pytest.raises(DivergenceError, match="MLP 1 of 1 diverged at epoch 1"):
        hpi.train_and_pred(
            data, test, 3, 1e20, num_seeds=1, num_hiddens=8, path=tmp_path / "submission.csv"
        )
    assert not (tmp_path / "submission.csv").exists()
