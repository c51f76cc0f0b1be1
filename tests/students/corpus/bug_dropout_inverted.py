r"""bug dropout_layer: keeps an element with probability p
expect: dropout_layer\(X, 0.0\) is not what the reference gives
"""

import torch


def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) < dropout).float()
    return mask * X / (1.0 - dropout)
