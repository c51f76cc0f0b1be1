"""bug init_constant: weights 0
expect: do not look like init_constant
"""

from torch import nn


def init_constant(m):
    if type(m) == nn.Linear:
        nn.init.zeros_(m.weight)
        nn.init.zeros_(m.bias)
