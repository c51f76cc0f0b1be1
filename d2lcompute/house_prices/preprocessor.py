"""The improved recipe's features, fitted on training rows only (Book: §4.10, exercises 2-4).

``Preprocessor`` learns every statistic (means, stds, fill values, category lists, which
columns to log) from the rows it is fitted on and applies them to any rows, so that in k-fold
cross-validation nothing about the validation fold leaks into its training. ``add_features``
adds columns computed row by row (no statistics, so nothing to leak), and ``is_outlier`` marks
the training rows the recipe leaves out.
"""

import numpy as np
import torch

from d2lcompute._checks import check_number
from d2lcompute.house_prices.data import short_list

__all__ = ["Preprocessor", "add_features", "is_outlier"]

# MSSubClass is a code for the kind of dwelling (20 = one storey 1946 and newer, ...), not a size.
CATEGORICAL = ("MSSubClass",)


# Columns summed into one feature: a buyer prices the whole house, not each floor or porch.
SUMS = {
    "TotalSF": ("TotalBsmtSF", "1stFlrSF", "2ndFlrSF"),
    "TotalPorchSF": ("OpenPorchSF", "EnclosedPorch", "3SsnPorch", "ScreenPorch", "WoodDeckSF"),
}
# Age at sale; the years themselves say less once the sale year is known.
AGES = {"Age": "YearBuilt", "RemodAge": "YearRemodAdd"}


def add_features(features):
    """``features`` with whole-house features added: total floor and porch area, the number of
    bathrooms (half baths count half) and the age at sale, before and after remodelling.

    Each is computed within its row from the Kaggle columns (missing counts as 0), so it uses no
    statistic of other rows; a feature whose columns are absent is left out. Lasso and ridge
    cannot build sums of columns on their own, and the log of a sum is not a sum of logs.

    Shape:
        - features: ``(n, 79)`` for the Kaggle data; returns ``(n, 84)``.
    """
    features = features.copy()
    for name, columns in SUMS.items():
        if all(c in features.columns for c in columns):
            features[name] = features[list(columns)].fillna(0).sum(axis=1)
    baths = {"FullBath": 1, "HalfBath": 0.5, "BsmtFullBath": 1, "BsmtHalfBath": 0.5}
    if all(c in features.columns for c in baths):
        features["TotalBath"] = sum(w * features[c].fillna(0) for c, w in baths.items())
    for name, year in AGES.items():
        if {year, "YrSold"} <= set(features.columns):
            features[name] = features["YrSold"] - features[year]
    return features


class Preprocessor:
    """Features fitted on training rows, applied to any rows: ``fit(frame)``, ``transform(frame)``.

    Numeric columns with |skew| above ``skew_threshold`` (and no negative values) get ``log1p``.
    Every numeric column is then standardised with the training mean and std, clipped to
    ``[-clip, clip]``, and its missing values become 0 (the training mean). Clipping keeps a house
    far outside the training range from being extrapolated to: Id 1299 (5642 sq ft, sold for
    $160,000) otherwise costs a linear model a log error of 2 when it is in the validation fold.
    Other columns are one-hot encoded with the categories seen in training plus an indicator for
    missing values; a category not seen in training encodes as all zeros.

    Example::

        prep = Preprocessor().fit(train_rows)
        X_valid = prep.transform(valid_rows)       # (n, d) float32 tensor
    """

    def __init__(self, skew_threshold=0.75, clip=3.0, categorical=CATEGORICAL):
        self.skew_threshold = check_number("skew_threshold", skew_threshold, min_value=0)
        self.clip = check_number("clip", clip, min_value=0)
        if isinstance(categorical, str) or not isinstance(categorical, (tuple, list, set)):
            raise TypeError(
                f"categorical must be a tuple or list of column names, got "
                f"categorical={categorical!r}; for one column write "
                f"categorical=({categorical!r},)"
            )
        self.categorical = tuple(categorical)

    def fit(self, features):
        """Learn the statistics from ``features``, a DataFrame of training rows; returns self."""
        import pandas as pd

        if len(features) < 2:
            raise ValueError(f"fitting needs at least 2 rows, got {len(features)}")
        self.numeric_ = [
            c
            for c in features.columns
            if c not in self.categorical
            and pd.api.types.is_numeric_dtype(features[c])
            and not pd.api.types.is_bool_dtype(features[c])
        ]
        self.categories_ = {
            c: sorted(features[c].dropna().unique().tolist())
            for c in features.columns
            if c not in self.numeric_
        }
        values = features[self.numeric_].astype("float64")
        skew, lowest = values.skew(), values.min()
        self.log_columns_ = [
            c for c in self.numeric_ if lowest[c] >= 0 and abs(skew[c]) > self.skew_threshold
        ]
        values = self._log(values)
        self.mean_ = values.mean().fillna(0)
        self.std_ = values.std().fillna(1).replace(0, 1)  # constant columns stay constant
        return self

    def transform(self, features):
        """The features as an ``(n, d)`` float32 tensor, columns as in ``feature_names``."""
        import pandas as pd

        if not hasattr(self, "mean_"):
            raise RuntimeError("call fit() before transform()")
        missing = [c for c in [*self.numeric_, *self.categories_] if c not in features.columns]
        if missing:
            raise ValueError("features lack the fitted column(s) " + short_list(missing))
        numbers = self._log(features[self.numeric_].apply(pd.to_numeric).astype("float64"))
        standard = ((numbers - self.mean_) / self.std_).fillna(0).clip(-self.clip, self.clip)
        parts = [standard.to_numpy()]
        for column, categories in self.categories_.items():
            codes = pd.Index(categories).get_indexer(features[column])  # -1: unseen or missing
            one_hot = np.zeros((len(features), len(categories) + 1))
            seen = codes >= 0
            one_hot[seen.nonzero()[0], codes[seen]] = 1
            one_hot[:, -1] = features[column].isna().to_numpy()
            parts.append(one_hot)
        return torch.tensor(np.hstack(parts), dtype=torch.float32)

    @property
    def feature_names(self):
        """Names of the ``transform`` columns: numeric columns, then ``column_category``."""
        return [
            *self.numeric_,
            *(f"{c}_{v}" for c, cats in self.categories_.items() for v in [*cats, "nan"]),
        ]

    def _log(self, values):
        values = values.copy()
        values[self.log_columns_] = np.log1p(values[self.log_columns_].clip(lower=0))
        return values


def is_outlier(data):
    """The huge, cheap houses (over 4000 sq ft above ground, under $300,000: Ids 524 and 1299)
    that De Cock, who collected the data, advises removing. Only training rows are dropped;
    they are still scored when they are in the validation fold."""
    if "SalePrice" not in data.columns or "GrLivArea" not in data.columns:
        return np.zeros(len(data), dtype=bool)
    return ((data["GrLivArea"] > 4000) & (data["SalePrice"] < 300_000)).to_numpy()
