"""The book's house-price recipe, with the book's names (Book: §4.10, 实战Kaggle比赛：预测房价).

Standardise the numeric features and one-hot encode the rest (2919 x 331), fit ``nn.Linear``
with Adam on the squared error, score it by log-RMSE with k-fold cross-validation and write
``submission.csv``. It differs from the book's code where that code breaks or wastes time,
never in the maths:

- it runs on pandas 2 and 3: numeric columns are picked by kind (pandas 3 reads text as ``str``,
  not ``object``) and the one-hot booleans become float32 (:mod:`.encoding`, which the English
  edition's ``KaggleHouse.preprocess`` shares);
- ``get_k_fold_data`` keeps every sample (the book's drops ``n % k`` of them);
- ``train`` runs on the package's one loop, ``Trainer.fit``; ``k_fold`` trains the k folds
  together, one model with a fold dimension in front, so each mini-batch step is one batched
  matmul instead of k small ones (:mod:`.batched`, the one loop of its own).
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from d2lcompute import _seeding
from d2lcompute._checks import check_callable, check_int, check_model_input
from d2lcompute.base_classes import Module
from d2lcompute.errors import DivergenceError
from d2lcompute.house_prices.batched import fit_batched
from d2lcompute.house_prices.data import check_finite_inputs, write_submission
from d2lcompute.house_prices.encoding import encode_frames
from d2lcompute.house_prices.folds import (
    KFoldResult,
    check_pair,
    get_k_fold_data,
    k_folds,
    log_rmse_of,
)
from d2lcompute.house_prices.hyper import check_hyper
from d2lcompute.live.progress_board import ProgressBoard
from d2lcompute.threads import training_threads
from d2lcompute.trainer import Trainer

__all__ = ["preprocess", "get_net", "log_rmse", "train", "k_fold", "train_and_pred"]


def preprocess(train_data, test_data):
    """The book's preprocessing: DataFrames in, ``(train_features, test_features, train_labels)``.

    Drop ``Id``, stack the training and test features, standardise every numeric column over both
    (``(x - mean) / std``), set its missing values to 0 (the mean), and one-hot encode the other
    columns with an extra indicator for missing values (``encoding.encode_frames``, which the
    English edition's ``KaggleHouse.preprocess`` shares). Statistics use the test rows too, as in
    the book; the improved recipe's ``Preprocessor`` fits them on training rows only.

    Shape:
        - train_features: ``(n_train, d)``, test_features: ``(n_test, d)``, train_labels:
          ``(n_train, 1)``, float32; d = 331 for the Kaggle data.

    Book: §4.10
    """
    train_features, test_features = (
        torch.tensor(frame.to_numpy()) for frame in encode_frames(train_data, test_data)
    )
    train_labels = torch.tensor(train_data["SalePrice"].to_numpy(dtype="float32").reshape(-1, 1))
    return train_features, test_features, train_labels


def get_net(in_features):
    """The book's model: one ``nn.Linear(in_features, 1)`` in an ``nn.Sequential``. Book: §4.10"""
    return nn.Sequential(nn.Linear(check_int("in_features", in_features, min_value=1), 1))


def log_rmse(net, features, labels):
    """Root-mean-square error between the logs of ``net(features)`` and of ``labels``.

    Predictions below 1 are clipped to 1 before the log, as in the book (``folds.log_rmse_of``).
    The net runs in eval mode without gradients (and goes back to its previous mode).

    Shape:
        - features: ``(n, d)``, labels: ``(n, 1)``; returns a float.

    Book: §4.10
    """
    check_model_input("features", features, check_callable("net", net))
    was_training = getattr(net, "training", False)
    if was_training:
        net.eval()
    try:
        with torch.no_grad():
            preds = net(features)
            _check_output(preds, labels)
            return log_rmse_of(preds, labels)
    finally:
        if was_training:
            net.train()


@training_threads()
def train(
    net,
    train_features,
    train_labels,
    test_features,
    test_labels,
    num_epochs,
    learning_rate,
    weight_decay,
    batch_size,
    *,
    generator=None,
    callback=None,
):
    """Fit ``net`` with Adam on the squared error; per-epoch train and test log-RMSE lists.

    Mini-batches are slices of one shuffle of the preloaded rows per epoch (what the book's
    ``DataLoader(shuffle=True)`` does, at half the cost). ``generator`` draws the shuffles
    (default: torch's global generator). ``test_labels=None`` leaves the second list empty.
    ``callback(epoch, train_l, test_l)``, if given, runs after each epoch (``test_l`` is
    ``None`` without test labels). It runs on the package's one loop, ``Trainer.fit``, so a
    loss that becomes NaN or infinite stops it with a ``DivergenceError``.

    Book: §4.10
    """
    check_finite_inputs(train_features, train_labels, test_features, test_labels)
    check_hyper(num_epochs, learning_rate, weight_decay, batch_size)
    check_pair("train", train_features, train_labels, column=True)
    if test_labels is not None:
        check_pair("test", test_features, test_labels, column=True)
    model = _HousePriceModel(net, learning_rate, weight_decay, callback)
    model.train_set, model.test_set = (train_features, train_labels), (test_features, test_labels)
    data = _Shuffles(train_features, train_labels, batch_size, generator)
    try:
        Trainer(max_epochs=num_epochs).fit(model, data)
    except DivergenceError as e:
        raise e.retold("house-price training") from None
    return model.train_ls, model.test_ls


class _HousePriceModel(Module):
    """``net`` with Adam on the squared error as a ``Module``; each epoch's log-RMSE recorded."""

    def __init__(self, net, learning_rate, weight_decay, callback):
        super().__init__()
        self.net, self.callback = net, callback
        self.learning_rate, self.weight_decay = learning_rate, weight_decay
        self.board = ProgressBoard(display=False)
        self.train_ls, self.test_ls = [], []

    def training_step(self, batch):
        X, y = batch
        y_hat = self.net(X)
        if self.trainer.train_batch_idx == 0:
            _check_output(y_hat, y)
        return F.mse_loss(y_hat, y)

    def configure_optimizers(self):
        return torch.optim.Adam(
            self.net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )

    def on_train_epoch_end(self, metrics):
        # the trainer checks it: the epoch's last step can make the weights infinite
        metrics["train_log_rmse"] = log_rmse(self.net, *self.train_set)
        self.train_ls.append(metrics["train_log_rmse"])
        if self.test_set[1] is not None:
            self.test_ls.append(log_rmse(self.net, *self.test_set))
        if self.callback is not None:
            self.callback(metrics["epoch"], self.train_ls[-1], (self.test_ls or [None])[-1])


class _Shuffles:
    """The rows as a ``DataModule``: each pass a new shuffle, cut into ``batch_size`` slices."""

    def __init__(self, features, labels, batch_size, generator):
        self.features, self.labels = features, labels
        self.batch_size, self.generator = batch_size, generator

    def train_dataloader(self):
        return self

    def val_dataloader(self):
        return None

    def __len__(self):
        return math.ceil(len(self.features) / self.batch_size)

    def __iter__(self):
        n = len(self.features)
        order = torch.randperm(n, generator=self.generator).to(self.features.device)
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            yield self.features.index_select(0, rows), self.labels.index_select(0, rows)


@training_threads()
def k_fold(
    k,
    X_train,
    y_train,
    num_epochs,
    learning_rate,
    weight_decay,
    batch_size,
    *,
    get_net=get_net,
    seed=None,
    batched=True,
    callback=None,
):
    """k-fold cross-validation of ``get_net(in_features)`` trained by ``train``.

    The book prints every fold and plots fold 1; this returns everything instead (a
    ``KFoldResult``, which unpacks as the book's averages). With ``batched=True`` the k models
    train together (``batched.fit_batched``): the same maths as fold after fold, k times
    fewer steps.

    Args:
        seed: seeds the nets' initialisation and the shuffles (default: torch's global state).
        batched: train the folds together; needs a net of ``nn.Linear``, ``nn.ReLU`` and
            ``nn.Dropout`` layers. ``False`` runs ``train`` fold after fold, as the book does.
        callback: called as ``callback(fold, epoch, train_l, valid_l)`` after every epoch of
            every fold (``fold`` from 0, ``epoch`` from 1), e.g. to drive a progress bar.

    Book: §4.10
    """
    check_pair("", X_train, y_train, column=True)
    folds = [(t.to(X_train.device), v.to(X_train.device)) for t, v in k_folds(k, len(X_train))]
    hyper = check_hyper(num_epochs, learning_rate, weight_decay, batch_size)
    curves = [([], []) for _ in range(k)]  # per fold: train, valid log-RMSE by epoch
    with _seeding.seeded(seed, X_train.device):
        nets = [get_net(X_train.shape[1]).to(X_train.device) for _ in range(k)]
        shuffles = _seeding.generators(k)
        if not batched:
            for i, net in enumerate(nets):

                def record(epoch, train_l, valid_l, i=i):
                    callback(i, epoch, train_l, valid_l)

                data = get_k_fold_data(k, i, X_train, y_train)
                progress = None if callback is None else record
                curves[i] = train(net, *data, *hyper, generator=shuffles[i], callback=progress)
        else:

            def record(epoch, preds):  # preds: (k, n, 1) prices
                for i, (train_rows, valid_rows) in enumerate(folds):
                    t = log_rmse_of(preds[i, train_rows], y_train[train_rows])
                    v = log_rmse_of(preds[i, valid_rows], y_train[valid_rows])
                    curves[i][0].append(t)
                    curves[i][1].append(v)
                    if callback is not None:
                        callback(i, epoch, t, v)

            train_rows = [t for t, _ in folds]
            fit_batched(nets, X_train, y_train, train_rows, *hyper, shuffles, record, name=_fold)
    train_ls, valid_ls = [c[0] for c in curves], [c[1] for c in curves]
    return KFoldResult(train_ls, valid_ls, [c[-1] for c in train_ls], [c[-1] for c in valid_ls])


@training_threads()
def train_and_pred(
    train_features,
    test_features,
    train_labels,
    test_data,
    num_epochs,
    lr,
    weight_decay,
    batch_size,
    *,
    path="submission.csv",
    get_net=get_net,
    seed=None,
    callback=None,
):
    """Train on all training data, predict the test set, write the submission; the train curve.

    ``path`` gets two columns, ``Id`` (from ``test_data``) and ``SalePrice``, one row per test
    house, written atomically. ``test_data`` is not modified (the book adds a column to it).
    ``callback(0, epoch, train_l, None)`` runs after each epoch, as ``k_fold``'s for one fold.

    Book: §4.10
    """
    if len(test_features) != len(test_data):
        raise ValueError(
            f"test_features has {len(test_features)} rows but test_data has "
            f"{len(test_data)}; they must describe the same houses"
        )
    with _seeding.seeded(seed, train_features.device):
        net = get_net(train_features.shape[1]).to(train_features.device)
        train_ls, _ = train(
            net,
            train_features,
            train_labels,
            None,
            None,
            num_epochs,
            lr,
            weight_decay,
            batch_size,
            generator=_seeding.generators(1)[0],
            callback=None if callback is None else lambda *a: callback(0, *a),
        )
    net.eval()
    with torch.no_grad():
        preds = net(test_features).reshape(-1).cpu().numpy()
    write_submission(test_data["Id"], preds, path)
    return train_ls


def _fold(m):
    return f"house-price training of fold {m + 1}"


def _check_output(y_hat, y):
    """The net's output must have the labels' shape: ``(B, 1)`` against ``(B,)`` broadcasts to
    ``(B, B)`` and silently fits another model."""
    if y_hat.shape != y.shape:
        raise ValueError(
            f"the net's output has shape {tuple(y_hat.shape)} for a batch whose "
            f"labels have shape {tuple(y.shape)}; labels must be (n, 1) for a net "
            f"with one output (labels.reshape(-1, 1))"
        )
