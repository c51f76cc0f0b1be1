"""ok init_42: the book's"""

from torch import nn


def init_42(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 42)
