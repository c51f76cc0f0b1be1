"""What ``nn.Module`` can see (Book: §5.1, "why `_modules` and not a Python list").

``nn.Module.__setattr__`` files every attribute you assign: an ``nn.Parameter`` goes into
``self._parameters``, an ``nn.Module`` into ``self._modules``, and ``register_buffer`` puts
a tensor into ``self._buffers``. Everything the framework does for you (``parameters()``,
``.to(device)``, ``state_dict()``, ``train()``/``eval()``, ``print(net)``) walks only
those three dicts. A layer kept in a plain list, or a tensor kept as a plain attribute,
still works in ``forward`` but is invisible to all of them.

- ``find_unregistered``: the modules, parameters and tensors a model holds where
  PyTorch cannot see them, each with its fix.
- ``module_internals``: a readable view of one module's three dicts.
"""

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.prune import BasePruningMethod
from torch.nn.utils.spectral_norm import SpectralNorm
from torch.nn.utils.weight_norm import WeightNorm

from d2lcompute._checks import check_module
from d2lcompute._modules import walk_modules

# Attributes every nn.Module carries for its own bookkeeping (the three dicts, hooks, ...).
_TORCH_ATTRIBUTES = frozenset(vars(nn.Module()))


@dataclass(frozen=True)
class Unregistered:
    """One thing PyTorch cannot see: its path, ``kind`` and how to register it."""

    name: str  # qualified path, e.g. "layers[0]" or "block.cache['w']"
    kind: str  # "module", "parameter" or "tensor"
    fix: str  # one sentence

    def __str__(self):
        return f"{self.name} ({self.kind}): {self.fix}"


class UnregisteredReport(list):
    """The list of :class:`Unregistered` items; empty (and falsy) for a clean model."""

    def __str__(self):
        if not self:
            return "No unregistered modules, parameters or tensors: nn.Module sees everything."
        return "\n".join(str(item) for item in self)

    def _repr_pretty_(self, printer, cycle):  # IPython/Jupyter shows the readable form
        printer.text(str(self))


def find_unregistered(model):
    """Find modules, parameters and tensors that ``model`` holds where PyTorch cannot see them.

    Looks at the attributes of ``model`` and of every submodule: plain tensor attributes
    (neither parameter nor buffer), and modules, parameters or tensors inside plain
    lists, tuples and dicts (nested too). Such things work in ``forward`` but are missing
    from ``parameters()`` (so the optimizer never trains them), ``.to(device)``,
    ``state_dict()``, ``train()``/``eval()`` and ``print(net)``. An object that is
    registered elsewhere in the model (a list of aliases of registered layers) is
    visible, so it is not reported; neither are non-tensor attributes (numbers, strings,
    functions).

    Args:
        model: the ``nn.Module`` to inspect.

    Returns:
        An :class:`UnregisteredReport`: a list of items with ``.name`` (qualified path,
        e.g. ``"layers[0]"`` or ``"block.cache['w']"``), ``.kind`` (``"module"``,
        ``"parameter"`` or ``"tensor"``) and ``.fix`` (one sentence); falsy when empty;
        ``str(report)`` gives one line per item.

    Book: §5.1, exercise 1.

    Example::

        >>> from d2lcompute.blocks import ListMLP
        >>> print(find_unregistered(ListMLP()))   # doctest: +NORMALIZE_WHITESPACE
        layers[0] (module): make `layers` an nn.ModuleList so that parameters(), .to() and
        state_dict() see its modules.
        layers[1] (module): make `layers` an nn.ModuleList so that parameters(), .to() and
        state_dict() see its modules.
        layers[2] (module): make `layers` an nn.ModuleList so that parameters(), .to() and
        state_dict() see its modules.
    """
    modules = list(walk_modules(model))
    registered = set()
    for _, module in modules:
        registered.add(id(module))
        registered.update(id(p) for p in module._parameters.values() if p is not None)
        registered.update(id(b) for b in module._buffers.values() if b is not None)

    report = UnregisteredReport()
    for prefix, module in modules:
        skip = _TORCH_ATTRIBUTES | _hook_managed_attributes(module)
        for attr, value in vars(module).items():
            if attr not in skip:
                path = f"{prefix}.{attr}" if prefix else attr
                report.extend(_scan_attribute(attr, path, value, registered))
    return report


def _hook_managed_attributes(module):
    # weight_norm / spectral_norm (the hook versions) and pruning (`weight` from `weight_orig`
    # and `weight_mask`) recompute `weight` from registered tensors before every forward and
    # store it as a plain attribute: torch's design, not a mistake.
    hooks = module._forward_pre_hooks.values()
    return {hook.name for hook in hooks if isinstance(hook, (WeightNorm, SpectralNorm))} | {
        hook._tensor_name for hook in hooks if isinstance(hook, BasePruningMethod)
    }


def _scan_attribute(attr, path, value, registered):
    """Items for one attribute, looking inside nested lists, tuples and dicts."""
    items = []
    seen_containers = set()
    # (path, value, type of the outermost container, how many containers deep)
    stack = [(path, value, None, 0)]
    while stack:
        path, value, outer, depth = stack.pop()
        if isinstance(value, (nn.Module, torch.Tensor)):
            if id(value) not in registered:
                kind = _kind(value)
                items.append(Unregistered(path, kind, _fix(attr, kind, outer, depth)))
        elif isinstance(value, (list, tuple, dict)) and id(value) not in seen_containers:
            seen_containers.add(id(value))
            entries = value.items() if isinstance(value, dict) else enumerate(value)
            children = [
                (f"{path}[{key!r}]", child, outer or type(value), depth + 1)
                for key, child in entries
            ]
            stack.extend(reversed(children))
    return items


def _kind(value):
    if isinstance(value, nn.Module):
        return "module"
    return "parameter" if isinstance(value, nn.Parameter) else "tensor"


def _fix(attr, kind, outer, depth):
    nested = " (nest the same containers for the inner levels)" if depth > 1 else ""
    if outer is None:  # stored directly as an attribute
        return {
            "module": f"register it with self.add_module({attr!r}, module).",
            "parameter": f"register it with self.register_parameter({attr!r}, param).",
            "tensor": (
                f"use self.register_buffer({attr!r}, tensor) for a constant that must "
                f"follow .to() and state_dict(), or nn.Parameter if it should be learned."
            ),
        }[kind]
    in_dict = issubclass(outer, dict)
    seen_by = "so that parameters(), .to() and state_dict() see"
    if kind == "module":
        if in_dict:
            return (
                f"make `{attr}` an nn.ModuleDict (or add each module with "
                f"self.add_module(name, module)) {seen_by} its modules{nested}."
            )
        return f"make `{attr}` an nn.ModuleList {seen_by} its modules{nested}."
    if kind == "parameter":
        return (
            f"make `{attr}` an nn.Parameter{'Dict' if in_dict else 'List'} {seen_by} "
            f"its parameters{nested}."
        )
    return (
        f"register each tensor in `{attr}` with self.register_buffer(name, tensor), or "
        f"keep them as nn.Parameter in an nn.Parameter{'Dict' if in_dict else 'List'} "
        f"if they should be learned."
    )


@dataclass(frozen=True)
class ModuleInternals:
    """A module's own ``_parameters``, ``_buffers`` and ``_modules`` (copies of the dicts)."""

    owner: str
    parameters: dict
    buffers: dict
    modules: dict
    non_persistent: frozenset

    def __str__(self):
        lines = [self.owner]
        sections = (
            ("_parameters", self.parameters),
            ("_buffers", self.buffers),
            ("_modules", self.modules),
        )
        for title, entries in sections:
            if not entries:
                lines.append(f"  {title}: (empty)")
                continue
            lines.append(f"  {title}:")
            width = max(len(name) for name in entries)
            for name, value in entries.items():
                lines.append(f"    {name:<{width}}  {self._describe(name, value)}")
        return "\n".join(lines)

    __repr__ = __str__

    def _describe(self, name, value):
        if value is None:
            return "None"
        if isinstance(value, nn.Module):
            return f"{type(value).__name__}({value.extra_repr()})"
        text = (
            f"{type(value).__name__} {list(value.shape)} {str(value.dtype).removeprefix('torch.')}"
        )
        if isinstance(value, nn.Parameter):
            return f"{text} requires_grad={value.requires_grad}"
        if name in self.buffers:
            return f"{text} {'non-persistent' if name in self.non_persistent else 'persistent'}"
        return text


def module_internals(module):
    """Show where ``nn.Module.__setattr__`` filed the attributes of ``module``.

    Only the module's own entries: a submodule's parameters live in the submodule's
    ``_parameters`` (a ``nn.Sequential`` has an empty ``_parameters``).

    Args:
        module: an ``nn.Module``.

    Returns:
        A :class:`ModuleInternals` whose ``.parameters``, ``.buffers`` and ``.modules``
        are copies of the three dicts, and whose ``str()`` lists names with shapes/types.

    Example::

        >>> print(module_internals(nn.Linear(20, 256)))
        Linear
          _parameters:
            weight  Parameter [256, 20] float32 requires_grad=True
            bias    Parameter [256] float32 requires_grad=True
          _buffers: (empty)
          _modules: (empty)
    """
    check_module("module", module)
    return ModuleInternals(
        owner=type(module).__name__,
        parameters=dict(module._parameters),
        buffers=dict(module._buffers),
        modules=dict(module._modules),
        non_persistent=frozenset(module._non_persistent_buffers_set),
    )
