"""ok init_42: fill_ on .data"""

from torch import nn


def init_42(m):
    if isinstance(m, nn.Linear):
        m.weight.data.fill_(42)
