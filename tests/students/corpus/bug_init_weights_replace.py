"""bug init_weights: replaces the parameter
expect: is a new tensor
"""

import torch
from torch import nn


def init_weights(m):
    if isinstance(m, nn.Linear):
        m.weight = nn.Parameter(torch.randn_like(m.weight) * 0.01)
