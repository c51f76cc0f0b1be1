"""bug my_init: keeps the small weights instead
expect: do not look like my_init
"""

from torch import nn


def my_init(m):
    if type(m) == nn.Linear:
        nn.init.uniform_(m.weight, -10, 10)
        m.weight.data *= m.weight.data.abs() < 5
