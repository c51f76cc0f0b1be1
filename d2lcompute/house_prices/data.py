"""The Kaggle house-price files: reading, checking and writing the submission (Book: §4.10).

Both recipes read the two CSVs with ``read_csv``, refuse unusable data with ``check_data``
before any training, and write ``submission.csv`` with ``write_submission``, which never writes
a price that is not a finite positive number. ``features`` and ``prices`` split a frame into
what a model sees and what it predicts.
"""

import numpy as np
import torch

from d2lcompute._checks import check_frame, check_sequence
from d2lcompute._files import atomic_write
from d2lcompute.errors import DataError, FileAccessError, MissingFileError

__all__ = [
    "NA_VALUES",
    "MAX_PRICE",
    "read_csv",
    "read_data",
    "check_data",
    "check_train_data",
    "check_finite_inputs",
    "features",
    "prices",
    "write_submission",
    "short_list",
]

# The missing-value markers pandas used when the book was written. pandas 2 added "None", which
# would merge MasVnrType's "None" (no veneer, 872 houses) into its missing values: 330 features
# instead of the book's 331.
NA_VALUES = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "n/a",
    "nan",
    "null",
]

# A numeric feature beyond this is a typo or a unit error (the Kaggle maximum is 215,245, a lot
# area); 1e308 would overflow the standardisation's variance and zero the whole column.
MAX_FEATURE = 1e15

# A price above this is a typo or a unit error (the Kaggle maximum is 755,000); 1e308 would
# overflow the float32 labels to inf and the run would diverge.
MAX_PRICE = 1e9


def read_csv(path):
    """A house-price CSV as a DataFrame, with the book-era missing-value markers."""
    import pandas as pd

    try:
        return pd.read_csv(path, keep_default_na=False, na_values=NA_VALUES)
    except (ValueError, UnicodeDecodeError) as e:  # pandas' parser errors are ValueErrors
        raise DataError(f"cannot read {path} as a CSV file: {e}") from e
    except FileNotFoundError as e:
        raise MissingFileError(f"cannot read {path}: {e}") from e
    except (IsADirectoryError, PermissionError) as e:
        raise FileAccessError(f"cannot read {path}: {e}") from e


def read_data(data_dir=None):
    """``(train_data, test_data)``: the Kaggle CSVs through the data hub, checked by ``check_data``.

    Args:
        data_dir: folder with ``kaggle_house_pred_{train,test}.csv`` (default: ``hub.data_dir()``).
    """
    from pathlib import Path

    from d2lcompute import hub

    if data_dir is not None and not Path(data_dir).is_dir():
        raise MissingFileError(
            f"data_dir (--data-dir) {data_dir}: no such folder (it should hold "
            f"kaggle_house_pred_train.csv and kaggle_house_pred_test.csv; leave it out to "
            f"use the data folder, which downloads them)"
        )
    train_data = read_csv(hub.download("kaggle_house_train", cache_dir=data_dir))
    test_data = read_csv(hub.download("kaggle_house_test", cache_dir=data_dir))
    check_data(train_data, test_data)
    return train_data, test_data


def check_data(train_data, test_data):
    """Raise ``DataError`` (a ``ValueError``) unless the frames look like the competition's sets.

    Checks: ``check_train_data`` on the training set; ``Id`` in the test set, as unique integers
    (one submission row per house); the same feature columns in both; no text in a column that
    otherwise holds numbers (which one-hot encoding would silently turn into hundreds of features).
    """
    check_frame("train_data", train_data)
    check_frame("test_data", test_data)
    check_train_data(train_data)
    _check_frame("test", test_data, ["Id"])
    ids = test_data["Id"]
    numeric = _integers(ids)
    if not numeric.all():
        _refuse_row(test_data, ~numeric, "test", "Id must be an integer in every row")
    duplicated = ids.duplicated(keep="first").to_numpy()
    if duplicated.any():
        _refuse_row(test_data, duplicated, "test", "Id must be unique; it repeats")
    columns = train_data.columns.drop(["Id", "SalePrice"])
    extra = test_data.columns.drop("Id").difference(columns, sort=False)
    lacking = columns.difference(test_data.columns, sort=False)
    if len(extra) or len(lacking):
        where = [("only in the test data", extra), ("only in the training data", lacking)]
        raise DataError(
            "the training and test data must have the same feature columns; "
            + "; ".join(f"{what}: {short_list(cols)}" for what, cols in where if len(cols))
        )
    for column in columns:
        _check_numeric_column(column, train_data, test_data)
    for name, frame in (("training", train_data), ("test", test_data)):
        _check_finite_features(name, frame, columns)


def check_train_data(train_data):
    """Raise ``DataError`` unless ``train_data`` has rows, an ``Id`` and a usable ``SalePrice``.

    Every price must be a finite number in ``(0, MAX_PRICE]``: a missing, zero, negative,
    infinite or absurd price (``1e308``) would make the log-RMSE NaN or the training diverge.
    """
    import pandas as pd

    check_frame("train_data", train_data)
    _check_frame("training", train_data, ["Id", "SalePrice"])
    price = pd.to_numeric(train_data["SalePrice"], errors="coerce").to_numpy(dtype="float64")
    bad = ~((price > 0) & (price <= MAX_PRICE))  # NaN and inf fail one of the comparisons
    if bad.any():
        what = f"SalePrice must be a positive number up to {MAX_PRICE:.0e} in every row"
        _refuse_row(train_data, bad, "training", what, "SalePrice")


def check_finite_inputs(train_features, train_labels, test_features=None, test_labels=None):
    """Raise ``DataError`` naming the tensor, row and column of the first NaN or infinite value.

    For tensors handed to training directly (``house_prices.train``): NaN there would end in
    "training diverged", blaming the learning rate. ``None`` values are skipped.

    Example::

        >>> check_finite_inputs(torch.tensor([[1.0, float("nan")]]), torch.ones(1, 1))
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        d2lcompute.errors.DataError: train_features holds nan at row 0, column 1 ...
    """
    tensors = {
        "train_features": train_features,
        "train_labels": train_labels,
        "test_features": test_features,
        "test_labels": test_labels,
    }
    for name, X in tensors.items():
        if not isinstance(X, torch.Tensor) or not X.is_floating_point():
            continue  # the shape and type checks are the caller's
        bad = ~torch.isfinite(X)
        if bool(bad.any()):
            at = [int(i) for i in bad.nonzero()[0]]
            where = f"row {at[0]}" + (f", column {at[1]}" if len(at) > 1 else "")
            raise DataError(
                f"{name} holds {X[tuple(at)].item()} at {where} ({int(bad.sum())} such "
                f"value(s)); fill or drop missing values before training (the book sets a "
                f"standardised feature's missing values to 0)"
            )


def features(data):
    """The feature columns of a training or test frame: all but ``Id`` and ``SalePrice``."""
    return data.drop(columns=[c for c in ("Id", "SalePrice") if c in data.columns])


def prices(data):
    """``SalePrice`` as a float64 tensor ``(n,)``; NaN for rows without a price (test rows)."""
    import pandas as pd

    if "SalePrice" not in data.columns:
        return torch.full((len(data),), float("nan"), dtype=torch.float64)
    return torch.tensor(pd.to_numeric(data["SalePrice"]).to_numpy(dtype="float64"))


def write_submission(ids, preds, path="submission.csv"):
    """Write Kaggle's ``Id,SalePrice`` CSV to ``path`` atomically (a crash leaves no half file).

    Raises:
        DataError: a prediction is not a finite positive price (a diverged model); nothing
            is written then.
    """
    import pandas as pd

    ids = pd.Series(check_sequence("ids", ids, "a sequence of house Ids"))
    preds = np.asarray(check_sequence("preds", preds, "a sequence of prices"), dtype="float64")
    if preds.shape != (len(ids),):
        raise ValueError(f"preds must hold one price per Id ({len(ids)}), got shape {preds.shape}")
    bad = ~(np.isfinite(preds) & (preds > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{int(bad.sum())} of the {len(preds)} predicted prices are not finite "
            f"positive numbers (Id {_show(ids.iloc[i])}: {float(preds[i])!r}); "
            f"nothing was written to {path}. The model has probably diverged: try "
            f"a smaller learning rate."
        )
    submission = pd.DataFrame({"Id": ids.to_numpy(), "SalePrice": preds})
    with atomic_write(path, "w", newline="", encoding="utf-8") as f:
        submission.to_csv(f, index=False)


def short_list(names, limit=8):
    """``'a', 'b' and 3 more``: column names for a message, at most ``limit`` of them."""
    shown = [repr(c) for c in names]
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def _check_frame(name, frame, needed):
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"the {name} data has no column {', '.join(map(repr, missing))}; "
            f"its columns are {short_list(frame.columns)}"
        )
    if len(frame) == 0:
        raise DataError(f"the {name} data has no rows")


def _integers(values):
    """Which cells of a column hold integers (``7`` or ``7.0``), as a boolean array."""
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.isfinite(numbers) & (numbers == np.round(numbers))


def _refuse_row(frame, bad, name, what, column="Id"):
    """Raise ``DataError`` naming the first row (counted from 1, as in the file) where ``bad``."""
    i = int(np.flatnonzero(bad)[0])
    row = frame.iloc[i]
    id_note = "" if column == "Id" else f" (Id {_show(row['Id'])})"
    raise DataError(
        f"{what}; row {i + 1} of the {name} data has {column} "
        f"{_show(row[column])}{id_note} ({int(bad.sum())} such row(s) in all)"
    )


def _check_numeric_column(column, train_data, test_data):
    """A column that is numeric in one file, or mostly numbers, must hold numbers only."""
    import pandas as pd

    frames = [("training", train_data), ("test", test_data)]
    # an empty column reads as float64: it says nothing about the column's kind
    kinds = [pd.api.types.is_numeric_dtype(frame[column]) for _, frame in frames]
    if all(kinds):
        return
    kinds = [
        kind and frame[column].notna().any() for kind, (_, frame) in zip(kinds, frames, strict=True)
    ]
    strays = [
        frame[column].notna() & pd.to_numeric(frame[column], errors="coerce").isna()
        for _, frame in frames
    ]
    numbers = sum(frame[column].notna().sum() for _, frame in frames) - sum(map(sum, strays))
    # a column of numbers with a few words in it is a numeric column with typos, which one-hot
    # encoding would turn into a feature per distinct number
    if any(kinds) or numbers > sum(map(sum, strays)):
        for (name, frame), stray in zip(frames, strays, strict=True):
            if stray.any():
                row = frame[stray.to_numpy()].iloc[0]
                raise DataError(
                    f"column {column!r} of the {name} data holds numbers but also "
                    f"{_show(row[column])} (Id {_show(row['Id'])}); fix or remove "
                    f"that value"
                )


def _check_finite_features(name, frame, columns):
    """Every numeric feature must be finite and within ``MAX_FEATURE`` (missing is fine)."""
    import pandas as pd

    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            continue  # text columns are one-hot encoded; mixed ones were refused above
        values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = np.isinf(values) | (np.abs(values) > MAX_FEATURE)
        if bad.any():
            what = f"column {column!r} must be a finite number up to {MAX_FEATURE:.0e} in every row"
            _refuse_row(frame, bad, name, what, column)


def _show(value):
    """``repr`` of a cell, without numpy's ``np.int64(...)`` wrapping."""
    return repr(value.item() if hasattr(value, "item") else value)
