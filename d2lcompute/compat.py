"""The book's backend aliases: ``d2l.reshape``, ``d2l.tensor``, ``d2l.float32``, ...

The book writes one text for MXNet, PyTorch and TensorFlow, so its cells call
framework-neutral names that each backend's ``d2l`` module maps onto its own API
(``d2l/torch.py``, "Alias defined in config.ini"). This module is that mapping for
PyTorch, kept in one corner: code inside the package calls torch directly.

Plain torch functions and dtypes are re-exported as they are, so they keep torch's
signatures and docstrings. The book's lambdas become small functions with the same
arguments. Two changes from the book, both invisible to book code: ``numpy`` moves
the tensor to the CPU first (so it also works on GPU tensors), and ``meshgrid``
passes torch's current default ``indexing="ij"`` explicitly, which silences the
warning torch gives when it is left out.

Book: ``d2l/torch.py``, "Alias defined in config.ini".
"""

import torch
from torch import nn

nn_Module = nn.Module

ones = torch.ones
zeros = torch.zeros
tensor = torch.tensor
arange = torch.arange
sin = torch.sin
sinh = torch.sinh
cos = torch.cos
cosh = torch.cosh
tanh = torch.tanh
linspace = torch.linspace
exp = torch.exp
log = torch.log
normal = torch.normal
rand = torch.rand
randn = torch.randn
matmul = torch.matmul
int32 = torch.int32
float32 = torch.float32
concat = torch.cat
stack = torch.stack
abs = torch.abs  # the book's name; it shadows the builtin only inside this module
eye = torch.eye


def meshgrid(*tensors, indexing="ij"):
    """``torch.meshgrid`` with the indexing torch uses by default, passed explicitly."""
    return torch.meshgrid(*tensors, indexing=indexing)


def numpy(x, *args, **kwargs):
    """``x`` as a NumPy array, detached from autograd and copied to the CPU if needed."""
    return x.detach().cpu().numpy(*args, **kwargs)


def size(x, *args, **kwargs):
    """The number of elements of ``x`` (``x.numel()``)."""
    return x.numel(*args, **kwargs)


def reshape(x, *args, **kwargs):
    """``x.reshape(*args)``."""
    return x.reshape(*args, **kwargs)


def to(x, *args, **kwargs):
    """``x.to(*args)``: another device or dtype."""
    return x.to(*args, **kwargs)


def reduce_sum(x, *args, **kwargs):
    """``x.sum(*args)``; the book passes ``axis=`` as NumPy does, which torch accepts."""
    return x.sum(*args, **kwargs)


def reduce_mean(x, *args, **kwargs):
    """``x.mean(*args)``."""
    return x.mean(*args, **kwargs)


def argmax(x, *args, **kwargs):
    """``x.argmax(*args)``, e.g. ``argmax(y_hat, axis=1)``."""
    return x.argmax(*args, **kwargs)


def astype(x, *args, **kwargs):
    """``x.type(*args)``: ``x`` converted to another dtype."""
    return x.type(*args, **kwargs)


def transpose(x, *args, **kwargs):
    """``x.t()``: the transpose of a matrix (at most 2-D)."""
    return x.t(*args, **kwargs)
