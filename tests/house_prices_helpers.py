"""Shared by the house-price test files: small frames and tensors, the real data read once."""

import functools

import numpy as np
import pandas as pd
import torch

from d2lcompute import house_prices as hp


@functools.lru_cache(maxsize=1)
def read_kaggle(folder):
    """The real CSVs and the book's tensors, read once per session (copy before changing)."""
    train_data, test_data = hp.read_data(folder)
    return (train_data, test_data, *hp.preprocess(train_data, test_data))


def kaggle_copies(folder):
    """``read_kaggle``'s frames and tensors as fresh copies."""
    train_data, test_data, *tensors = read_kaggle(folder)
    return (train_data.copy(), test_data.copy(), *(t.clone() for t in tensors))


def frames():
    """A small training and test set with the kinds of columns the Kaggle data has."""
    train = pd.DataFrame(
        {
            "Id": [1, 2, 3, 4],
            "LotArea": [8450, 9600, np.nan, 9550],
            "Street": ["Pave", "Grvl", "Pave", None],
            "SalePrice": [208500, 181500, 223500, 140000],
        }
    )
    test = pd.DataFrame({"Id": [5, 6], "LotArea": [14260, 10084], "Street": ["Pave", "Pave"]})
    return train, test


def synthetic(n, d=6, seed=0):
    """``n`` samples of ``d`` features with positive, price-like labels ``(n, 1)``."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = torch.exp(X @ torch.randn(d, 1, generator=g) * 0.3 + 4)
    return X, y


def skewed_frame():
    """40 houses whose columns are skewed, not skewed, a code and text: what the improved
    recipe's preprocessing tells apart."""
    rng = np.random.default_rng(0)
    n = 40
    return pd.DataFrame(
        {
            "Id": np.arange(1, n + 1),
            "LotArea": rng.lognormal(9, 0.8, n).round(),  # skewed: gets log1p
            "YearBuilt": rng.integers(1900, 2010, n),  # not skewed
            "MSSubClass": rng.choice([20, 60, 120], n),  # a code: one-hot
            "Street": rng.choice(["Pave", "Grvl", None], n),
            "SalePrice": rng.lognormal(12, 0.3, n).round(),
        }
    )
