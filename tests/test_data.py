"""synthetic_data, load_array and the in-memory loaders (d2lcompute/data.py)."""

import os
import re

import pytest
import torch
from torch.utils import data

import d2lcompute as d2l


def test_synthetic_data_draws_like_the_book():
    w, b = torch.tensor([2, -3.4]), 4.2
    torch.manual_seed(0)
    X, y = d2l.synthetic_data(w, b, 100)
    torch.manual_seed(0)  # the book: X ~ N(0, 1), y = Xw + b, y += N(0, 0.01)
    X_book = torch.normal(0, 1, (100, 2))
    y_book = torch.matmul(X_book, w) + b
    y_book += torch.normal(0, 0.01, y_book.shape)
    assert X.shape == (100, 2) and y.shape == (100, 1)
    assert torch.equal(X, X_book) and torch.equal(y, y_book.reshape(-1, 1))


def test_synthetic_data_noise_and_dtypes():
    torch.manual_seed(1)
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    X, y = d2l.synthetic_data(w, 0.3, 20_000)
    assert X.dtype == y.dtype == torch.float64
    noise = y[:, 0] - (X @ w + 0.3)
    assert abs(noise.mean()) < 3e-4 and 0.0097 < noise.std() < 0.0103
    assert abs(X.std() - 1) < 0.02
    X_int, _ = d2l.synthetic_data([2, -3], 1, 5)  # integer weights: the book's matmul fails
    assert X_int.dtype == torch.float32


def test_synthetic_data_rejects_bad_count():
    with pytest.raises(ValueError, match="num_examples must be >= 1, got num_examples=0"):
        d2l.synthetic_data(torch.ones(2), 0.0, 0)
    with pytest.raises(TypeError, match="num_examples must be an integer"):
        d2l.synthetic_data(torch.ones(2), 0.0, 10.0)


def test_load_array_shuffles_training_batches_like_dataloader():
    X, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    torch.manual_seed(3)
    ours = [(a.clone(), b.clone()) for a, b in d2l.load_array((X, y), 4)]
    torch.manual_seed(3)
    book = list(data.DataLoader(data.TensorDataset(X, y), 4, shuffle=True))
    assert [len(b) for _, b in ours] == [4, 4, 2]
    assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(ours, book))
    assert sorted(torch.cat([b for _, b in ours]).tolist()) == list(range(10))
    in_order = torch.cat([b for _, b in d2l.load_array((X, y), 3, is_train=False)])
    assert in_order.tolist() == list(range(10))


def test_load_array_rejects_bad_input():
    with pytest.raises(ValueError, match=r"same number of examples, got sizes \[3, 4\]"):
        d2l.load_array((torch.zeros(3, 2), torch.zeros(4)), 2)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got batch_size=0"):
        d2l.load_array((torch.zeros(3),), 0)


@pytest.mark.parametrize(
    "method, cpus, expected",
    [
        ("fork", 8, 4),
        ("fork", 3, 2),
        ("fork", 1, 0),
        ("spawn", 8, 0),
        ("forkserver", 8, 0),
    ],
)
def test_get_dataloader_workers(monkeypatch, method, cpus, expected):
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_start_method", lambda allow_none=False: method)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert d2l.get_dataloader_workers() == expected


def test_get_dataloader_workers_default_is_usable():
    workers = d2l.get_dataloader_workers()
    assert isinstance(workers, int) and 0 <= workers <= 4


@pytest.mark.parametrize(
    "w", [torch.ones(1, 3), torch.ones(3, 2), torch.tensor(2.0), torch.ones(0)]
)
def test_synthetic_data_refuses_a_w_that_is_not_a_vector(w):
    """A (1, 3) w gave X of shape (n, 1) and y of n * 3 rows, without complaint."""
    with pytest.raises(
        ValueError,
        match=rf"w must be a vector of shape \(d,\) or \(d, 1\), got "
        rf"shape {re.escape(str(tuple(w.shape)))}",
    ):
        d2l.synthetic_data(w, 4.2, 10)
    X, y = d2l.synthetic_data(torch.ones(3, 1), 4.2, 10)  # the column §4.5 passes is fine
    assert X.shape == (10, 3) and y.shape == (10, 1)


def test_load_array_refuses_a_bare_tensor():
    """load_array(X, 2) made one dataset column per row of X."""
    with pytest.raises(
        TypeError,
        match=r"data_arrays must be a tuple of tensors, e\.g\. "
        r"\(features, labels\), got a bare tensor of shape "
        r"\(4, 3\); for one tensor write \(X,\)",
    ):
        d2l.load_array(torch.ones(4, 3), 2)
    with pytest.raises(TypeError, match="got 'ab'"):
        d2l.load_array("ab", 2)
