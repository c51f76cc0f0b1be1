"""ok get_k_fold_data: the last fold takes the leftover rows
note: the last fold takes the n % k leftover
"""

import torch


def get_k_fold_data(k, i, X, y):
    n = X.shape[0]
    fold_size = n // k
    start = i * fold_size
    stop = n if i == k - 1 else start + fold_size
    X_valid, y_valid = X[start:stop], y[start:stop]
    X_train = torch.cat([X[:start], X[stop:]])
    y_train = torch.cat([y[:start], y[stop:]])
    return X_train, y_train, X_valid, y_valid
