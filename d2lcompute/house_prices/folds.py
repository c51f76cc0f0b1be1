"""k-fold cross-validation: the folds, the score, the result (Book: §4.10).

One representation of a fold for both recipes: ``(train_rows, valid_rows)``, two sorted
``int64`` tensors of row indices. One score: ``log_rmse_of``, the competition's metric, which the
book's ``log_rmse(net, features, labels)`` and both recipes' k-fold tables use. ``KFoldResult``
is what either recipe's ``k_fold`` returns. One check of a ``(features, labels)`` pair of
tensors: ``check_pair``.
"""

import dataclasses
import itertools
import math

import torch

from d2lcompute._checks import check_int, check_tensor

__all__ = [
    "fold_bounds",
    "k_folds",
    "get_k_fold_data",
    "check_pair",
    "log_rmse_of",
    "KFoldResult",
]


def fold_bounds(k, n):
    """Where each of ``k`` contiguous folds of ``n`` samples starts and ends (``k + 1`` ints).

    Sizes differ by at most one, so every sample is in exactly one fold (the book's
    ``get_k_fold_data`` drops the last ``n % k`` samples).

    Example::

        >>> fold_bounds(3, 10)
        [0, 3, 6, 10]
    """
    k = check_int("k", k, min_value=2)
    n = check_int("n", n, min_value=0)
    if k > n:
        raise ValueError(f"k must be at most the number of samples, got k={k} for {n} samples")
    return [j * n // k for j in range(k + 1)]


def k_folds(k, n):
    """The ``k`` contiguous folds of ``n`` samples as ``(train_rows, valid_rows)`` pairs.

    Shape:
        - train_rows: ``(n - n_i,)``, valid_rows: ``(n_i,)``, with ``n_i`` within one of
          ``n / k``.

    Example::

        >>> [valid.tolist() for _, valid in k_folds(2, 5)]
        [[0, 1], [2, 3, 4]]
    """
    bounds = fold_bounds(k, n)
    rows = torch.arange(n)
    return [
        (torch.cat([rows[:start], rows[stop:]]), rows[start:stop])
        for start, stop in itertools.pairwise(bounds)
    ]


def get_k_fold_data(k, i, X, y):
    """Fold ``i`` of ``k`` as validation data, the other folds as training data.

    Unlike the book, the last ``n % k`` samples are not dropped: fold sizes differ by at most 1.

    Returns:
        ``(X_train, y_train, X_valid, y_valid)``.

    Book: §4.10
    """
    check_pair("", X, y)
    folds = k_folds(k, len(X))
    i = check_int("i", i)
    if not 0 <= i < k:
        raise ValueError(f"i must be a fold index in [0, {k}), got i={i}")
    train_rows, valid_rows = (rows.to(X.device) for rows in folds[i])
    return X[train_rows], y[train_rows], X[valid_rows], y[valid_rows]


def log_rmse_of(preds, labels):
    """Root-mean-square error between the logs of predicted and true prices: Kaggle's score.

    Predictions below 1 are clipped to 1 before the log, as in the book. Computed in the
    tensors' dtype: float32 for the book's recipe, float64 where predictions are log prices.

    Shape:
        - preds, labels: the same shape, e.g. ``(n, 1)`` or ``(n,)``; returns a float.

    Example::

        >>> log_rmse_of(torch.tensor([100.0, 0.5]), torch.tensor([100.0, 1.0]))
        0.0

    Raises:
        ValueError: a label is not a positive finite price (its log would make the score
            ``inf`` or NaN).
    """
    check_tensor("preds", preds)
    check_tensor("labels", labels)
    score = ((torch.log(preds.clamp(min=1)) - torch.log(labels)) ** 2).mean().sqrt().item()
    if not math.isfinite(score):  # checked only then: the common case costs no extra pass
        bad = ~(torch.isfinite(labels) & (labels > 0))
        if bool(bad.any()):
            i = tuple(int(j) for j in bad.nonzero()[0])
            where = i[0] if len(i) == 1 else i
            raise ValueError(
                f"labels must be positive finite prices (their log is taken), got "
                f"labels[{where}]={labels[i].item()!r} ({int(bad.sum())} such value(s))"
            )
    return score


def check_pair(name, X, y, *, column=False):
    """Raise ``ValueError`` unless ``X`` is ``(n, d)`` and ``y`` a tensor with one row per sample.

    ``name`` prefixes the arguments' names in the message (``"train"``: ``train_features``);
    ``column=True`` also requires ``y`` to be ``(n, 1)``, the shape of a one-output net's
    predictions, against which a ``(n,)`` vector would broadcast to ``(n, n)``.
    """
    prefix = f"{name}_" if name else ""
    if not isinstance(X, torch.Tensor) or X.dim() != 2:
        raise ValueError(f"{prefix}features must be a 2-D tensor (n, d), got {_describe(X)}")
    if not isinstance(y, torch.Tensor) or len(y) != len(X):
        raise ValueError(
            f"{prefix}labels must be a tensor with one row per sample ({len(X)}), "
            f"got {_describe(y)}"
        )
    if column and tuple(y.shape) != (len(X), 1):
        raise ValueError(
            f"{prefix}labels must have shape (n, 1) = ({len(X)}, 1), like the "
            f"net's output, got {_describe(y)}; a (n,) vector would broadcast "
            f"against (n, 1) outputs (use labels.reshape(-1, 1))"
        )


def _describe(value):
    """``shape (n, d)`` for a tensor, its ``repr`` otherwise: the received value in a message."""
    return f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else repr(value)


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
        folds = range(1, len(self.train_scores) + 1)
        rows = [
            *zip(folds, self.train_scores, self.valid_scores, strict=True),
            ("mean", self.train_l, self.valid_l),
        ]
        lines += [f"{fold:>4}  {t:>14.6f}  {v:>14.6f}" for fold, t, v in rows]
        return "\n".join(lines)
