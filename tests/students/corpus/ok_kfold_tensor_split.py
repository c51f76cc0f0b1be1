"""ok get_k_fold_data: torch.tensor_split (larger folds first)"""

import torch


def get_k_fold_data(k, i, X, y):
    folds = torch.arange(len(X)).tensor_split(k)
    valid = folds[i]
    train = torch.cat([fold for j, fold in enumerate(folds) if j != i])
    return X[train], y[train], X[valid], y[valid]
