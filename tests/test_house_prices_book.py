"""house_prices.book: the book's recipe (§4.10): preprocessing, training, k-fold, submission."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from house_prices_helpers import frames, kaggle_copies, synthetic
from torch import nn
from torch.utils import data

from d2lcompute import house_prices as hp
from d2lcompute.errors import DivergenceError


@pytest.fixture
def kaggle(real_data_dir):
    """The real CSVs and the book's tensors, as fresh copies."""
    return kaggle_copies(real_data_dir)


def test_preprocess_gives_the_books_331_features(kaggle):
    train_data, test_data, train_features, test_features, train_labels = kaggle
    assert train_features.shape == (1460, 331) and test_features.shape == (1459, 331)
    assert train_labels.shape == (1460, 1)
    assert {t.dtype for t in kaggle[2:]} == {torch.float32}
    # oracle: LotArea standardised by hand over the stacked rows; numeric columns come first,
    # in order (MSSubClass, LotFrontage, LotArea, ...), then the one-hot columns
    lot = pd.concat([train_data["LotArea"], test_data["LotArea"]]).to_numpy(dtype=float)
    expected = (lot - lot.mean()) / lot.std(ddof=1)
    got = torch.cat([train_features, test_features])[:, 2].double().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(
        train_labels[:, 0].double(), torch.tensor(train_data["SalePrice"].to_numpy(dtype=float))
    )


@pytest.mark.parametrize("text_dtype", [object, "string", "category", "str"])
def test_preprocess_treats_every_text_dtype_as_categorical(text_dtype):
    # pandas 3 reads text as `str`, which `dtypes != 'object'` (the book's test) calls numeric;
    # "string" and "category" fool it on pandas 2 as well
    train, test = frames()
    # built, not .astype: pandas 2's astype("str") turns None into the text "None"
    train["Street"] = pd.Series(train["Street"].tolist(), dtype=text_dtype)
    test["Street"] = pd.Series(test["Street"].tolist(), dtype=text_dtype)
    train_features, test_features, _ = hp.preprocess(train, test)
    # LotArea, then Street_Grvl, Street_Pave, Street_nan
    assert train_features.shape == (4, 4) and test_features.shape == (2, 4)
    torch.testing.assert_close(
        train_features[:, 1:],
        torch.tensor([[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=torch.float32),
    )
    lot = np.array([8450, 9600, np.nan, 9550, 14260, 10084])
    standard = (lot - np.nanmean(lot)) / np.nanstd(lot, ddof=1)
    np.testing.assert_allclose(
        torch.cat([train_features, test_features])[:, 0].numpy(), np.nan_to_num(standard), rtol=1e-5
    )


def test_preprocess_leaves_the_frames_alone():
    train, test = frames()
    before = train.copy(), test.copy()
    hp.preprocess(train, test)
    pd.testing.assert_frame_equal(train, before[0])
    pd.testing.assert_frame_equal(test, before[1])


def test_log_rmse_matches_hand_computation_and_clips_at_one():
    net = nn.Linear(1, 1)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.zero_()
    features = torch.tensor([[100.0], [0.5], [1000.0]])
    labels = torch.tensor([[100.0], [2.0], [10.0]])
    # 0.5 is clipped to 1 before the log
    expected = math.sqrt((0 + math.log(2) ** 2 + math.log(100) ** 2) / 3)
    assert hp.log_rmse(net, features, labels) == pytest.approx(expected, rel=1e-6)
    assert hp.log_rmse(net, labels, labels) == 0


def test_log_rmse_evaluates_in_eval_mode_and_restores_the_mode():
    net = nn.Sequential(nn.Linear(3, 1), nn.Dropout(0.9))
    X, y = torch.rand(50, 3) + 5, torch.rand(50, 1) + 5
    first = hp.log_rmse(net, X, y)
    assert hp.log_rmse(net, X, y) == first  # no dropout noise
    assert net.training


def _book_train(net, X, y, X_test, y_test, num_epochs, lr, weight_decay, batch_size, generator):
    """Oracle: the book's loop (DataLoader, nn.MSELoss, Adam), shuffled by ``generator``."""
    loss = nn.MSELoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    train_ls, test_ls = [], []
    for _ in range(num_epochs):
        order = torch.randperm(len(X), generator=generator)
        for X_batch, y_batch in data.DataLoader(data.TensorDataset(X[order], y[order]), batch_size):
            optimizer.zero_grad()
            loss(net(X_batch), y_batch).backward()
            optimizer.step()
        with torch.no_grad():
            train_ls.append(torch.sqrt(loss(torch.log(net(X).clamp(1)), torch.log(y))).item())
            test_ls.append(
                torch.sqrt(loss(torch.log(net(X_test).clamp(1)), torch.log(y_test))).item()
            )
    return train_ls, test_ls


def test_train_matches_the_books_dataloader_loop():
    X, y = synthetic(53)
    torch.manual_seed(1)
    ours, book = nn.Linear(6, 1), nn.Linear(6, 1)
    book.load_state_dict(ours.state_dict())
    args = (X[:40], y[:40], X[40:], y[40:], 7, 0.5, 0.01, 16)
    got = hp.train(ours, *args, generator=torch.Generator().manual_seed(3))
    expected = _book_train(book, *args, generator=torch.Generator().manual_seed(3))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert len(got[0]) == 7


def test_train_without_test_labels_and_with_a_callback():
    X, y = synthetic(20)
    calls = []
    train_ls, test_ls = hp.train(
        nn.Linear(6, 1), X, y, None, None, 3, 0.1, 0, 8, callback=lambda *a: calls.append(a)
    )
    assert len(train_ls) == 3 and test_ls == []
    assert [c[0] for c in calls] == [1, 2, 3] and calls[-1][1:] == (train_ls[-1], None)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("num_epochs", 0, "num_epochs must be >= 1"),
        ("batch_size", 2.5, "batch_size must be an integer"),
        ("learning_rate", -1, "learning_rate must be > 0, got learning_rate=-1"),
        ("learning_rate", 0, "learning_rate must be > 0, got learning_rate=0"),
        ("learning_rate", float("inf"), "learning_rate must be finite, got learning_rate=inf"),
        ("weight_decay", float("nan"), "weight_decay must be a number"),
    ],
)
def test_train_rejects_bad_hyper_parameters(name, value, message):
    X, y = synthetic(10)
    args = {"num_epochs": 1, "learning_rate": 0.1, "weight_decay": 0, "batch_size": 4}
    args[name] = value
    with pytest.raises((ValueError, TypeError), match=message):
        hp.train(nn.Linear(6, 1), X, y, None, None, **args)


def test_train_rejects_mismatched_labels():
    X, y = synthetic(10)
    with pytest.raises(
        ValueError,
        match=r"train_labels must be a tensor with one row per sample "
        r"\(10\), got shape \(9, 1\)",
    ):
        hp.train(nn.Linear(6, 1), X, y[:9], None, None, 1, 0.1, 0, 4)


@pytest.mark.parametrize(
    "n, batch_size, get_net",
    [
        (23, 6, hp.get_net),  # training sets of 18 and 19 rows: 3 and 4 steps per epoch
        (23, 64, hp.get_net),  # one partial batch each
        (31, 5, lambda d: nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, 1))),
    ],
)
def test_batched_folds_follow_the_fold_by_fold_trajectories(n, batch_size, get_net):
    X, y = synthetic(n)
    args = (5, X, y, 12, 0.3, 0.05, batch_size)
    batched = hp.k_fold(*args, get_net=get_net, seed=4)
    one_by_one = hp.k_fold(*args, get_net=get_net, seed=4, batched=False)
    np.testing.assert_allclose(batched.train_ls, one_by_one.train_ls, rtol=1e-4)
    np.testing.assert_allclose(batched.valid_ls, one_by_one.valid_ls, rtol=1e-4)
    assert batched.valid_scores == [c[-1] for c in batched.valid_ls]


def test_k_fold_result_unpacks_like_the_book_and_prints_a_table():
    X, y = synthetic(30)
    calls = []
    result = hp.k_fold(3, X, y, 4, 0.5, 0, 8, seed=0, callback=lambda *a: calls.append(a[:2]))
    train_l, valid_l = result
    assert train_l == pytest.approx(np.mean([c[-1] for c in result.train_ls]))
    assert valid_l == pytest.approx(np.mean([c[-1] for c in result.valid_ls]))
    assert sorted(calls) == [(i, e) for i in range(3) for e in range(1, 5)]
    lines = result.table().splitlines()
    assert lines[0].split() == ["fold", "train", "log-RMSE", "valid", "log-RMSE"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3", "mean"]
    assert float(lines[-1].split()[2]) == pytest.approx(valid_l, abs=1e-6)


def test_k_fold_seed_reproduces_and_leaves_the_global_generator_alone():
    X, y = synthetic(30)
    state = torch.get_rng_state()
    first = hp.k_fold(3, X, y, 3, 0.5, 0, 8, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert hp.k_fold(3, X, y, 3, 0.5, 0, 8, seed=7) == first
    assert hp.k_fold(3, X, y, 3, 0.5, 0, 8, seed=8) != first


def test_batched_k_fold_refuses_layers_it_cannot_stack():
    X, y = synthetic(30)
    with pytest.raises(TypeError, match="supports nn.Linear .* got Tanh; pass batched=False"):
        hp.k_fold(
            3, X, y, 1, 0.5, 0, 8, get_net=lambda d: nn.Sequential(nn.Linear(d, 1), nn.Tanh())
        )


def test_book_recipe_scores_like_the_book(kaggle):
    train_features, train_labels = kaggle[2], kaggle[4]
    # the book's code gives 0.1707 (seed 0) and 0.1710 (seed 1)
    train_l, valid_l = hp.k_fold(5, train_features, train_labels, 100, 5, 0, 64, seed=0)
    assert 0.15 < valid_l < 0.19
    assert 0.14 < train_l < 0.19


def test_train_and_pred_writes_the_kaggle_submission(kaggle, tmp_path):
    _, test_data, train_features, test_features, train_labels = kaggle
    before = test_data.copy()
    path = tmp_path / "out" / "submission.csv"
    train_ls = hp.train_and_pred(
        train_features, test_features, train_labels, test_data, 5, 5, 0, 64, path=path, seed=0
    )
    assert len(train_ls) == 5
    submission = pd.read_csv(path)
    assert list(submission.columns) == ["Id", "SalePrice"] and len(submission) == 1459
    assert submission["Id"].tolist() == test_data["Id"].tolist()
    assert submission["SalePrice"].between(1e4, 1e6).mean() > 0.95
    pd.testing.assert_frame_equal(test_data, before)
    assert [p.name for p in path.parent.iterdir()] == ["submission.csv"]  # no temporary files


def test_train_and_pred_rejects_mismatched_test_data(kaggle, tmp_path):
    _, test_data, train_features, test_features, train_labels = kaggle
    with pytest.raises(ValueError, match="test_features has 1459 rows but test_data has 10"):
        hp.train_and_pred(
            train_features,
            test_features,
            train_labels,
            test_data.head(10),
            1,
            5,
            0,
            64,
            path=tmp_path / "s.csv",
        )


def test_train_stops_at_the_batch_where_the_loss_stops_being_finite():
    """The book's loop kept going on NaN; here the epoch and batch are named."""
    X, y = synthetic(40)
    with pytest.raises(
        DivergenceError,
        match=r"house-price training diverged at epoch \d+, "
        r"batch \d+: the loss is not finite; the last "
        r"finite loss was .*smaller learning rate",
    ) as info:
        hp.train(nn.Linear(6, 1), X * 1e18, y, None, None, 5, 1e20, 0, 8)
    assert info.value.epoch >= 1 and info.value.batch >= 1


@pytest.mark.parametrize("batched_", [True, False])
def test_k_fold_raises_instead_of_returning_infinite_scores(batched_):
    X, y = synthetic(40)
    with pytest.raises(DivergenceError, match=r"diverged at epoch \d+"):
        hp.k_fold(2, X * 1e18, y, 3, 1e20, 0, 8, seed=0, batched=batched_)


def test_train_and_pred_writes_nothing_from_a_diverged_model(tmp_path):
    X, y = synthetic(40)
    test_data = pd.DataFrame({"Id": range(1, 11)})
    with pytest.raises(DivergenceError):
        hp.train_and_pred(
            X * 1e18, X[:10], y, test_data, 3, 1e20, 0, 8, path=tmp_path / "submission.csv", seed=0
        )
    assert not (tmp_path / "submission.csv").exists()


def test_labels_of_shape_n_are_refused_not_broadcast():
    """(B, 1) outputs minus (B,) labels is (B, B): a different model, trained silently."""
    X, y = synthetic(10)
    message = r"train_labels must have shape \(n, 1\) = \(10, 1\).*got shape \(10,\)"
    with pytest.raises(ValueError, match=message):
        hp.train(nn.Linear(6, 1), X, y[:, 0], None, None, 1, 0.1, 0, 4)
    with pytest.raises(ValueError, match=r"labels must have shape \(n, 1\)"):
        hp.k_fold(2, X, y[:, 0], 1, 0.1, 0, 4)
    with pytest.raises(
        ValueError,
        match=r"the net's output has shape \(10, 1\) for a batch "
        r"whose labels have shape \(10, 2\)",
    ):
        hp.log_rmse(nn.Linear(6, 1), X, y.repeat(1, 2))
