"""bug save_load: saves tensors as Python lists
expect: not what the reference gives
"""

import json

import torch


def save(obj, path):
    with open(path, "w") as f:
        json.dump(obj.tolist() if isinstance(obj, torch.Tensor) else str(obj), f)


def load(path):
    with open(path) as f:
        return json.load(f)
