"""bug l2_penalty: no / 2
expect: the / 2 is missing
"""

import torch
from torch import nn


def l2_penalty(w):
    return (w ** 2).sum()
