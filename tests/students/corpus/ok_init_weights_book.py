"""ok init_weights: the book's (type(m) == nn.Linear)"""

from torch import nn


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)
