"""The book's house-price recipe (§4.10): checks, preprocessing, training, k-fold, submission."""

import functools
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils import data

from d2lcompute import batched
from d2lcompute import house_prices as hp
from d2lcompute.errors import DataError, DivergenceError


@pytest.fixture
def kaggle(real_data_dir):
    """The real CSVs and the book's tensors (read once), as fresh copies."""
    train_data, test_data, *tensors = _read_kaggle(real_data_dir)
    return (train_data.copy(), test_data.copy(), *(t.clone() for t in tensors))


@functools.lru_cache(maxsize=1)
def _read_kaggle(folder):
    train_data, test_data = hp.read_data(folder)
    return (train_data, test_data, *hp.preprocess(train_data, test_data))


def _frames():
    """A small training and test set with the kinds of columns the Kaggle data has."""
    train = pd.DataFrame({"Id": [1, 2, 3, 4], "LotArea": [8450, 9600, np.nan, 9550],
                          "Street": ["Pave", "Grvl", "Pave", None],
                          "SalePrice": [208500, 181500, 223500, 140000]})
    test = pd.DataFrame({"Id": [5, 6], "LotArea": [14260, 10084], "Street": ["Pave", "Pave"]})
    return train, test


# ---- reading and checking the data -------------------------------------------------------------

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


@pytest.mark.parametrize("change, message", [
    (lambda tr, te: (tr.drop(columns="SalePrice"), te), "training data has no column 'SalePrice'"),
    (lambda tr, te: (tr.drop(columns="Id"), te), "training data has no column 'Id'"),
    (lambda tr, te: (tr, te.drop(columns="Id")), "test data has no column 'Id'"),
    (lambda tr, te: (tr, te.assign(Pool=1)), "only in the test data: 'Pool'"),
    (lambda tr, te: (tr, te.assign(SalePrice=1)), "only in the test data: 'SalePrice'"),
    (lambda tr, te: (tr, te.drop(columns="Street")), "only in the training data: 'Street'"),
    (lambda tr, te: (tr.iloc[:0], te), "training data has no rows"),
    (lambda tr, te: (tr.assign(SalePrice=[1, -5, 3, 4]), te), r"positive number .* -5 \(Id 2\)"),
    (lambda tr, te: (tr.assign(SalePrice=[1, "cheap", 3, 4]), te), r"'cheap' \(Id 2\)"),
    (lambda tr, te: (tr.assign(LotArea=["8450", "9600", "big", "9550"]), te),
     r"column 'LotArea' of the training data holds numbers but also 'big' \(Id 3\)"),
    (lambda tr, te: (tr, te.assign(LotArea=["1", "n/a?"])),
     r"column 'LotArea' of the test data holds numbers but also 'n/a\?' \(Id 6\)"),
])
def test_check_data_rejects_bad_frames(change, message):
    with pytest.raises(ValueError, match=message):
        hp.check_data(*change(*_frames()))


@pytest.mark.parametrize("prices, shown", [
    ([1, np.nan, 3, 4], "nan"), ([1, 2, np.inf, 4], "inf"), ([1, 2, 3, 1e308], "1e+308"),
    ([1, 0, 3, 4], "0"),
])
def test_check_data_names_the_row_of_an_unusable_price(prices, shown):
    """A missing, zero, infinite or absurd price would make training diverge or score NaN."""
    train, test = _frames()
    row = next(i for i, p in enumerate(prices) if not 0 < p <= 1e9)
    with pytest.raises(DataError, match=rf"SalePrice must be a positive number up to 1e\+09 "
                                        rf"in every row; row {row + 1} of the training data "
                                        rf"has SalePrice {re.escape(shown)} \(Id {row + 1}\)"):
        hp.check_data(train.assign(SalePrice=prices), test)


@pytest.mark.parametrize("ids, message", [
    ([5, 5], r"Id must be unique; it repeats; row 2 of the test data has Id 5"),
    ([5, "six"], r"Id must be an integer in every row; row 2 of the test data has Id 'six'"),
    ([5.5, 6], r"Id must be an integer in every row; row 1 of the test data has Id 5.5"),
])
def test_check_data_refuses_test_ids_a_submission_cannot_use(ids, message):
    train, test = _frames()
    with pytest.raises(ValueError, match=message):
        hp.check_data(train, test.assign(Id=ids))


def test_check_data_accepts_text_columns_and_missing_values():
    train, test = _frames()
    hp.check_data(train, test)  # Street is text with a gap; LotArea has a NaN
    # a text column with no value in one file reads as float64 there; still not numeric
    hp.check_data(train, test.assign(Street=[None, None]))


# ---- preprocessing -----------------------------------------------------------------------------

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
    torch.testing.assert_close(train_labels[:, 0].double(),
                               torch.tensor(train_data["SalePrice"].to_numpy(dtype=float)))


@pytest.mark.parametrize("text_dtype", [object, "string", "category", "str"])
def test_preprocess_treats_every_text_dtype_as_categorical(text_dtype):
    # pandas 3 reads text as `str`, which `dtypes != 'object'` (the book's test) calls numeric;
    # "string" and "category" fool it on pandas 2 as well
    train, test = _frames()
    # built, not .astype: pandas 2's astype("str") turns None into the text "None"
    train["Street"] = pd.Series(train["Street"].tolist(), dtype=text_dtype)
    test["Street"] = pd.Series(test["Street"].tolist(), dtype=text_dtype)
    train_features, test_features, _ = hp.preprocess(train, test)
    # LotArea, then Street_Grvl, Street_Pave, Street_nan
    assert train_features.shape == (4, 4) and test_features.shape == (2, 4)
    torch.testing.assert_close(train_features[:, 1:], torch.tensor(
        [[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=torch.float32))
    lot = np.array([8450, 9600, np.nan, 9550, 14260, 10084])
    standard = (lot - np.nanmean(lot)) / np.nanstd(lot, ddof=1)
    np.testing.assert_allclose(torch.cat([train_features, test_features])[:, 0].numpy(),
                               np.nan_to_num(standard), rtol=1e-5)


def test_preprocess_leaves_the_frames_alone():
    train, test = _frames()
    before = train.copy(), test.copy()
    hp.preprocess(train, test)
    pd.testing.assert_frame_equal(train, before[0])
    pd.testing.assert_frame_equal(test, before[1])


# ---- log_rmse and train ------------------------------------------------------------------------

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
        for X_batch, y_batch in data.DataLoader(data.TensorDataset(X[order], y[order]),
                                                batch_size):
            optimizer.zero_grad()
            loss(net(X_batch), y_batch).backward()
            optimizer.step()
        with torch.no_grad():
            train_ls.append(torch.sqrt(loss(torch.log(net(X).clamp(1)), torch.log(y))).item())
            test_ls.append(torch.sqrt(loss(torch.log(net(X_test).clamp(1)),
                                           torch.log(y_test))).item())
    return train_ls, test_ls


def _synthetic(n, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = torch.exp(X @ torch.randn(d, 1, generator=g) * 0.3 + 4)
    return X, y


def test_train_matches_the_books_dataloader_loop():
    X, y = _synthetic(53)
    torch.manual_seed(1)
    ours, book = nn.Linear(6, 1), nn.Linear(6, 1)
    book.load_state_dict(ours.state_dict())
    args = (X[:40], y[:40], X[40:], y[40:], 7, 0.5, 0.01, 16)
    got = hp.train(ours, *args, generator=torch.Generator().manual_seed(3))
    expected = _book_train(book, *args, generator=torch.Generator().manual_seed(3))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert len(got[0]) == 7


def test_train_without_test_labels_and_with_a_callback():
    X, y = _synthetic(20)
    calls = []
    train_ls, test_ls = hp.train(nn.Linear(6, 1), X, y, None, None, 3, 0.1, 0, 8,
                                 callback=lambda *a: calls.append(a))
    assert len(train_ls) == 3 and test_ls == []
    assert [c[0] for c in calls] == [1, 2, 3] and calls[-1][1:] == (train_ls[-1], None)


@pytest.mark.parametrize("name, value, message", [
    ("num_epochs", 0, "num_epochs must be >= 1"),
    ("batch_size", 2.5, "batch_size must be an integer"),
    ("learning_rate", -1, "learning_rate must be >= 0"),
    ("weight_decay", float("nan"), "weight_decay must be a number"),
])
def test_train_rejects_bad_hyper_parameters(name, value, message):
    X, y = _synthetic(10)
    args = dict(num_epochs=1, learning_rate=0.1, weight_decay=0, batch_size=4)
    args[name] = value
    with pytest.raises((ValueError, TypeError), match=message):
        hp.train(nn.Linear(6, 1), X, y, None, None, **args)


def test_train_rejects_mismatched_labels():
    X, y = _synthetic(10)
    with pytest.raises(ValueError, match=r"train_labels must be a tensor with one row per sample "
                                         r"\(10\), got shape \(9, 1\)"):
        hp.train(nn.Linear(6, 1), X, y[:9], None, None, 1, 0.1, 0, 4)


# ---- k-fold ------------------------------------------------------------------------------------

def _book_get_k_fold_data(k, i, X, y):
    """Oracle: the book's get_k_fold_data (drops n % k samples)."""
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx, :], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train, y_train = torch.cat([X_train, X_part], 0), torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid


@pytest.mark.parametrize("i", range(5))
def test_get_k_fold_data_matches_the_book_when_n_divides(i):
    X, y = _synthetic(20)
    for got, expected in zip(hp.get_k_fold_data(5, i, X, y), _book_get_k_fold_data(5, i, X, y)):
        assert torch.equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(2, n))))
def test_get_k_fold_data_puts_every_sample_in_exactly_one_fold(n_k):
    n, k = n_k
    X = torch.arange(n, dtype=torch.float32)[:, None]
    y = X * 10
    valid_rows = []
    for i in range(k):
        X_train, y_train, X_valid, y_valid = hp.get_k_fold_data(k, i, X, y)
        assert torch.equal(y_train, X_train * 10) and torch.equal(y_valid, X_valid * 10)
        assert sorted(torch.cat([X_train, X_valid])[:, 0].tolist()) == list(range(n))
        assert n // k <= len(X_valid) <= n // k + 1
        valid_rows += X_valid[:, 0].tolist()
    assert valid_rows == list(range(n))


@pytest.mark.parametrize("k, i, error, message", [
    (1, 0, ValueError, "k must be >= 2, got k=1"),
    (11, 0, ValueError, "k must be at most the number of samples, got k=11 for 10 samples"),
    (5, 5, ValueError, r"i must be a fold index in \[0, 5\), got i=5"),
    (5, -1, ValueError, r"i must be a fold index in \[0, 5\), got i=-1"),
    (2.0, 0, TypeError, "k must be an integer"),
])
def test_get_k_fold_data_rejects_bad_folds(k, i, error, message):
    X, y = _synthetic(10)
    with pytest.raises(error, match=message):
        hp.get_k_fold_data(k, i, X, y)


@pytest.mark.parametrize("n, batch_size, get_net", [
    (23, 6, hp.get_net),   # training sets of 18 and 19 rows: 3 and 4 steps per epoch
    (23, 64, hp.get_net),  # one partial batch each
    (31, 5, lambda d: nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, 1))),
])
def test_batched_folds_follow_the_fold_by_fold_trajectories(n, batch_size, get_net):
    X, y = _synthetic(n)
    args = (5, X, y, 12, 0.3, 0.05, batch_size)
    batched = hp.k_fold(*args, get_net=get_net, seed=4)
    one_by_one = hp.k_fold(*args, get_net=get_net, seed=4, batched=False)
    np.testing.assert_allclose(batched.train_ls, one_by_one.train_ls, rtol=1e-4)
    np.testing.assert_allclose(batched.valid_ls, one_by_one.valid_ls, rtol=1e-4)
    assert batched.valid_scores == [c[-1] for c in batched.valid_ls]


def test_k_fold_result_unpacks_like_the_book_and_prints_a_table():
    X, y = _synthetic(30)
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
    X, y = _synthetic(30)
    state = torch.get_rng_state()
    first = hp.k_fold(3, X, y, 3, 0.5, 0, 8, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert hp.k_fold(3, X, y, 3, 0.5, 0, 8, seed=7) == first
    assert hp.k_fold(3, X, y, 3, 0.5, 0, 8, seed=8) != first


def test_batched_k_fold_refuses_layers_it_cannot_stack():
    X, y = _synthetic(30)
    with pytest.raises(TypeError, match="supports nn.Linear .* got Tanh; pass batched=False"):
        hp.k_fold(3, X, y, 1, 0.5, 0, 8, get_net=lambda d: nn.Sequential(nn.Linear(d, 1),
                                                                          nn.Tanh()))


def test_batched_trainer_keeps_the_best_weights_and_stops_after_patience():
    X, y = _synthetic(40)
    nets = [nn.Linear(6, 1) for _ in range(2)]
    initial = nets[1].weight.detach().clone()
    seen = []

    def on_epoch(epoch, preds):
        seen.append(preds.clone())
        return torch.tensor([epoch == 2, False])  # net 0 is best at epoch 2, net 1 never

    rows = [torch.arange(30), torch.arange(10, 40)]
    generators = [torch.Generator().manual_seed(s) for s in (0, 1)]
    batched.fit_batched(nets, X, y, rows, 20, 0.5, 0, 8, generators, on_epoch, patience=3)
    assert len(seen) == 5  # net 0 waits 3 epochs after epoch 2; net 1 stops after epoch 3
    with torch.no_grad():
        torch.testing.assert_close(nets[0](X), seen[1][0])
    assert torch.equal(nets[1].weight, initial)


def test_book_recipe_scores_like_the_book(kaggle):
    train_features, train_labels = kaggle[2], kaggle[4]
    # the book's code gives 0.1707 (seed 0) and 0.1710 (seed 1)
    train_l, valid_l = hp.k_fold(5, train_features, train_labels, 100, 5, 0, 64, seed=0)
    assert 0.15 < valid_l < 0.19
    assert 0.14 < train_l < 0.19


# ---- the submission ----------------------------------------------------------------------------

def test_train_and_pred_writes_the_kaggle_submission(kaggle, tmp_path):
    train_data, test_data, train_features, test_features, train_labels = kaggle
    before = test_data.copy()
    path = tmp_path / "out" / "submission.csv"
    train_ls = hp.train_and_pred(train_features, test_features, train_labels, test_data,
                                 5, 5, 0, 64, path=path, seed=0)
    assert len(train_ls) == 5
    submission = pd.read_csv(path)
    assert list(submission.columns) == ["Id", "SalePrice"] and len(submission) == 1459
    assert submission["Id"].tolist() == test_data["Id"].tolist()
    assert submission["SalePrice"].between(1e4, 1e6).mean() > 0.95
    pd.testing.assert_frame_equal(test_data, before)
    assert [p.name for p in path.parent.iterdir()] == ["submission.csv"]  # no temporary files


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


def test_train_and_pred_rejects_mismatched_test_data(kaggle, tmp_path):
    _, test_data, train_features, test_features, train_labels = kaggle
    with pytest.raises(ValueError, match="test_features has 1459 rows but test_data has 10"):
        hp.train_and_pred(train_features, test_features, train_labels, test_data.head(10),
                          1, 5, 0, 64, path=tmp_path / "s.csv")


def test_batched_trainer_takes_one_input_per_net():
    X, y = _synthetic(40)
    rows = [torch.arange(30), torch.arange(10, 40)]
    results = []
    for inputs in (X, X.expand(2, -1, -1).contiguous()):  # shared, or one copy per net
        torch.manual_seed(0)
        nets = [nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 1)) for _ in range(2)]
        generators = [torch.Generator().manual_seed(s) for s in (0, 1)]
        batched.fit_batched(nets, inputs, y, rows, 3, 0.1, 0, 8, generators, lambda *a: None)
        results.append(torch.cat([p.detach().flatten() for net in nets for p in net.parameters()]))
    torch.testing.assert_close(results[0], results[1])


# ---- divergence and shapes ---------------------------------------------------------------------

def test_train_stops_at_the_batch_where_the_loss_stops_being_finite():
    """The book's loop kept going on NaN; here the epoch and batch are named."""
    X, y = _synthetic(40)
    with pytest.raises(DivergenceError, match=r"house-price training diverged at epoch \d+, "
                                              r"batch \d+: the loss is not finite; the last "
                                              r"finite loss was .*smaller learning rate") as info:
        hp.train(nn.Linear(6, 1), X * 1e18, y, None, None, 5, 1e20, 0, 8)
    assert info.value.epoch >= 1 and info.value.batch >= 1


@pytest.mark.parametrize("batched_", [True, False])
def test_k_fold_raises_instead_of_returning_infinite_scores(batched_):
    X, y = _synthetic(40)
    with pytest.raises(DivergenceError, match=r"diverged at epoch \d+"):
        hp.k_fold(2, X * 1e18, y, 3, 1e20, 0, 8, seed=0, batched=batched_)


def test_train_and_pred_writes_nothing_from_a_diverged_model(tmp_path):
    X, y = _synthetic(40)
    test_data = pd.DataFrame({"Id": range(1, 11)})
    with pytest.raises(DivergenceError):
        hp.train_and_pred(X * 1e18, X[:10], y, test_data, 3, 1e20, 0, 8,
                          path=tmp_path / "submission.csv", seed=0)
    assert not (tmp_path / "submission.csv").exists()


@pytest.mark.parametrize("preds, shown", [([1.0, -1.0], r"1 of the 2 .* \(Id 2: -1.0\)"),
                                          ([np.inf, 5.0], r"1 of the 2 .* \(Id 1: inf\)"),
                                          ([np.nan, np.nan], r"2 of the 2 .* \(Id 1: nan\)")])
def test_write_submission_never_writes_prices_that_are_not_positive_and_finite(tmp_path, preds,
                                                                              shown):
    path = tmp_path / "submission.csv"
    path.write_text("Id,SalePrice\n1,1.0\n")
    with pytest.raises(DataError, match=rf"{shown}; nothing was written"):
        hp.write_submission(pd.Series([1, 2]), np.array(preds), path)
    assert path.read_text() == "Id,SalePrice\n1,1.0\n"


def test_labels_of_shape_n_are_refused_not_broadcast():
    """(B, 1) outputs minus (B,) labels is (B, B): a different model, trained silently."""
    X, y = _synthetic(10)
    message = r"train_labels must have shape \(n, 1\) = \(10, 1\).*got shape \(10,\)"
    with pytest.raises(ValueError, match=message):
        hp.train(nn.Linear(6, 1), X, y[:, 0], None, None, 1, 0.1, 0, 4)
    with pytest.raises(ValueError, match=r"labels must have shape \(n, 1\)"):
        hp.k_fold(2, X, y[:, 0], 1, 0.1, 0, 4)
    with pytest.raises(ValueError, match=r"the net's output has shape \(10, 1\) for a batch "
                                         r"whose labels have shape \(10, 2\)"):
        hp.log_rmse(nn.Linear(6, 1), X, y.repeat(1, 2))


def _batched_args(n=40, nets=2):
    X, y = _synthetic(n)
    return {"nets": [nn.Sequential(nn.Linear(6, 1)) for _ in range(nets)], "X": X, "y": y,
            "train_rows": [torch.arange(n // 2) for _ in range(nets)], "num_epochs": 2,
            "learning_rate": 0.1, "weight_decay": 0, "batch_size": 8,
            "generators": [torch.Generator().manual_seed(i) for i in range(nets)],
            "on_epoch": lambda *a: None}


@pytest.mark.parametrize("change, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got batch_size=0"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
    ({"train_rows": [torch.arange(5), torch.arange(0)]}, ValueError,
     r"net\(s\) \[1\] have none \(fewer rows than folds\?\)"),
    ({"generators": [torch.Generator()]}, ValueError,
     "got 2 nets, 2 train_rows, 1 generators"),
    ({"y": torch.ones(40)}, ValueError, r"y must be \(n, out\) with n = 40 rows of X"),
])
def test_batched_trainer_checks_its_arguments(change, error, message):
    with pytest.raises(error, match=message):
        batched.fit_batched(**{**_batched_args(), **change})


def test_batched_trainer_with_a_huge_batch_size_allocates_no_padding():
    args = _batched_args()
    batched.fit_batched(**{**args, "batch_size": 10**12})  # (M, 10**12) padding before


def test_batched_trainer_names_the_net_that_diverged():
    args = _batched_args()
    args["X"] = torch.stack([args["X"], args["X"] * 1e20])  # net 2's squared error overflows
    with pytest.raises(DivergenceError, match=r"fold 2 diverged at epoch 1, batch 1: the loss is "
                                              r"not finite; no finite loss was seen before"):
        batched.fit_batched(**args, name=lambda m: f"fold {m + 1}")
