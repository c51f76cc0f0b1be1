"""bug dropout_layer: keeps an element with probability p
expect: drops a fraction|gives .* at index
"""

import torch
from torch import nn


def dropout_layer(X, dropout):
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) < dropout).float()
    return mask * X / (1.0 - dropout)
