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

Names (listed in ``__init__.pyi``) load on first use, as in the package's: the command
line reads ``RECIPES`` without importing torch.
"""

from d2lcompute._lazy import attach_stub

__getattr__, __dir__, __all__ = attach_stub(__name__, __file__)
