r"""ok MySequential: blocks in an nn.ModuleList
note: keys \['blocks.0.weight'
"""

from torch import nn


class MySequential(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.blocks = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.blocks:
            x = layer(x)
        return x
