r"""ok init_normal: exactly the book's (no bias is None test)
note: bias=False\) raises AttributeError
"""

from torch import nn


def init_normal(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, mean=0, std=0.01)
        nn.init.zeros_(m.bias)
