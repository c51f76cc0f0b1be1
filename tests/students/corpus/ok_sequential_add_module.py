"""ok MySequential: add_module with names of its own
note: differ from nn.Sequential
"""

from torch import nn


class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for i, block in enumerate(args):
            self.add_module(f"layer{i}", block)

    def forward(self, X):
        for block in self.children():
            X = block(X)
        return X
