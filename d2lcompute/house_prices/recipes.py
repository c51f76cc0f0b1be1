"""The two house-price recipes behind one interface, for the command line and the benchmark.

A ``Recipe`` holds its documented defaults and runs on the raw Kaggle frames: ``prepare``
checks them (and does what a recipe does once for all its runs: the book's preprocessing), then
``k_fold`` and ``train_and_pred`` take the same arguments and report progress through the same
callback, ``callback(fold, epoch, train_l, valid_l)``. Change a default with
``dataclasses.replace(RECIPES["book"], num_epochs=10)``. Importing this module loads neither
torch nor pandas: the recipes' modules load on first use.
"""

import dataclasses

__all__ = ["Prepared", "Recipe", "RECIPES"]


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The checked frames, and what ``Recipe.prepare`` computed from them once (or None)."""

    train_data: object
    test_data: object
    tensors: tuple = None


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A house-price recipe: its defaults, k-fold cross-validation and a submission.

    Attributes:
        name: its key in ``RECIPES`` and the ``--recipe`` of the command.
        summary: what it does, in a sentence.
        num_epochs, learning_rate, weight_decay, batch_size: its defaults.
        options: further keyword arguments of the module's ``k_fold`` and ``train_and_pred``.

    Example::

        recipe = RECIPES["improved"]
        data = recipe.prepare(train_data, test_data)
        result = recipe.k_fold(5, data, seed=0)       # a folds.KFoldResult
        recipe.train_and_pred(data, path="submission.csv", seed=0)
    """

    name: str
    summary: str
    num_epochs: int
    learning_rate: float
    weight_decay: float
    batch_size: int
    options: dict = dataclasses.field(default_factory=dict)

    @property
    def hyper(self):
        """``(num_epochs, learning_rate, weight_decay, batch_size)``."""
        return self.num_epochs, self.learning_rate, self.weight_decay, self.batch_size

    def describe(self):
        """The recipe and its defaults, as the command's help shows them."""
        return (
            f"{self.name}: {self.summary} Defaults: --epochs {self.num_epochs} "
            f"--lr {self.learning_rate:g} --weight-decay {self.weight_decay:g} "
            f"--batch-size {self.batch_size}."
        )

    def prepare(self, train_data, test_data):
        """Check the frames (``data.check_data``), and do what the recipe does once: a
        ``Prepared``."""
        raise NotImplementedError

    def k_fold(self, k, data, *, seed=0, device=None, callback=None):
        """k-fold cross-validation on ``data`` (from ``prepare``): a ``folds.KFoldResult``."""
        raise NotImplementedError

    def train_and_pred(self, data, *, path="submission.csv", seed=0, device=None, callback=None):
        """Train on every training house and write the test predictions to ``path``; the
        training log-RMSE after each epoch."""
        raise NotImplementedError


class BookRecipe(Recipe):
    """§4.10 as written: preprocessing once over the training and test houses (``book``)."""

    def prepare(self, train_data, test_data):
        from d2lcompute.house_prices import book

        return Prepared(train_data, test_data, book.preprocess(train_data, test_data))

    def k_fold(self, k, data, *, seed=0, device=None, callback=None):
        from d2lcompute.house_prices import book

        X, _, y = (t.to(device or "cpu") for t in data.tensors)
        return book.k_fold(k, X, y, *self.hyper, seed=seed, callback=callback, **self.options)

    def train_and_pred(self, data, *, path="submission.csv", seed=0, device=None, callback=None):
        from d2lcompute.house_prices import book

        X, X_test, y = (t.to(device or "cpu") for t in data.tensors)
        return book.train_and_pred(
            X,
            X_test,
            y,
            data.test_data,
            *self.hyper,
            path=path,
            seed=seed,
            callback=callback,
            **self.options,
        )


class ImprovedRecipe(Recipe):
    """Preprocessing fitted inside each fold, so ``prepare`` only checks (``improved``)."""

    def prepare(self, train_data, test_data):
        from d2lcompute.house_prices.data import check_data

        check_data(train_data, test_data)
        return Prepared(train_data, test_data)

    def k_fold(self, k, data, *, seed=0, device=None, callback=None):
        from d2lcompute.house_prices import improved

        return improved.k_fold(
            k,
            data.train_data,
            *self.hyper,
            seed=seed,
            device=device,
            callback=callback,
            **self.options,
        )

    def train_and_pred(self, data, *, path="submission.csv", seed=0, device=None, callback=None):
        from d2lcompute.house_prices import improved

        return improved.train_and_pred(
            data.train_data,
            data.test_data,
            *self.hyper,
            path=path,
            seed=seed,
            device=device,
            callback=callback,
            **self.options,
        )


RECIPES = {
    "improved": ImprovedRecipe(
        "improved",
        "preprocessing fitted inside each fold, log1p target, whole-house features, skewed "
        "columns logged, an MLP with dropout stopped early on a holdout of the training fold, "
        "3 seeds, blended with a lasso whose penalty is chosen inside the fold: about 0.119 "
        "valid log-RMSE, tens of seconds on a laptop CPU.",
        num_epochs=300,
        learning_rate=1e-3,
        weight_decay=0.01,
        batch_size=64,
    ),
    "book": BookRecipe(
        "book",
        "the section as written: standardised features, one-hot categories (331 features), "
        "nn.Linear trained by Adam on prices: about 0.17 valid log-RMSE, a few seconds.",
        num_epochs=100,
        learning_rate=5.0,
        weight_decay=0.0,
        batch_size=64,
    ),
}
