"""bug save_load: always writes ./x-file
expect: ignore their path argument
"""

import torch


def save(obj, path):
    torch.save(obj, "x-file")


def load(path):
    return torch.load("x-file")
