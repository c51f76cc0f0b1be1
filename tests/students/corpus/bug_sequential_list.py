"""bug MySequential: blocks in a plain list
expect: nn.Module cannot see
"""

from torch import nn


class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        self.layers = list(args)

    def forward(self, X):
        for layer in self.layers:
            X = layer(X)
        return X
