"""ok save_load: torch.save and torch.load"""

import torch


def save(obj, path):
    torch.save(obj, path)


def load(path):
    return torch.load(path)
