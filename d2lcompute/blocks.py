"""Layers and blocks (Book: §5.1, 层和块).

A *block* is anything that maps inputs to outputs and owns parameters: one layer, a group
of layers, or a whole model. In PyTorch every block is an ``nn.Module``. In the order of
the section:

- ``MLP``: a block written by hand (20 -> 256 -> ReLU -> 10).
- ``MySequential``: ``nn.Sequential`` rebuilt, to show why children go into ``_modules``.
- ``FixedHiddenMLP``: arbitrary Python in ``forward``, with a constant (buffer) weight.
- ``NestMLP`` and ``chimera()``: blocks nested in blocks.
- The exercises: ``ListMLP`` (layers in a plain list, the pitfall), ``Parallel``
  (two nets side by side, outputs concatenated) and ``repeat_block`` (a factory of blocks).

Relies on torch only; :mod:`d2lcompute.diagnostics.registration` explains what ``nn.Module``
can see.
"""

import reprlib

import torch
from torch import nn
from torch.nn import functional as F

from d2lcompute._checks import check_int, check_module


class MLP(nn.Module):
    """The book's hand-written multilayer perceptron: 20 -> 256 -> ReLU -> 10.

    Assigning ``self.hidden = nn.Linear(...)`` registers the layer as a child block, so
    its parameters show up in ``parameters()`` without further work.

    Shape:
        - Input: ``(N, 20)``
        - Output: ``(N, 10)``, unnormalised scores (no softmax)

    Book: §5.1.1

    Example::

        >>> MLP()(torch.rand(2, 20)).shape
        torch.Size([2, 10])
    """

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 256)
        self.out = nn.Linear(256, 10)

    def forward(self, X):
        # The functional ReLU: it has no parameters, so it need not be a registered layer.
        return self.out(F.relu(self.hidden(X)))


class MySequential(nn.Module):
    """A minimal ``nn.Sequential``: runs its blocks one after the other.

    Each block is stored in ``self._modules`` (an ordered dict) under the key ``str(idx)``,
    which is exactly what ``nn.Sequential`` and ``add_module`` do. Because the blocks are
    registered there, ``parameters()``, ``.to(device)``, ``state_dict()`` (keys such as
    ``"0.weight"``) and ``print(net)`` all find them. String keys matter: keying by the
    block object itself, as some notes do, breaks ``state_dict`` names and printing.
    Kept in a plain Python list instead, the blocks would be invisible (see :class:`ListMLP`).

    Supports ``len(net)``, ``net[i]`` (negative too; a slice gives a ``MySequential`` of
    the same blocks) and ``for block in net``.

    Args:
        *args: the blocks (``nn.Module`` instances), in the order they run.

    Shape:
        - Input: whatever the first block takes
        - Output: whatever the last block returns

    Book: §5.1.2

    Example::

        >>> net = MySequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
        >>> net(torch.rand(2, 20)).shape, len(net), net[-1]
        (torch.Size([2, 10]), 3, Linear(in_features=256, out_features=10, bias=True))
    """

    def __init__(self, *args):
        super().__init__()
        for idx, block in enumerate(args):
            if not isinstance(block, nn.Module):
                raise TypeError(
                    f"MySequential takes nn.Module blocks, got argument {idx} = "
                    f"{reprlib.repr(block)} ({type(block).__name__})"
                )
            self._modules[str(idx)] = block

    def forward(self, X):
        # _modules is ordered: blocks run in the order they were given.
        for block in self._modules.values():
            X = block(X)
        return X

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        blocks = list(self._modules.values())
        if isinstance(idx, slice):
            return MySequential(*blocks[idx])
        check_int("idx", idx)
        if not -len(blocks) <= idx < len(blocks):
            raise IndexError(
                f"index {idx} is out of range for MySequential with "
                f"{len(blocks)} blocks (valid: {-len(blocks)} to {len(blocks) - 1})"
            )
        return blocks[idx]


class FixedHiddenMLP(nn.Module):
    """A block whose ``forward`` mixes layers, a constant weight and Python control flow.

    ``rand_weight`` is a constant: drawn once at construction, never trained. It is
    registered as a *persistent buffer* rather than kept as a plain tensor attribute (the
    book's way), because a buffer

    - follows ``.to(device)``: a plain attribute would stay on the CPU and the matrix
      product would fail on a GPU;
    - is kept by ``state_dict()``: the weight is random, so a reloaded copy must restore it
      to compute the same function (a non-persistent buffer would be redrawn);
    - is not in ``parameters()``, so no optimizer ever changes it.

    Shape:
        - Input: ``(N, 20)``
        - Output: ``()``, a scalar (the sum of the halved outputs)

    Book: §5.1.3

    Example::

        >>> FixedHiddenMLP()(torch.rand(2, 20)).shape
        torch.Size([])
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("rand_weight", torch.rand(20, 20))
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(torch.mm(X, self.rand_weight) + 1)
        # Reusing the same layer: the two "layers" share their parameters.
        X = self.linear(X)
        # Halving an infinite value never ends the loop below, so stop with a message.
        if not torch.isfinite(X).all():
            raise ValueError(
                "FixedHiddenMLP: the hidden output is not finite (inf or nan); "
                "check the input X for inf/nan values"
            )
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()


class NestMLP(nn.Module):
    """A block holding an ``nn.Sequential`` and a layer: blocks nest inside blocks.

    Shape:
        - Input: ``(N, 20)``
        - Output: ``(N, 16)``

    Book: §5.1.3
    """

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        return self.linear(self.net(X))


def chimera():
    """The book's mix of blocks: ``nn.Sequential(NestMLP(), nn.Linear(16, 20), FixedHiddenMLP())``.

    Shape:
        - Input: ``(N, 20)``
        - Output: ``()``, a scalar

    Book: §5.1.3
    """
    return nn.Sequential(NestMLP(), nn.Linear(16, 20), FixedHiddenMLP())


class ListMLP(nn.Module):
    """The counter-example: the ``MLP`` with its layers kept in a plain Python list.

    ``forward`` works, yet ``nn.Module`` never sees the layers: ``__setattr__`` registers
    only ``nn.Module``/``nn.Parameter`` values, and a ``list`` is neither. So
    ``parameters()`` is empty (an optimizer gets nothing to train), ``.to(device)`` leaves
    the layers where they are, ``state_dict()`` saves nothing, ``train()``/``eval()`` do
    not reach them, and ``print(net)`` shows no layers. The fix is ``nn.ModuleList``
    (a list that registers its items) or ``nn.Sequential``;
    :func:`d2lcompute.diagnostics.find_unregistered` finds such mistakes.

    Shape:
        - Input: ``(N, 20)``
        - Output: ``(N, 10)``

    Book: §5.1, exercise 1

    Example::

        >>> net = ListMLP()
        >>> net(torch.rand(2, 20)).shape, len(list(net.parameters()))
        (torch.Size([2, 10]), 0)
    """

    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10)]  # the mistake

    def forward(self, X):
        for layer in self.layers:
            X = layer(X)
        return X


class Parallel(nn.Module):
    """Two blocks side by side: both see the same input, their outputs are concatenated.

    Args:
        net1, net2: the two blocks (``nn.Module``).
        dim: the dimension along which the outputs are concatenated (default 1, the
            feature dimension of ``(N, features)`` outputs).

    Shape:
        - Input: whatever both blocks take
        - Output: ``torch.cat((net1(X), net2(X)), dim)``; e.g. ``(N, q1)`` and ``(N, q2)``
          give ``(N, q1 + q2)``. All other dimensions of the two outputs must agree.

    Book: §5.1, exercise 2

    Example::

        >>> Parallel(nn.Linear(20, 3), nn.Linear(20, 5))(torch.rand(2, 20)).shape
        torch.Size([2, 8])
    """

    def __init__(self, net1, net2, dim=1):
        super().__init__()
        self.net1 = check_module("net1", net1)
        self.net2 = check_module("net2", net2)
        self.dim = check_int("dim", dim)

    def forward(self, X):
        Y1, Y2 = self.net1(X), self.net2(X)
        self._check_concatenable(Y1, Y2)
        return torch.cat((Y1, Y2), dim=self.dim)

    def _check_concatenable(self, Y1, Y2):
        shapes = f"net1 gave shape {tuple(Y1.shape)}, net2 gave shape {tuple(Y2.shape)}"
        problem = None
        if Y1.dim() != Y2.dim():
            problem = "the outputs have different numbers of dimensions"
        elif Y1.dim() == 0:
            problem = "scalar outputs have no dimension to concatenate along"
        elif not -Y1.dim() <= self.dim < Y1.dim():
            problem = f"the outputs have only {Y1.dim()} dimensions"
        else:
            dim = self.dim % Y1.dim()
            if [s for i, s in enumerate(Y1.shape) if i != dim] != [
                s for i, s in enumerate(Y2.shape) if i != dim
            ]:
                problem = f"all dimensions except dim={self.dim} must match"
        if problem:
            raise ValueError(
                f"Parallel cannot concatenate the outputs along dim={self.dim}: {shapes}; {problem}"
            )

    def extra_repr(self):
        return f"dim={self.dim}"


def repeat_block(block_factory, n, shared=False):
    """Build a bigger net, an ``nn.Sequential`` of ``n`` blocks made by ``block_factory``.

    Args:
        block_factory: a callable with no arguments returning an ``nn.Module``, e.g.
            ``lambda: nn.Sequential(nn.Linear(8, 8), nn.ReLU())`` or the class ``MLP``.
        n: how many blocks (a positive integer).
        shared: if ``False`` (default) the factory is called ``n`` times, giving ``n``
            independent parameter sets; if ``True`` it is called once and that one block
            is used ``n`` times, so all uses share (are tied to) one parameter set.

    Shape:
        - Input/Output: those of the block; its output must fit its own input.

    Book: §5.1, exercise 3

    Example::

        >>> make = lambda: nn.Linear(8, 8)
        >>> sum(p.numel() for p in repeat_block(make, 3).parameters())
        216
        >>> sum(p.numel() for p in repeat_block(make, 3, shared=True).parameters())
        72
    """
    if isinstance(block_factory, nn.Module):  # callable too, but calling it runs forward
        raise TypeError(
            f"block_factory must build a new block when called, e.g. "
            f"lambda: nn.Linear(8, 8); got the module {block_factory!r} itself"
        )
    if not callable(block_factory):
        raise TypeError(
            f"block_factory must be a callable returning an nn.Module, got "
            f"block_factory={block_factory!r} ({type(block_factory).__name__})"
        )
    n = check_int("n", n, min_value=1)
    if not isinstance(shared, bool):
        raise TypeError(f"shared must be True or False, got shared={shared!r}")
    if shared:
        # The same object n times: nn.Sequential registers it under each index.
        return nn.Sequential(*[_make_block(block_factory)] * n)
    blocks = []
    for _ in range(n):
        block = _make_block(block_factory)
        # A factory like `lambda: layer` hands back one object: silent sharing.
        if any(block is earlier for earlier in blocks):
            raise ValueError(
                "block_factory returned the same module twice; it must build "
                "a new block on each call (or pass shared=True to share one)"
            )
        blocks.append(block)
    return nn.Sequential(*blocks)


def _make_block(block_factory):
    block = block_factory()
    if not isinstance(block, nn.Module):
        raise TypeError(
            f"block_factory must return an nn.Module, got {reprlib.repr(block)} "
            f"({type(block).__name__})"
        )
    return block
