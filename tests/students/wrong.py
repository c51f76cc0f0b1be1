"""A student's file with the classic mistakes: a list-stored MySequential, MyLinear through
.data, a dropout that forgets to rescale; and the book's fold split that drops samples, which
is the book's own code: a note, not a failure."""

import torch
from torch import nn


class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        self.blocks = list(args)  # a plain list: nn.Module cannot see the blocks

    def forward(self, X):
        for block in self.blocks:
            X = block(X)
        return X


class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units))

    def forward(self, X):
        return torch.relu(torch.matmul(X, self.weight.data) + self.bias.data)


def dropout_layer(X, dropout):
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X  # forgets to divide by (1 - dropout)


def get_k_fold_data(k, i, X, y):
    fold_size = X.shape[0] // k  # the last n % k samples belong to no fold
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx, :], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train = torch.cat([X_train, X_part], 0)
            y_train = torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid
