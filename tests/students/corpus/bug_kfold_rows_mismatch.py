"""bug get_k_fold_data: y sliced with other indices than X
expect: rows of X and y no longer match
"""

import torch


def get_k_fold_data(k, i, X, y):
    n = X.shape[0]
    start, stop = i * n // k, (i + 1) * n // k
    X_train = torch.cat([X[:start], X[stop:]])
    y_train = torch.cat([y[stop:], y[:start]])
    return X_train, y_train, X[start:stop], y[start:stop]
