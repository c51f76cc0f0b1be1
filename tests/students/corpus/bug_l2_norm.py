"""bug l2_penalty: the norm, not half its square
expect: that is the norm
"""

import torch


def l2_penalty(w):
    return torch.norm(w)
