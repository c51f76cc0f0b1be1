"""ok dropout_layer: torch.bernoulli and torch.where"""

import torch


def dropout_layer(X, dropout):
    if dropout >= 1:
        return torch.zeros_like(X)
    keep = torch.bernoulli(torch.full_like(X, 1 - dropout)).bool()
    return torch.where(keep, X / (1 - dropout), torch.zeros_like(X))
