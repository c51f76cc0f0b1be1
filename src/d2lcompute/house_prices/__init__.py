"""Predicting house prices on Kaggle (Book: §4.10 实战Kaggle比赛：预测房价, en §5.7): the face.

``d2l.house_prices.<name>`` gives the book's names (``preprocess``, ``get_k_fold_data``,
``k_fold``, ``train_and_pred``, ``log_rmse``...), the recipes' shared parts and the English
edition's ``KaggleHouse``. The modules, each using only those above it, and of each other
only the names in its ``__all__``:

- ``data``: reading the CSVs, checking them, writing ``submission.csv``;
- ``hyper``: the four hyper-parameters both recipes take, checked;
- ``folds``: the k folds, the log-RMSE score, ``KFoldResult``;
- ``encoding``: the book's feature encoding, which both editions' ``preprocess`` share;
- ``batched``: training k models (folds, seeds) at once as one batched model;
- ``book``: the section's recipe;
- ``kaggle_house``: the English edition's §5.7 on the class API (``KaggleHouse``,
  ``k_fold_data``, ``k_fold``);
- ``preprocessor``, ``lasso`` and ``improved``: the improved recipe;
- ``recipes``: both recipes behind one interface (``RECIPES``), as the command runs them.

Names load on first use, as in the package's ``__init__``: the command line reads ``RECIPES``
without importing torch.
"""

from d2lcompute._lazy import LazyExports

# module -> public names it provides; this table is the subpackage's API.
_EXPORTS = {
    "data": [
        "NA_VALUES",
        "MAX_PRICE",
        "read_csv",
        "read_data",
        "check_data",
        "check_train_data",
        "write_submission",
    ],
    "hyper": ["check_hyper"],
    "folds": ["fold_bounds", "k_folds", "get_k_fold_data", "log_rmse_of", "KFoldResult"],
    "encoding": ["encode_features", "encode_frames"],
    "batched": ["fit_batched"],
    "book": [
        "preprocess",
        "get_net",
        "log_rmse",
        "train",
        "k_fold",
        "train_and_pred",
    ],
    # the English edition's k_fold_data and k_fold stay in their module: k_fold here is §4.10's
    "kaggle_house": ["KaggleHouse"],
    "recipes": ["Recipe", "RECIPES", "Prepared"],
}
_lazy = LazyExports(__name__, _EXPORTS, {"preprocessor", "lasso", "improved"})
__all__ = _lazy.names
__getattr__ = _lazy.getattr_for(globals())


def __dir__():
    return sorted({*globals(), *__all__, *_lazy.submodules})
