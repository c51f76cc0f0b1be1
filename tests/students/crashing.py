"""A student's file that fails on import."""

from torch import nn


class MySequential(nn.Module):
    pass


raise RuntimeError("my training loop ran at import time and crashed")
