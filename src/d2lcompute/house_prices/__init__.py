"""Predicting house prices on Kaggle (Book: §4.10, 实战Kaggle比赛：预测房价): the public face.

``d2l.house_prices.<name>`` gives the book's names (``preprocess``, ``get_k_fold_data``,
``k_fold``, ``train_and_pred``, ``log_rmse``...) and the recipes' shared parts. The modules,
each using only those above it:

- ``data``: reading the CSVs, checking them, writing ``submission.csv``;
- ``folds``: the k folds, the log-RMSE score, ``KFoldResult``;
- ``batched``: training k models (folds, seeds) at once as one batched model;
- ``book``: the section's recipe; ``preprocessor``, ``lasso`` and ``improved``: the improved
  recipe;
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
    "folds": ["fold_bounds", "k_folds", "get_k_fold_data", "log_rmse_of", "KFoldResult"],
    "batched": ["fit_batched"],
    "book": [
        "encode_features",
        "preprocess",
        "get_net",
        "log_rmse",
        "train",
        "k_fold",
        "train_and_pred",
    ],
    "recipes": ["Recipe", "RECIPES", "Prepared"],
}
_lazy = LazyExports(__name__, _EXPORTS, {"preprocessor", "lasso", "improved"})
__all__ = _lazy.names
__getattr__ = _lazy.getattr_for(globals())


def __dir__():
    return sorted({*globals(), *__all__, *_lazy.submodules})
