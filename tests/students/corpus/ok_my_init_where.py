"""ok my_init: torch.where under no_grad"""

import torch
from torch import nn


def my_init(m):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            w = torch.empty_like(m.weight).uniform_(-10, 10)
            m.weight.copy_(torch.where(w.abs() >= 5, w, torch.zeros_like(w)))
