"""bug init_weights: std 0.1 instead of 0.01
expect: do not look like init_weights
"""

from torch import nn


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.1)
