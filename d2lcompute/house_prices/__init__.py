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

Names (listed in ``__init__.pyi``) load on first use, as in the package's: the command
line reads ``RECIPES`` without importing torch.
"""

from d2lcompute._lazy import attach_stub

__getattr__, __dir__, __all__ = attach_stub(__name__, __file__)
