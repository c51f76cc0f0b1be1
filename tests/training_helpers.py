"""Tiny fixtures for the loop tests: a 3-class problem small enough to train in milliseconds."""

import torch
from torch import nn


def classification_data(n=96, num_inputs=8, num_classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, num_inputs, generator=g)
    y = (X[:, :num_classes].argmax(dim=1)).long()  # learnable labels
    return X, y


def batches(X, y, batch_size=32):
    """A fixed, re-iterable list of batches: the oracle loops see exactly the same ones."""
    return [(X[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(X), batch_size)]


def small_net(dropout=0.0, seed=0):
    """Two nets made with the same seed start equal; seed=None draws from the global RNG."""
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


def assert_same_params(net_a, net_b):
    for (name, a), b in zip(net_a.named_parameters(), net_b.parameters()):
        torch.testing.assert_close(a, b, msg=name)


class DeviceSpy(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 3)
        self.moved_to, self.batch_devices = [], set()

    def to(self, *args, **kwargs):
        self.moved_to.append(torch.device(args[0]))
        return super().to(*args, **kwargs)

    def forward(self, X):
        self.batch_devices.add(X.device)
        return self.linear(X)
