"""bug MyLinear: the bias is a plain tensor
expect: wrong parameters
"""

import torch
from torch import nn


class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = torch.randn(units)

    def forward(self, X):
        return torch.relu(X @ self.weight + self.bias)
