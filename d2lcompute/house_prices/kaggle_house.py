"""Predicting house prices on Kaggle on the class API (Book, d2l.ai 1.0: §5.7).

The English edition's face of the house-price topic, next to the Chinese edition's (§4.10,
:mod:`.book`); both encode the houses with :mod:`.encoding`.

The section defines in its own cells a data module ``KaggleHouse`` (the two CSVs through
``d2l.download``, ``preprocess``, loaders of log-prices), ``k_fold_data`` and ``k_fold``.
Its ``preprocess`` cell fails on pandas 3: ``dtypes != 'object'`` takes the text columns,
now of dtype ``str``, for numbers and standardising them raises. For a student hit by
that error, this module is the drop-in: replace the section's cells that define
``KaggleHouse``, its ``preprocess`` and ``get_dataloader``, ``k_fold_data`` and ``k_fold`` by

    from d2lcompute.house_prices.kaggle_house import KaggleHouse, k_fold_data, k_fold

and keep the others. (Running the section's ``preprocess`` cell after that would, through
``add_to_class``, put the failing method back on this class.) The names stay in this
namespace, not at ``d2l``'s top level: d2l-en's own ``d2l`` package does not have them
(they are notebook definitions), and the Chinese edition's ``k_fold``
(``d2l.house_prices.k_fold``) takes other arguments. ``KaggleHouse`` alone is also
``d2l.house_prices.KaggleHouse``.

Differences from the section's cells, none in the maths: the encoding is
``encoding.encode_frames`` (numeric columns picked by kind, float32 one-hot columns), the
Chinese edition's ``preprocess``'s too, on CSVs read by ``data.read_csv`` (the book-era
missing-value markers: 331 features, as the text says); ``k_fold_data`` puts every row in
exactly one validation fold (the book's leaves the last ``n % k`` rows out of every one);
bad arguments raise ``ValueError``/``TypeError`` naming the argument.
"""

import itertools

import torch

from d2lcompute import hub
from d2lcompute._checks import check_int, check_lr
from d2lcompute.base_classes import DataModule
from d2lcompute.house_prices.data import read_csv
from d2lcompute.house_prices.encoding import encode_frames
from d2lcompute.house_prices.folds import fold_bounds
from d2lcompute.linear_regression import LinearRegression

__all__ = ["KaggleHouse", "k_fold_data", "k_fold"]

LABEL = "SalePrice"
TRAIN_SHA1 = "585e9cc93e70b39160e7921475f9bcd7d31219ce"
TEST_SHA1 = "fa19780a7b011d9b009e8bff8e99922a8ee2eb90"


class KaggleHouse(DataModule):
    """The Kaggle house-price data as a data module; its loaders serve log-prices.

    Without ``train``, the two CSVs are read (through the hashed, cached ``d2l.download``)
    into ``raw_train`` (1460 houses, with ``SalePrice``) and ``raw_val`` (the 1459
    competition test houses, without it); ``preprocess`` then sets ``train`` and ``val``.
    ``k_fold_data`` passes preprocessed ``train`` and ``val`` frames, both with prices.

    Args:
        batch_size: rows per mini-batch.
        train, val: preprocessed DataFrames (``val`` may lack ``SalePrice``, or be None).

    Shape:
        A batch is ``(X, y)``: ``X`` is ``(batch_size, 331)`` and ``y = log(SalePrice)`` is
        ``(batch_size, 1)``, both float32.

    Example::

        data = KaggleHouse(batch_size=64)
        data.preprocess()
        data.train.shape  # (1460, 332): 331 features and SalePrice
    """

    def __init__(self, batch_size, train=None, val=None):
        super().__init__()
        check_int("batch_size", batch_size, min_value=1)
        self.save_hyperparameters()
        if self.train is None:
            self.raw_train = read_csv(
                hub.download(
                    hub.DATA_URL + "kaggle_house_pred_train.csv", self.root, sha1_hash=TRAIN_SHA1
                )
            )
            self.raw_val = read_csv(
                hub.download(
                    hub.DATA_URL + "kaggle_house_pred_test.csv", self.root, sha1_hash=TEST_SHA1
                )
            )

    def preprocess(self):
        """Encode ``raw_train`` and ``raw_val`` together into ``train`` (with prices) and ``val``.

        ``Id`` and ``SalePrice`` are dropped, the rest encoded by ``encoding.encode_frames``,
        as the Chinese edition's ``preprocess`` does; statistics use the test houses too, as in
        the book.
        """
        if not hasattr(self, "raw_train"):
            raise RuntimeError(
                "preprocess needs the raw CSVs: make the data module with "
                "KaggleHouse(batch_size), without train and val"
            )
        train, self.val = encode_frames(self.raw_train, self.raw_val)
        self.train = train.copy()  # a column is added: a frame of its own, not a view
        self.train[LABEL] = self.raw_train[LABEL].to_numpy()

    def get_dataloader(self, train):
        """Mini-batches ``(X, log(SalePrice))`` of ``train`` or ``val``; None without prices."""
        if self.train is None:
            raise RuntimeError("KaggleHouse has no features yet: call data.preprocess() first")
        data = self.train if train else self.val
        if data is None or LABEL not in data:
            return None
        X = torch.tensor(data.drop(columns=[LABEL]).to_numpy(dtype="float32"))
        y = torch.log(torch.tensor(data[LABEL].to_numpy(dtype="float32"))).reshape(-1, 1)
        return self.get_tensorloader((X, y), train)


def k_fold_data(data, k):
    """``k`` data modules: the ``j``-th validates on fold ``j`` of ``data.train``, trains on others.

    Folds are contiguous and their sizes differ by at most one row, so every row is in
    exactly one validation fold. The book's folds of ``n // k`` rows leave the last
    ``n % k`` rows out of every validation fold (none for its k = 5 and 1460 houses).

    Args:
        data: a preprocessed ``KaggleHouse``.
        k: the number of folds, from 2 to the number of rows.

    Book (d2l.ai 1.0): §5.7
    """
    import pandas as pd

    train = getattr(data, "train", None)
    if not isinstance(train, pd.DataFrame) or LABEL not in train:
        raise TypeError(
            f"data must be a preprocessed KaggleHouse (call data.preprocess() "
            f"first), got data={data!r} with train of type {type(train).__name__}"
        )
    bounds = fold_bounds(k, len(train))
    return [
        KaggleHouse(
            data.batch_size,
            pd.concat((train.iloc[:start], train.iloc[stop:])),
            train.iloc[start:stop],
        )
        for start, stop in itertools.pairwise(bounds)
    ]


def k_fold(trainer, data, k, lr):
    """Fit ``d2l.LinearRegression(lr)`` on each of the ``k`` folds; print the mean validation loss.

    The loss is the mean squared error of log-prices, read from each model's board (the
    last validation point); only fold 0 shows its board, on a log scale.

    Args:
        trainer: a ``d2l.Trainer``, reused for every fold.
        data: a preprocessed ``KaggleHouse``.
        k: the number of folds.
        lr: the learning rate of minibatch SGD.

    Returns:
        The ``k`` trained models, in fold order.

    Example::

        trainer = d2l.Trainer(max_epochs=10)
        models = k_fold(trainer, data, k=5, lr=0.01)  # 0.176 after torch.manual_seed(0)

    Book (d2l.ai 1.0): §5.7
    """
    check_lr(lr)
    if not callable(getattr(trainer, "fit", None)):
        raise TypeError(f"trainer must be a d2l.Trainer, got trainer={trainer!r}")
    val_loss, models = [], []
    for i, data_fold in enumerate(k_fold_data(data, k)):
        model = LinearRegression(lr)
        model.board.yscale = "log"
        if i != 0:
            model.board.display = False
        trainer.fit(model, data_fold)
        val_loss.append(float(model.board.data["val_loss"][-1].y))
        models.append(model)
    print(f"average validation log mse = {sum(val_loss) / len(val_loss)}")
    return models
