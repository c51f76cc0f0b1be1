"""ok l2_penalty: the book's"""

import torch


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2
