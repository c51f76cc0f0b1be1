"""Deferred initialisation and custom layers (Book: §5.3 延后初始化, §5.4 自定义层).

A layer is just an ``nn.Module``: :class:`CenteredLayer` has no parameters, :class:`MyLinear`
owns a weight and a bias. The book's ``MyLinear`` multiplies by ``self.weight.data``, which
hands autograd a detached copy: the layer computes the right numbers and never learns.
:func:`check_gradients` finds that mistake (and unused or frozen parameters) in one call.

Deferred initialisation is torch's ``nn.LazyLinear``: its parameters are
``UninitializedParameter`` until the first forward pass reads ``in_features`` from the input;
:func:`is_initialized` tells whether that has happened yet.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parameter import is_lazy

from d2lcompute._checks import check_int, check_module


class CenteredLayer(nn.Module):
    """Subtract the mean of the whole input: ``X - X.mean()``. No parameters.

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, same shape as the input, mean zero.

    Book: §5.4

    Example::

        >>> CenteredLayer()(torch.tensor([1.0, 2, 3, 4, 5]))
        tensor([-2., -1.,  0.,  1.,  2.])
    """

    def forward(self, X):
        return X - X.mean()


class MyLinear(nn.Module):
    r"""Fully connected layer with ReLU: :math:`y = \mathrm{relu}(xW + b)`.

    Unlike ``nn.Linear`` the weight is stored the book's way, ``(in_units, units)``, so
    ``X @ weight`` needs no transpose. ``forward`` computes with the parameters themselves
    (the book's ``.data`` version silently stops gradients).

    Args:
        in_units: size of each input sample.
        units: size of each output sample.

    Shape:
        - Input: ``(*, in_units)``.
        - Output: ``(*, units)``.

    Attributes:
        weight: learnable ``(in_units, units)`` tensor, initialised from :math:`\mathcal{N}(0, 1)`.
        bias: learnable ``(units,)`` tensor, initialised from :math:`\mathcal{N}(0, 1)`.

    Book: §5.4

    Example::

        >>> dense = MyLinear(5, 3)
        >>> dense(torch.rand(2, 5)).shape
        torch.Size([2, 3])
    """

    def __init__(self, in_units, units):
        super().__init__()
        self.in_units = check_int("in_units", in_units, min_value=1)
        self.units = check_int("units", units, min_value=1)
        self.weight = nn.Parameter(torch.empty(in_units, units))
        self.bias = nn.Parameter(torch.empty(units))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw weight then bias from N(0, 1).

        Same draws as the book's ``torch.randn(in_units, units)`` then ``torch.randn(units,)``,
        so a seeded run shows the book's numbers. (``nn.Linear`` instead uses a uniform
        init scaled by ``1/sqrt(in_features)``, gentler for deep stacks.)
        """
        nn.init.normal_(self.weight)
        nn.init.normal_(self.bias)

    def forward(self, X):
        if X.dim() == 0 or X.shape[-1] != self.in_units:
            raise ValueError(
                f"MyLinear(in_units={self.in_units}) expects inputs whose last "
                f"dimension is {self.in_units}, got X of shape {tuple(X.shape)}"
            )
        linear = torch.matmul(X, self.weight) + self.bias
        return F.relu(linear)

    def extra_repr(self):
        return f"in_units={self.in_units}, units={self.units}"


def is_initialized(model):
    """Return True once no parameter or buffer of ``model`` is still lazy (uninitialised).

    A model built from ``nn.LazyLinear`` and friends is not initialised until its first
    forward pass; until then its parameters have no shape.

    Book: §5.3

    Example::

        >>> net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
        >>> is_initialized(net)
        False
        >>> _ = net(torch.rand(2, 20))
        >>> is_initialized(net), net[0].weight.shape
        (True, torch.Size([256, 20]))
    """
    check_module("model", model)
    tensors = [*model.parameters(), *model.buffers()]
    return not any(is_lazy(t) for t in tensors)
