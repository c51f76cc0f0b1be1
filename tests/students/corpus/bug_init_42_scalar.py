"""bug init_42: replaces the weight by a 0-d tensor
expect: changes shape or dtype(.|\n)*0-d
"""

import torch
from torch import nn


def init_42(m):
    if type(m) == nn.Linear:
        m.weight.data = torch.tensor(42.0)
