"""bug MySequential: runs its blocks last to first
expect: raised RuntimeError|not what the reference gives
"""

from torch import nn


class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self._modules[str(idx)] = module

    def forward(self, X):
        for block in reversed(list(self._modules.values())):
            X = block(X)
        return X
