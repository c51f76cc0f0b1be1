"""house_prices.folds: the k folds, the log-RMSE score, KFoldResult."""

import pytest
import torch
from house_prices_helpers import synthetic
from hypothesis import given, settings
from hypothesis import strategies as st

from d2lcompute import house_prices as hp


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
    X, y = synthetic(20)
    for got, expected in zip(
        hp.get_k_fold_data(5, i, X, y), _book_get_k_fold_data(5, i, X, y), strict=True
    ):
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


@pytest.mark.parametrize(
    "k, i, error, message",
    [
        (1, 0, ValueError, "k must be >= 2, got k=1"),
        (11, 0, ValueError, "k must be at most the number of samples, got k=11 for 10 samples"),
        (5, 5, ValueError, r"i must be a fold index in \[0, 5\), got i=5"),
        (5, -1, ValueError, r"i must be a fold index in \[0, 5\), got i=-1"),
        (2.0, 0, TypeError, "k must be an integer"),
    ],
)
def test_get_k_fold_data_rejects_bad_folds(k, i, error, message):
    X, y = synthetic(10)
    with pytest.raises(error, match=message):
        hp.get_k_fold_data(k, i, X, y)


@pytest.mark.parametrize("price", [0.0, -5.0, float("nan")])
def test_log_rmse_of_a_price_that_is_not_positive_names_labels(price):
    labels = torch.tensor([[100.0], [price], [50.0]])
    with pytest.raises(
        ValueError, match=r"labels must be positive finite prices.*labels\[\(1, 0\)\]"
    ):
        hp.log_rmse_of(torch.full((3, 1), 80.0), labels)
    with pytest.raises(ValueError, match="labels must be positive"):
        hp.log_rmse(hp.get_net(2), torch.randn(3, 2), labels)
