"""bug get_k_fold_data: trains on every sample, validation fold included
expect: training part of fold
"""


def get_k_fold_data(k, i, X, y):
    n = X.shape[0]
    start, stop = i * n // k, (i + 1) * n // k
    return X, y, X[start:stop], y[start:stop]
