"""Parameter management (Book: §5.2, 参数管理): access, initialisation, tying.

Kept whole (~370 lines): §5.2's three parts, in the section's order, as one module.

- Access: ``parameter_table`` shows every parameter (qualified name, shape, count, dtype,
  device, requires_grad) and which names share one tensor; ``count_parameters`` counts
  each tensor once.
- Initialisation: the book's functions for ``net.apply(...)`` (``init_normal``,
  ``init_constant``, ``xavier``, ``init_42``, ``my_init``), and ``init_layers`` to apply
  any ``nn.init`` method by name.
- Tying: ``shared_net`` uses one ``nn.Linear`` twice; its gradients add up.

Walks models with :func:`d2lcompute._modules.walk_modules`, which keeps its own
stack: ``net.modules()``, ``net.parameters()`` and ``net.apply()`` recurse and raise
``RecursionError`` on a net nested a few thousand deep.
"""

import inspect
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from d2lcompute._checks import check_module
from d2lcompute._modules import walk_modules

# ----------------------------------------------------------------------------- access


@dataclass(frozen=True)
class ParameterRow:
    """One parameter tensor; ``tied`` holds the other names under which it appears."""

    name: str
    shape: tuple
    count: int
    dtype: str
    device: str
    requires_grad: bool
    tied: tuple


class ParameterTable:
    """The parameters of a model, one row per tensor; ``str()`` is the printed table.

    Attributes:
        rows: the :class:`ParameterRow` s, in ``named_parameters()`` order.
        total: number of scalars, each tied tensor counted once (the sum of ``count``).
        trainable: the part of ``total`` with ``requires_grad=True``.
    """

    HEADER = ("name", "shape", "count", "dtype", "device", "requires_grad", "tied with")

    def __init__(self, rows):
        self.rows = list(rows)
        self.total = sum(row.count for row in self.rows)
        self.trainable = sum(row.count for row in self.rows if row.requires_grad)

    def __str__(self):
        cells = [self.HEADER] + [
            (
                row.name,
                str(list(row.shape)),
                f"{row.count:,}",
                row.dtype,
                row.device,
                str(row.requires_grad),
                ", ".join(row.tied),
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in cells) for i in range(len(self.HEADER))]
        lines = []
        for line in cells[:1] + [tuple("-" * w for w in widths)] + cells[1:]:
            # The count column is right-aligned so that its digits line up.
            text = "  ".join(
                cell.rjust(w) if i == 2 else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(line, widths))
            )
            lines.append(text.rstrip())
        if not self.rows:
            lines.append("(no parameters)")
        lines.append(
            f"Total params: {self.total:,} (trainable: {self.trainable:,}, "
            f"non-trainable: {self.total - self.trainable:,})"
        )
        return "\n".join(lines)

    __repr__ = __str__  # so that a notebook cell ending in parameter_table(net) shows it


def parameter_table(model):
    """Tabulate the parameters of ``model``, showing which names share a tensor.

    A layer used twice (``shared`` in :func:`shared_net`) appears under two names, e.g.
    ``2.weight`` and ``4.weight``; the table has one row per *tensor*, named by its first
    name, and lists the other names under "tied with". So the count column adds up to
    the number of scalars the optimizer actually trains.

    Args:
        model: an ``nn.Module``.

    Returns:
        A :class:`ParameterTable`; ``print()`` it, or read ``.rows`` / ``.total``.

    Book: §5.2.1, §5.2.3

    Example::

        >>> print(parameter_table(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))))
        name      shape   count  dtype    device  requires_grad  tied with
        --------  ------  -----  -------  ------  -------------  ---------
        0.weight  [8, 4]     32  float32  cpu     True
        0.bias    [8]         8  float32  cpu     True
        2.weight  [1, 8]      8  float32  cpu     True
        2.bias    [1]         1  float32  cpu     True
        Total params: 49 (trainable: 49, non-trainable: 0)
    """
    names = {}  # id(tensor) -> every qualified name it has, in order
    tensors = {}
    for name, param in _named_parameters(model, remove_duplicate=False):
        names.setdefault(id(param), []).append(name)
        tensors[id(param)] = param
    rows = [
        ParameterRow(
            name=first,
            shape=tuple(param.shape),
            count=param.numel(),
            dtype=str(param.dtype).removeprefix("torch."),
            device=str(param.device),
            requires_grad=param.requires_grad,
            tied=tuple(rest),
        )
        for (first, *rest), param in ((names[key], tensors[key]) for key in names)
    ]
    return ParameterTable(rows)


def count_parameters(model, trainable_only=False):
    """The number of scalar parameters in ``model``, each tensor counted once.

    A tied tensor is one set of numbers, however often it is used: a net that uses one
    ``nn.Linear(8, 8)`` twice has 72 parameters from it, not 144 (the same rule as
    ``model.parameters()``).

    Args:
        model: an ``nn.Module``.
        trainable_only: if ``True``, count only parameters with ``requires_grad=True``.

    Book: §5.2

    Example::

        >>> count_parameters(nn.Linear(20, 256))
        5376
    """
    if not isinstance(trainable_only, bool):
        raise TypeError(
            f"trainable_only must be True or False, got trainable_only={trainable_only!r}"
        )
    return sum(
        p.numel()
        for _, p in _named_parameters(model, remove_duplicate=True)
        if p.requires_grad or not trainable_only
    )


def _named_parameters(model, remove_duplicate):
    """Like ``model.named_parameters()``, on an explicit stack, refusing lazy parameters."""
    seen = set()
    for prefix, module in walk_modules(model, remove_duplicate=remove_duplicate):
        for key, param in module._parameters.items():
            if param is None or (remove_duplicate and id(param) in seen):
                continue
            seen.add(id(param))
            name = f"{prefix}.{key}" if prefix else key
            if is_lazy(param):
                raise ValueError(
                    f"parameter {name!r} is not initialised yet (a lazy layer); "
                    f"run one forward pass first so its shape is known"
                )
            yield name, param


# ------------------------------------------------------------------ initialisation
# The book's functions take one module and act only on nn.Linear layers, so that
# net.apply(f) may visit every module. isinstance (the book has type(m) == nn.Linear)
# also covers subclasses of nn.Linear.


def init_normal(m):
    """Weights from N(0, 0.01^2), biases zero. Use as ``net.apply(init_normal)``.

    Book: §5.2.2
    """
    check_module("m", m)
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, mean=0, std=0.01)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def init_constant(m):
    """Weights 1, biases zero. Use as ``net.apply(init_constant)``.

    Book: §5.2.2
    """
    check_module("m", m)
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 1)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def xavier(m):
    """Xavier (Glorot) uniform weights, biases untouched: ``net[0].apply(xavier)``.

    Book: §5.2.2 (the Chinese edition calls it ``init_xavier``)
    """
    check_module("m", m)
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)


def init_42(m):
    """Weights all 42, biases untouched: ``net[2].apply(init_42)``.

    Book: §5.2.2
    """
    check_module("m", m)
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 42)


def my_init(m):
    """The book's custom initialisation: ``w ~ U(-10, 10)``, then ``w = 0`` where ``|w| < 5``.

    So a weight is 0 with probability 1/2 and otherwise uniform on ``[5, 10]`` or
    ``[-10, -5]``. The masking runs under ``torch.no_grad()``: an in-place change to a
    leaf that requires grad must not be recorded by autograd. (The book writes to
    ``m.weight.data``, which also hides the change from autograd's version checks.)
    Unlike the book, it does not print each layer it initialises.

    Book: §5.2.2
    """
    check_module("m", m)
    if isinstance(m, nn.Linear):
        nn.init.uniform_(m.weight, -10, 10)
        with torch.no_grad():
            m.weight *= m.weight.abs() >= 5


INIT_METHODS = tuple(
    sorted(name for name in dir(nn.init) if name.endswith("_") and not name.startswith("_"))
)


def init_layers(net, method, layer_types=(nn.Linear,), **kwargs):
    """Initialise the weight of every layer of the given types with an ``nn.init`` method.

    Convention: ``method`` is the name of the in-place function in ``torch.nn.init``,
    *with* its trailing underscore (``"normal_"``, ``"xavier_uniform_"``, ``"constant_"``);
    the names without it are deprecated aliases in torch and are refused. ``kwargs`` go to
    that function (``std=0.01``, ``val=42``, ``generator=...``). Biases of those layers are
    set to zero, as the book's ``init_normal`` and ``init_constant`` do. A layer used in
    several places is initialised once. Works at any nesting depth (``net.apply`` stops
    at Python's recursion limit).

    Args:
        net: the ``nn.Module`` to initialise.
        method: one of :data:`INIT_METHODS`.
        layer_types: a layer class, or a tuple of them (``nn.Module`` subclasses).
        **kwargs: keyword arguments of ``torch.nn.init.<method>``.

    Returns:
        ``net``, initialised in place.

    Book: §5.2.2

    Example::

        >>> net = init_layers(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), "constant_", val=1.0)
        >>> net[0].weight[0, 0].item(), net[0].bias[0].item()
        (1.0, 0.0)
    """
    check_module("net", net)
    if method not in INIT_METHODS:
        hint = f" (did you mean {method + '_'!r}?)" if f"{method}_" in INIT_METHODS else ""
        raise ValueError(
            f"method must be the name of an nn.init method, got "
            f"method={method!r}{hint}; valid names: {', '.join(INIT_METHODS)}"
        )
    layer_types = _check_layer_types(layer_types)
    init_fn = getattr(nn.init, method)
    try:  # check kwargs before touching any weight, so that a typo changes nothing
        inspect.signature(init_fn).bind(torch.empty(0), **kwargs)
    except TypeError as e:
        raise TypeError(f"nn.init.{method} does not accept {kwargs}: {e}") from e

    layers = [
        (name, m)
        for name, m in walk_modules(net)
        if isinstance(m, layer_types) and getattr(m, "weight", None) is not None
    ]
    if not layers:
        raise ValueError(
            f"net has no layer of type {_type_names(layer_types)} with a weight to initialise"
        )
    for name, layer in layers:
        where = f"layer {name!r}" if name else "the net itself"
        if is_lazy(layer.weight):
            raise ValueError(
                f"{where} is a lazy layer that is not initialised yet; "
                f"run one forward pass first so its shape is known"
            )
        try:
            init_fn(layer.weight, **kwargs)
        except (ValueError, RuntimeError) as e:
            raise ValueError(
                f"nn.init.{method} failed on the weight of {where} "
                f"(shape {tuple(layer.weight.shape)}): {e}"
            ) from e
        if getattr(layer, "bias", None) is not None:
            nn.init.zeros_(layer.bias)
    return net


def _check_layer_types(layer_types):
    types = layer_types if isinstance(layer_types, tuple) else (layer_types,)
    if not types or not all(isinstance(t, type) and issubclass(t, nn.Module) for t in types):
        raise TypeError(
            f"layer_types must be an nn.Module subclass or a non-empty tuple of "
            f"them, e.g. (nn.Linear, nn.Conv2d), got layer_types={layer_types!r}"
        )
    return types


def _type_names(types):
    return " or ".join(t.__name__ for t in types)


# -------------------------------------------------------------------------- tying


def shared_net():
    """The book's net with tied layers: one ``nn.Linear(8, 8)`` used at indices 2 and 4.

    ``net[2]`` and ``net[4]`` are the same object, so their parameters are the same
    tensors: changing one changes the other, and in backpropagation the gradients from
    both uses add up in the one ``.grad``.

    Shape:
        - Input: ``(N, 4)``
        - Output: ``(N, 1)``

    Book: §5.2.3

    Example::

        >>> net = shared_net()
        >>> net[2].weight is net[4].weight, count_parameters(net)
        (True, 121)
    """
    shared = nn.Linear(8, 8)
    return nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(8, 1)
    )
