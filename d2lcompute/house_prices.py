"""Predicting house prices on Kaggle (Book: §4.10, 实战Kaggle比赛：预测房价).

The book's recipe with the book's names: read the two CSVs, standardise the numeric features and
one-hot encode the rest (2919 x 331), fit ``nn.Linear`` with Adam on the squared error, score it by
log-RMSE with k-fold cross-validation and write ``submission.csv``. It differs from the book's code
where that code breaks or wastes time, never in the maths:

- it runs on pandas 2 and 3: numeric columns are picked by kind (pandas 3 reads text as ``str``,
  not ``object``) and the one-hot booleans become float32;
- ``get_k_fold_data`` keeps every sample (the book's drops ``n % k`` of them);
- ``k_fold`` trains the k folds together, one model with a fold dimension in front, so each
  mini-batch step is one batched matmul instead of k small ones (:mod:`d2lcompute.batched`).

The improved recipe (leakage-free preprocessing, log target, an MLP) is in
``house_prices_improved.py``; both use the data checks below.
"""

import dataclasses
import functools
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from d2lcompute.batched import fit_batched, seeded
from d2lcompute._checks import check_int, check_number
from d2lcompute._files import atomic_write
from d2lcompute.errors import DataError, DivergenceError, FileAccessError, MissingFileError

# The missing-value markers pandas used when the book was written. pandas 2 added "None", which
# would merge MasVnrType's "None" (no veneer, 872 houses) into its missing values: 330 features
# instead of the book's 331.
NA_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
             "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"]


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
    from d2lcompute import hub

    train_data = read_csv(hub.download("kaggle_house_train", cache_dir=data_dir))
    test_data = read_csv(hub.download("kaggle_house_test", cache_dir=data_dir))
    check_data(train_data, test_data)
    return train_data, test_data


# A price above this is a typo or a unit error (the Kaggle maximum is 755,000); 1e308 would
# overflow the float32 labels to inf and the run would diverge.
MAX_PRICE = 1e9


def check_data(train_data, test_data):
    """Raise ``DataError`` (a ``ValueError``) unless the frames look like the competition's sets.

    Checks: ``check_train_data`` on the training set; ``Id`` in the test set, as unique integers
    (one submission row per house); the same feature columns in both; no text in a column that
    otherwise holds numbers (which one-hot encoding would silently turn into hundreds of features).
    """
    check_train_data(train_data)
    _check_frame("test", test_data, ["Id"])
    ids = test_data["Id"]
    numeric = _integers(ids)
    if not numeric.all():
        _refuse_row(test_data, ~numeric, "test", "Id must be an integer in every row")
    duplicated = ids.duplicated(keep="first").to_numpy()
    if duplicated.any():
        _refuse_row(test_data, duplicated, "test", "Id must be unique; it repeats")
    features = train_data.columns.drop(["Id", "SalePrice"])
    extra = test_data.columns.drop("Id").difference(features, sort=False)
    lacking = features.difference(test_data.columns, sort=False)
    if len(extra) or len(lacking):
        raise DataError("the training and test data must have the same feature columns; "
                        + "; ".join(f"{what}: {_short_list(cols)}" for what, cols in
                                    [("only in the test data", extra),
                                     ("only in the training data", lacking)] if len(cols)))
    for column in features:
        _check_numeric_column(column, train_data, test_data)


def check_train_data(train_data):
    """Raise ``DataError`` unless ``train_data`` has rows, an ``Id`` and a usable ``SalePrice``.

    Every price must be a finite number in ``(0, MAX_PRICE]``: a missing, zero, negative,
    infinite or absurd price (``1e308``) would make the log-RMSE NaN or the training diverge.
    """
    import pandas as pd

    _check_frame("training", train_data, ["Id", "SalePrice"])
    price = pd.to_numeric(train_data["SalePrice"], errors="coerce").to_numpy(dtype="float64")
    bad = ~((price > 0) & (price <= MAX_PRICE))  # NaN and inf fail one of the comparisons
    if bad.any():
        _refuse_row(train_data, bad, "training",
                    f"SalePrice must be a positive number up to {MAX_PRICE:.0e} in every row",
                    "SalePrice")


def _check_frame(name, frame, needed):
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"the {name} data has no column {', '.join(map(repr, missing))}; "
                        f"its columns are {_short_list(frame.columns)}")
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
    raise DataError(f"{what}; row {i + 1} of the {name} data has {column} "
                    f"{_show(row[column])}" + ("" if column == "Id" else f" (Id {_show(row['Id'])})")
                    + f" ({int(bad.sum())} such row(s) in all)")


def _check_numeric_column(column, train_data, test_data):
    """A column that is numeric in one file, or mostly numbers, must hold numbers only."""
    import pandas as pd

    frames = [("training", train_data), ("test", test_data)]
    # an empty column reads as float64: it says nothing about the column's kind
    kinds = [pd.api.types.is_numeric_dtype(frame[column]) for _, frame in frames]
    if all(kinds):
        return
    kinds = [kind and frame[column].notna().any() for kind, (_, frame) in zip(kinds, frames)]
    strays = [frame[column].notna() & pd.to_numeric(frame[column], errors="coerce").isna()
              for _, frame in frames]
    numbers = sum(frame[column].notna().sum() for _, frame in frames) - sum(map(sum, strays))
    # a column of numbers with a few words in it is a numeric column with typos, which one-hot
    # encoding would turn into a feature per distinct number
    if any(kinds) or numbers > sum(map(sum, strays)):
        for (name, frame), stray in zip(frames, strays):
            if stray.any():
                row = frame[stray.to_numpy()].iloc[0]
                raise DataError(f"column {column!r} of the {name} data holds numbers but also "
                                f"{_show(row[column])} (Id {_show(row['Id'])}); fix or remove "
                                f"that value")


def _show(value):
    """``repr`` of a cell, without numpy's ``np.int64(...)`` wrapping."""
    return repr(value.item() if hasattr(value, "item") else value)


def _short_list(columns, limit=8):
    names = [repr(c) for c in columns]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def encode_features(features):
    """The book's encoding of a DataFrame of features, as a float32 DataFrame with the same rows.

    Numeric columns are standardised (``(x - mean) / std`` over all rows) and their missing
    values set to 0 (the mean); the other columns are one-hot encoded with an extra column
    for missing values. Numeric columns are picked by kind, not by the book's
    ``dtype != object``, which on pandas 3 (text read as ``str``) also picks the text
    columns. Shared by :func:`preprocess` and the English edition's
    ``kaggle_house.KaggleHouse.preprocess``.

    Shape:
        - features: ``(n, 79)`` for the Kaggle data; returns ``(n, 331)``.
    """
    import pandas as pd

    features = features.copy()
    numeric_features = features.select_dtypes("number").columns
    features[numeric_features] = features[numeric_features].apply(
        lambda x: (x - x.mean()) / x.std())
    features[numeric_features] = features[numeric_features].fillna(0)
    # dummies are booleans since pandas 2
    return pd.get_dummies(features, dummy_na=True).astype("float32")


def preprocess(train_data, test_data):
    """The book's preprocessing: DataFrames in, ``(train_features, test_features, train_labels)``.

    Drop ``Id``, stack the training and test features, standardise every numeric column over both
    (``(x - mean) / std``), set its missing values to 0 (the mean), and one-hot encode the other
    columns with an extra indicator for missing values. Statistics use the test rows too, as in
    the book; ``house_prices_improved.Preprocessor`` fits them on training rows only.

    Shape:
        - train_features: ``(n_train, d)``, test_features: ``(n_test, d)``, train_labels:
          ``(n_train, 1)``, float32; d = 331 for the Kaggle data.

    Book: §4.10
    """
    import pandas as pd

    check_data(train_data, test_data)
    features = train_data.columns.drop(["Id", "SalePrice"])
    all_features = pd.concat((train_data[features], test_data[features]), ignore_index=True)
    values = encode_features(all_features).to_numpy()
    n_train = len(train_data)
    train_features = torch.tensor(values[:n_train])
    test_features = torch.tensor(values[n_train:])
    train_labels = torch.tensor(train_data["SalePrice"].to_numpy(dtype="float32").reshape(-1, 1))
    return train_features, test_features, train_labels


def get_net(in_features):
    """The book's model: one ``nn.Linear(in_features, 1)`` in an ``nn.Sequential``. Book: §4.10"""
    return nn.Sequential(nn.Linear(check_int("in_features", in_features, min_value=1), 1))


def log_rmse(net, features, labels):
    """Root-mean-square error between the logs of ``net(features)`` and of ``labels``.

    Predictions below 1 are clipped to 1 before the log, as in the book. The net runs in eval
    mode without gradients (and goes back to its previous mode).

    Shape:
        - features: ``(n, d)``, labels: ``(n, 1)``; returns a float.

    Book: §4.10
    """
    was_training = getattr(net, "training", False)
    if was_training:
        net.eval()
    try:
        with torch.no_grad():
            preds = net(features)
            _check_output(preds, labels)
            clipped_preds = torch.clamp(preds, 1, float("inf"))
            return torch.sqrt(F.mse_loss(torch.log(clipped_preds), torch.log(labels))).item()
    finally:
        if was_training:
            net.train()


def train(net, train_features, train_labels, test_features, test_labels,
          num_epochs, learning_rate, weight_decay, batch_size, *, generator=None, callback=None):
    """Fit ``net`` with Adam on the squared error; per-epoch train and test log-RMSE lists.

    Mini-batches are slices of one shuffle of the preloaded rows per epoch (what the book's
    ``DataLoader(shuffle=True)`` does, at half the cost). ``generator`` draws the shuffles
    (default: torch's global generator). ``test_labels=None`` leaves the second list empty.
    ``callback(epoch, train_l, test_l)``, if given, runs after each epoch (``test_l`` is
    ``None`` without test labels).

    Book: §4.10
    """
    _check_hyper(num_epochs, learning_rate, weight_decay, batch_size)
    _check_pair("train", train_features, train_labels)
    if test_labels is not None:
        _check_pair("test", test_features, test_labels)
    train_ls, test_ls = [], []
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate, weight_decay=weight_decay)
    n = len(train_features)
    last_loss = None  # the last finite mini-batch loss, for the divergence message
    for epoch in range(1, num_epochs + 1):
        net.train()
        order = torch.randperm(n, generator=generator).to(train_features.device)
        # kept on the device and checked once per epoch: a check per step would wait for it
        losses = torch.empty(math.ceil(n / batch_size), device=train_features.device)
        for b, start in enumerate(range(0, n, batch_size)):
            rows = order[start:start + batch_size]
            optimizer.zero_grad()
            y_hat, y = net(train_features.index_select(0, rows)), train_labels.index_select(0, rows)
            if epoch == 1 and b == 0:
                _check_output(y_hat, y)
            loss = F.mse_loss(y_hat, y)
            loss.backward()
            optimizer.step()
            losses[b] = loss.detach()
        last_loss = _check_epoch_losses(losses, epoch, last_loss)
        train_ls.append(log_rmse(net, train_features, train_labels))
        if not math.isfinite(train_ls[-1]):  # the last step can make the weights infinite
            raise DivergenceError("house-price training", epoch=epoch, last_finite_loss=last_loss)
        if test_labels is not None:
            test_ls.append(log_rmse(net, test_features, test_labels))
        if callback is not None:
            callback(epoch, train_ls[-1], test_ls[-1] if test_ls else None)
    return train_ls, test_ls


def _check_epoch_losses(losses, epoch, last_loss, what="house-price training"):
    """Raise ``DivergenceError`` at the first non-finite mini-batch loss of an epoch; else
    return the epoch's last loss."""
    finite = torch.isfinite(losses)
    if not finite.all():
        b = int((~finite).nonzero()[0])
        last = float(losses[b - 1]) if b > 0 else last_loss
        raise DivergenceError(what, epoch=epoch, batch=b + 1, last_finite_loss=last)
    return float(losses[-1])


def _check_output(y_hat, y):
    """The net's output must have the labels' shape: ``(B, 1)`` against ``(B,)`` broadcasts to
    ``(B, B)`` and silently fits another model."""
    if y_hat.shape != y.shape:
        raise ValueError(f"the net's output has shape {tuple(y_hat.shape)} for a batch whose "
                         f"labels have shape {tuple(y.shape)}; labels must be (n, 1) for a net "
                         f"with one output (labels.reshape(-1, 1))")


def fold_bounds(k, n):
    """Where each of ``k`` contiguous folds of ``n`` samples starts and ends (``k + 1`` ints).

    Sizes differ by at most one, so every sample is in exactly one fold.
    """
    k = check_int("k", k, min_value=2)
    n = check_int("n", n, min_value=0)
    if k > n:
        raise ValueError(f"k must be at most the number of samples, got k={k} for {n} samples")
    return [j * n // k for j in range(k + 1)]


def get_k_fold_data(k, i, X, y):
    """Fold ``i`` of ``k`` as validation data, the other folds as training data.

    Unlike the book, the last ``n % k`` samples are not dropped: fold sizes differ by at most 1.

    Returns:
        ``(X_train, y_train, X_valid, y_valid)``.

    Book: §4.10
    """
    _check_pair("", X, y, column=False)
    bounds = fold_bounds(k, len(X))
    i = check_int("i", i)
    if not 0 <= i < k:
        raise ValueError(f"i must be a fold index in [0, {k}), got i={i}")
    start, stop = bounds[i], bounds[i + 1]
    X_train = torch.cat([X[:start], X[stop:]])
    y_train = torch.cat([y[:start], y[stop:]])
    return X_train, y_train, X[start:stop], y[start:stop]


@dataclasses.dataclass(frozen=True)
class KFoldResult:
    """What ``k_fold`` returns. Unpacks as the book's ``(train_l, valid_l)`` averages.

    Attributes:
        train_ls, valid_ls: per fold, the train and valid log-RMSE after each epoch.
        train_scores, valid_scores: per fold, the log-RMSE of the model kept (the last
            epoch's for the book's recipe).
    """

    train_ls: list
    valid_ls: list
    train_scores: list
    valid_scores: list

    @property
    def train_l(self):
        return sum(self.train_scores) / len(self.train_scores)

    @property
    def valid_l(self):
        return sum(self.valid_scores) / len(self.valid_scores)

    def __iter__(self):
        return iter((self.train_l, self.valid_l))

    def table(self):
        """The per-fold scores and their mean as a text table."""
        lines = [f"{'fold':>4}  {'train log-RMSE':>14}  {'valid log-RMSE':>14}"]
        rows = [*zip(range(1, len(self.train_scores) + 1), self.train_scores, self.valid_scores),
                ("mean", self.train_l, self.valid_l)]
        lines += [f"{fold:>4}  {t:>14.6f}  {v:>14.6f}" for fold, t, v in rows]
        return "\n".join(lines)


def k_fold(k, X_train, y_train, num_epochs, learning_rate, weight_decay, batch_size, *,
           get_net=get_net, seed=None, batched=True, callback=None):
    """k-fold cross-validation of ``get_net(in_features)`` trained by ``train``.

    The book prints every fold and plots fold 1; this returns everything instead (a
    ``KFoldResult``, which unpacks as the book's averages). With ``batched=True`` the k models
    train together (see ``batched.fit_batched``): the same maths as fold after fold, k times fewer steps.

    Args:
        seed: seeds the nets' initialisation and the shuffles (default: torch's global state).
        batched: train the folds together; needs a net of ``nn.Linear``, ``nn.ReLU`` and
            ``nn.Dropout`` layers. ``False`` runs ``train`` fold after fold, as the book does.
        callback: called as ``callback(fold, epoch, train_l, valid_l)`` after every epoch of
            every fold (``fold`` from 0, ``epoch`` from 1), e.g. to drive a progress bar.

    Book: §4.10
    """
    _check_pair("", X_train, y_train)
    bounds = fold_bounds(k, len(X_train))
    _check_hyper(num_epochs, learning_rate, weight_decay, batch_size)
    with seeded(seed, X_train.device) as generators:
        nets = [get_net(X_train.shape[1]).to(X_train.device) for _ in range(k)]
        shuffles = generators(k)
        if not batched:
            curves = [train(net, *get_k_fold_data(k, i, X_train, y_train), num_epochs,
                            learning_rate, weight_decay, batch_size, generator=shuffles[i],
                            callback=None if callback is None else functools.partial(callback, i))
                      for i, net in enumerate(nets)]
            train_ls, valid_ls = [c[0] for c in curves], [c[1] for c in curves]
        else:
            rows = torch.arange(len(X_train), device=X_train.device)
            is_valid = torch.stack([(rows >= bounds[i]) & (rows < bounds[i + 1])
                                    for i in range(k)])  # (k, n)
            train_ls, valid_ls = [[] for _ in range(k)], [[] for _ in range(k)]

            def record(epoch, preds):  # preds: (k, n, 1) prices
                errors = (torch.log(preds.clamp(min=1)) - torch.log(y_train)).squeeze(-1) ** 2
                for i in range(k):
                    t = errors[i][~is_valid[i]].mean().sqrt().item()
                    v = errors[i][is_valid[i]].mean().sqrt().item()
                    train_ls[i].append(t)
                    valid_ls[i].append(v)
                    if callback is not None:
                        callback(i, epoch, t, v)

            fit_batched(nets, X_train, y_train, [rows[~mask] for mask in is_valid], num_epochs,
                        learning_rate, weight_decay, batch_size, shuffles, record,
                        name=lambda m: f"house-price training of fold {m + 1}")
    return KFoldResult(train_ls, valid_ls, [c[-1] for c in train_ls], [c[-1] for c in valid_ls])


def train_and_pred(train_features, test_features, train_labels, test_data,
                   num_epochs, lr, weight_decay, batch_size, *,
                   path="submission.csv", get_net=get_net, seed=None, callback=None):
    """Train on all training data, predict the test set, write the submission; the train curve.

    ``path`` gets two columns, ``Id`` (from ``test_data``) and ``SalePrice``, one row per test
    house, written atomically. ``test_data`` is not modified (the book adds a column to it).
    ``callback(epoch, train_l, None)`` runs after each epoch.

    Book: §4.10
    """
    if len(test_features) != len(test_data):
        raise ValueError(f"test_features has {len(test_features)} rows but test_data has "
                         f"{len(test_data)}; they must describe the same houses")
    with seeded(seed, train_features.device) as generators:
        net = get_net(train_features.shape[1]).to(train_features.device)
        train_ls, _ = train(net, train_features, train_labels, None, None, num_epochs, lr,
                            weight_decay, batch_size, generator=generators(1)[0],
                            callback=callback)
    net.eval()
    with torch.no_grad():
        preds = net(test_features).reshape(-1).cpu().numpy()
    write_submission(test_data["Id"], preds, path)
    return train_ls


def write_submission(ids, preds, path="submission.csv"):
    """Write Kaggle's ``Id,SalePrice`` CSV to ``path`` atomically (a crash leaves no half file).

    Raises:
        DataError: a prediction is not a finite positive price (a diverged model); nothing
            is written then.
    """
    import pandas as pd

    preds = np.asarray(preds, dtype="float64")
    bad = ~(np.isfinite(preds) & (preds > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{int(bad.sum())} of the {len(preds)} predicted prices are not finite "
                        f"positive numbers (Id {_show(ids.iloc[i])}: {float(preds[i])!r}); "
                        f"nothing was written to {path}. The model has probably diverged: try "
                        f"a smaller learning rate.")
    submission = pd.DataFrame({"Id": ids.to_numpy(), "SalePrice": preds})
    with atomic_write(path, "w", newline="", encoding="utf-8") as f:
        submission.to_csv(f, index=False)


def _check_pair(name, X, y, column=True):
    """``X`` must be ``(n, d)``; ``y`` one row per sample, and ``(n, 1)`` when ``column``."""
    prefix = f"{name}_" if name else ""
    if not isinstance(X, torch.Tensor) or X.dim() != 2:
        raise ValueError(f"{prefix}features must be a 2-D tensor (n, d), got {_describe(X)}")
    if not isinstance(y, torch.Tensor) or len(y) != len(X):
        raise ValueError(f"{prefix}labels must be a tensor with one row per sample "
                         f"({len(X)}), got {_describe(y)}")
    if column and tuple(y.shape) != (len(X), 1):
        raise ValueError(f"{prefix}labels must have shape (n, 1) = ({len(X)}, 1), like the "
                         f"net's output, got {_describe(y)}; a (n,) vector would broadcast "
                         f"against (n, 1) outputs (use labels.reshape(-1, 1))")


def _describe(value):
    return f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else repr(value)


def _check_hyper(num_epochs, learning_rate, weight_decay, batch_size):
    check_int("num_epochs", num_epochs, min_value=1)
    check_number("learning_rate", learning_rate, min_value=0)
    check_number("weight_decay", weight_decay, min_value=0)
    check_int("batch_size", batch_size, min_value=1)
