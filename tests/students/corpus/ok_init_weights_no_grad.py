"""ok init_weights: normal_ on the tensor under no_grad"""

import torch
from torch import nn


def init_weights(module):
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            module.weight.normal_(0.0, 0.01)
