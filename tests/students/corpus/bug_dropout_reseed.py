"""bug dropout_layer: torch.manual_seed(42) inside
expect: two calls drop exactly the same elements(.|\n)*manual_seed
"""

import torch


def dropout_layer(X, dropout):
    torch.manual_seed(42)  # "so my results are reproducible"
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)
