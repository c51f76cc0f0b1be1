"""bug dropout_layer: one mask of shape X.shape[-1] for every row
expect: every row of the batch gets the same mask
"""

import torch


def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape[-1]) > dropout).float()
    return mask * X / (1.0 - dropout)
