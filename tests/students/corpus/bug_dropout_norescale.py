r"""bug dropout_layer: forgets to divide by 1 - p
expect: gives .* at index(.|\n)*scaled by 1 / \(1 - p\)
"""

import torch


def dropout_layer(X, dropout):
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X
