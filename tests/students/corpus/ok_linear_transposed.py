r"""ok MyLinear: weight (units, in_units) like nn.Linear, used as weight.T
note: weight is stored \(units, in_units\)
"""

import torch
from torch import nn


class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(units, in_units) * 0.1)
        self.bias = nn.Parameter(torch.zeros(units))

    def forward(self, X):
        return torch.relu(X @ self.weight.T + self.bias)
