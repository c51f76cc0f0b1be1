"""bug xavier: xavier_normal_ instead of uniform
expect: do not look like xavier
"""

from torch import nn


def xavier(m):
    if type(m) == nn.Linear:
        nn.init.xavier_normal_(m.weight)
