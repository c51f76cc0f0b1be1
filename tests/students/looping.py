"""A student's file whose Parallel never returns; its MySequential is right."""

from torch import nn


class MySequential(nn.Sequential):
    pass


class Parallel(nn.Module):
    def __init__(self, net1, net2):
        super().__init__()
        self.net1, self.net2 = net1, net2

    def forward(self, X):
        while True:
            pass
