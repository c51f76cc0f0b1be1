"""bug save_load: always writes ./x-file
expect: ignore their path argument
"""

import torch
from torch import nn


def save(obj, path):
    torch.save(obj, "x-file")


def load(path):
    return torch.load("x-file")
