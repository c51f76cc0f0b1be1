"""House prices, improved: what a strong student does after §4.10 (实战Kaggle比赛：预测房价).

Each change answers one of the section's exercises or one of its weak spots:

- preprocessing is fitted on the training fold only (``preprocessor.Preprocessor``) and then
  applied to the validation and test rows; the book's statistics also see the rows it scores;
- whole-house features are added row by row (total floor area, bathrooms, age at sale), and
  standardised values are clipped to ±2.5 training standard deviations;
- the target is ``log1p(SalePrice)``, so the squared error is the competition's metric;
- the two huge, cheap houses the data's author advises dropping leave the training rows (they
  are still scored when they fall in the validation fold);
- the model is an MLP with dropout and weight decay, stopped early on a slice held out of the
  training fold (never the fold it is scored on), averaged over a few seeds and blended half
  and half with a lasso on the same features, its penalty chosen by cross-validation inside
  the training fold.

5-fold valid log-RMSE on the Kaggle data, seed 0: 0.1192 (the MLPs alone 0.1227, the lasso
alone 0.1190; the book's recipe 0.1706). Before the lasso and the added features: 0.1222.

Scores use the book's log-RMSE (``folds.log_rmse_of``), so the two recipes compare directly.
The folds and seeds train together as one batched model (``batched.fit_batched``).

Book: §4.10, exercises 2-5.
"""

import math

import numpy as np
import torch
from torch import nn

from d2lcompute import _seeding
from d2lcompute._checks import check_int, check_number, check_probability
from d2lcompute.errors import DivergenceError
from d2lcompute.house_prices.batched import fit_batched
from d2lcompute.house_prices.data import (
    check_data,
    check_train_data,
    features,
    prices,
    write_submission,
)
from d2lcompute.house_prices.folds import KFoldResult, k_folds, log_rmse_of
from d2lcompute.house_prices.hyper import check_hyper
from d2lcompute.house_prices.lasso import ALPHAS, fit_lasso
from d2lcompute.house_prices.preprocessor import Preprocessor, add_features, is_outlier
from d2lcompute.threads import training_threads

__all__ = ["get_k_fold_data", "get_net", "k_fold", "train_and_pred"]


def get_k_fold_data(k, i, train_data, **preprocessor_args):
    """Fold ``i`` of ``k`` as ``(X_train, y_train, X_valid, y_valid)`` with the preprocessing
    fitted on the training part only, as ``k_fold`` does; labels are ``log1p(SalePrice)``.

    Shape:
        - X_train: ``(n - n_valid, d)``, y_train: ``(n - n_valid, 1)``, likewise for valid.
    """
    train_rows, valid_rows = k_folds(k, len(train_data))[
        check_int("i", i, min_value=0, max_value=k - 1)
    ]
    columns = features(train_data)
    prep = Preprocessor(**preprocessor_args).fit(columns.iloc[train_rows.numpy()])
    y = torch.log1p(prices(train_data)).float()[:, None]
    return (
        prep.transform(columns.iloc[train_rows.numpy()]),
        y[train_rows],
        prep.transform(columns.iloc[valid_rows.numpy()]),
        y[valid_rows],
    )


def get_net(in_features, num_hiddens=64, dropout=0.5):
    """The MLP: ``Linear(in_features, num_hiddens)``, ReLU, Dropout, ``Linear(num_hiddens, 1)``."""
    return nn.Sequential(
        nn.Linear(
            check_int("in_features", in_features, min_value=1),
            check_int("num_hiddens", num_hiddens, min_value=1),
        ),
        nn.ReLU(),
        nn.Dropout(check_probability("dropout", dropout)),
        nn.Linear(num_hiddens, 1),
    )


@training_threads()
def k_fold(
    k, train_data, num_epochs=300, learning_rate=1e-3, weight_decay=0.01, batch_size=64, **options
):
    """k-fold cross-validation of the improved recipe on the raw ``train_data`` DataFrame.

    Each fold fits its own ``Preprocessor`` on its training rows, trains ``num_seeds`` MLPs
    (each stopped early on its own random ``holdout`` of those rows) and a lasso, and
    scores the blend on the validation fold. ``options`` are ``train_and_pred``'s; ``callback``
    is called as ``callback(fold, epoch, train_l, valid_l)``.

    Returns:
        a ``folds.KFoldResult``; curves are the blend's, epoch by epoch, and scores those of
        the blend of the MLPs at their best epochs.
    """
    check_train_data(train_data)
    return _run(
        train_data,
        k_folds(k, len(train_data)),
        num_epochs,
        learning_rate,
        weight_decay,
        batch_size,
        **options,
    )[0]


@training_threads()
def train_and_pred(
    train_data,
    test_data,
    num_epochs=300,
    learning_rate=1e-3,
    weight_decay=0.01,
    batch_size=64,
    *,
    path="submission.csv",
    **options,
):
    """Train the improved recipe on all training rows, write the test predictions to ``path``.

    Keyword options, all with defaults: ``num_hiddens`` (64), ``dropout`` (0.5), ``patience``
    (30 epochs without improvement on the holdout), ``num_seeds`` (3), ``holdout`` (0.15),
    ``linear_weight`` (0.5, 0 for the MLPs alone), ``alphas`` (``ALPHAS``, the lasso penalties
    tried), ``clip`` (2.5),
    ``skew_threshold`` (0.75), ``seed`` (0), ``device`` (the CPU),
    ``callback(0, epoch, train_l, None)``, as ``k_fold``'s for one fold.

    Returns:
        the training log-RMSE after each epoch.
    """
    import pandas as pd

    check_data(train_data, test_data)
    both = pd.concat((train_data, test_data), ignore_index=True)
    rows = torch.arange(len(both))
    fold = (rows[: len(train_data)], rows[len(train_data) :])
    result, preds = _run(
        both, [fold], num_epochs, learning_rate, weight_decay, batch_size, **options
    )
    write_submission(test_data["Id"], np.expm1(preds[0, fold[1]].numpy()), path)
    return result.train_ls[0]


def _run(
    data,
    folds,
    num_epochs,
    learning_rate,
    weight_decay,
    batch_size,
    *,
    num_hiddens=64,
    dropout=0.5,
    patience=30,
    num_seeds=3,
    holdout=0.15,
    linear_weight=0.5,
    alphas=ALPHAS,
    clip=2.5,
    skew_threshold=0.75,
    seed=0,
    device=None,
    callback=None,
):
    """Train the recipe once per ``(train_rows, valid_rows)`` fold over the rows of ``data``
    (valid rows may lack SalePrice: test rows, then not scored): the ``KFoldResult`` and the
    blended log1p predictions, ``(len(folds), n)``."""
    hyper = check_hyper(num_epochs, learning_rate, weight_decay, batch_size)
    if len(alphas) == 0:
        raise ValueError(f"alphas must hold at least one lasso penalty, got alphas={alphas!r}")
    num_seeds = check_int("num_seeds", num_seeds, min_value=1)
    patience = check_int("patience", patience, min_value=1)
    holdout = check_number("holdout", holdout, min_value=0.01, max_value=0.5)
    linear_weight = check_probability("linear_weight", linear_weight)
    alphas = [check_number("alphas", a, above=0) for a in alphas]
    k, n, price = len(folds), len(data), prices(data)
    y = torch.log1p(price).float()[:, None]  # the target; NaN for rows without a price
    scored = not torch.isnan(price[folds[0][1]]).any()  # valid rows with prices: k-fold
    device = torch.device("cpu" if device is None else device)
    outlier = torch.tensor(is_outlier(data))
    with _seeding.seeded(seed, device):
        # drawn first, so that what one fold does (its number of columns, hence how much
        # randomness its nets' initialisation uses) cannot change another fold's draws
        splits, shuffles = _seeding.generators(k * num_seeds), _seeding.generators(k * num_seeds)
        dropout_seed = int(torch.randint(2**62, ()))
        X, linear = zip(
            *(
                _fit_fold(data, fold_rows, y, alphas, clip, skew_threshold)
                for fold_rows, _ in folds
            ),
            strict=True,
        )
        train_rows, stop_rows = [], []  # per MLP: (fold i, seed j) is MLP i * num_seeds + j
        for i, (fold_rows, _) in enumerate(folds):
            rows = fold_rows[~outlier[fold_rows]]
            for g in splits[i * num_seeds : (i + 1) * num_seeds]:  # each seed its own holdout
                shuffled = rows[torch.randperm(len(rows), generator=g)]
                cut = max(1, round(holdout * len(rows)))
                stop_rows.append(shuffled[:cut])
                train_rows.append(shuffled[cut:])
        # a fold with fewer columns gets zero columns: zero inputs with zero weights change nothing
        d = max(x.shape[1] for x in X)
        nets = [
            _init_net(X[m // num_seeds].shape[1], d, y[rows].mean(), num_hiddens, dropout)
            for m, rows in enumerate(train_rows)
        ]
        X = torch.stack([nn.functional.pad(x, (0, d - x.shape[1])) for x in X])
        linear = torch.stack(linear)  # (k, n)
        curves = {"train": [[] for _ in range(k)], "valid": [[] for _ in range(k)]}
        best = {
            "loss": torch.full((k * num_seeds,), float("inf")),
            "preds": torch.zeros(k * num_seeds, n),
        }

        def blend(preds):  # (k * num_seeds, n) MLP predictions -> (k, n)
            mlp = preds.view(k, num_seeds, n).mean(1)
            return (1 - linear_weight) * mlp + linear_weight * linear

        def scores(fold_preds, fold_rows):  # the log-RMSE of log1p predictions, in float64
            return log_rmse_of(torch.expm1(fold_preds[fold_rows].double()), price[fold_rows])

        def record(epoch, preds):  # preds: (k * num_seeds, n, 1), log1p prices
            preds = preds[..., 0].cpu()  # scoring runs in float64, which mps lacks
            loss = torch.stack(
                [((preds[m, r] - y[r, 0]) ** 2).mean() for m, r in enumerate(stop_rows)]
            )
            improved = loss < best["loss"]
            best["loss"] = torch.where(improved, loss, best["loss"])
            best["preds"] = torch.where(improved[:, None], preds, best["preds"])
            for i, (fold_preds, (fold_rows, valid_rows)) in enumerate(
                zip(blend(preds), folds, strict=True)
            ):
                t = scores(fold_preds, fold_rows)
                v = scores(fold_preds, valid_rows) if scored else None
                if math.isinf(t) or (v is not None and math.isinf(v)):  # prices overflow
                    raise DivergenceError(
                        "the improved recipe" + (f" in fold {i + 1}" if k > 1 else ""),
                        epoch=epoch,
                        last_finite_loss=(curves["train"][i] or [None])[-1],
                    )
                curves["train"][i].append(t)
                curves["valid"][i].append(v)
                if callback is not None:
                    callback(i, epoch, t, v)
            return improved

        _seeding.seed_torch(dropout_seed)  # the same masks whatever the nets' creation drew
        fit_batched(
            [net.to(device) for net in nets],
            X.repeat_interleave(num_seeds, 0).to(device),
            y.nan_to_num().to(device),
            train_rows,
            *hyper,
            shuffles,
            record,
            patience=patience,
            name=lambda m: (
                f"the improved recipe's MLP {m % num_seeds + 1} of "
                f"{num_seeds}" + (f" in fold {m // num_seeds + 1}" if k > 1 else "")
            ),
        )
    preds = blend(best["preds"])
    train_scores = [scores(p, t) for p, (t, _) in zip(preds, folds, strict=True)]
    valid_scores = [
        scores(p, v) if scored else None for p, (_, v) in zip(preds, folds, strict=True)
    ]
    return KFoldResult(curves["train"], curves["valid"], train_scores, valid_scores), preds


def _fit_fold(data, fold_rows, y, alphas, clip, skew_threshold):
    """One fold's features for all rows of ``data``, ``(n, d)``, and its lasso's predictions,
    ``(n,)``: the preprocessing fitted on ``fold_rows``, the lasso on them less the outliers."""
    columns = add_features(features(data))
    prep = Preprocessor(skew_threshold, clip).fit(columns.iloc[fold_rows.numpy()])
    X = prep.transform(columns)
    rows = fold_rows[~torch.tensor(is_outlier(data))[fold_rows]]
    return X, fit_lasso(X, y, rows, alphas)


def _init_net(in_features, d, mean, num_hiddens, dropout):
    """``get_net``, its output starting at ``mean`` (not 0: a dozen log units off), and its first
    layer widened to ``d`` inputs with zero weights."""
    net = get_net(in_features, num_hiddens, dropout)
    with torch.no_grad():
        net[-1].bias.fill_(mean)
    net[0].weight = nn.Parameter(nn.functional.pad(net[0].weight.detach(), (0, d - in_features)))
    net[0].in_features = d
    return net
