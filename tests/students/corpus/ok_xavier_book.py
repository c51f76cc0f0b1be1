"""ok xavier: the book's"""

from torch import nn


def xavier(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)
