"""bug get_k_fold_data: always validates on the first fold
expect: do not use every sample exactly once
"""


def get_k_fold_data(k, i, X, y):
    fold_size = X.shape[0] // k
    return X[fold_size:], y[fold_size:], X[:fold_size], y[:fold_size]
