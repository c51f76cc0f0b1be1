"""Which parameters learn: one forward and backward pass, every parameter's gradient checked.

The book's ``MyLinear`` (§5.4) multiplies by ``self.weight.data``, which hands autograd a
detached copy: the layer computes the right numbers and never learns. ``check_gradients``
finds that mistake, and unused, frozen or dead parameters, in one call.
"""

from collections import namedtuple

import torch
from torch.nn.parameter import is_lazy
from torch.overrides import TorchFunctionMode

from d2lcompute._checks import check_module

GradientIssue = namedtuple("GradientIssue", "name shape problem cause")
GradientIssue.__doc__ = "One parameter that got no useful gradient: name, shape, problem, cause."

_CAUSES = {
    "frozen": "requires_grad=False: no gradient is computed and the optimizer will not train it",
    "detached": "used in forward but not tracked by autograd: computed with .data, .detach() "
    "or under torch.no_grad()",
    "unused": "unused in forward: no operation read it (a layer created but never called?)",
    "zero": "all-zero gradient: the checked scalar does not change with it here (dead ReLUs, "
    "or a constant output sum, e.g. after X - X.mean(); try loss_fn=)",
    "non-finite": "gradient holds NaN or inf: an overflow or an invalid operation upstream",
}


class GradientReport(list):
    """The :class:`GradientIssue` entries found by :func:`check_gradients`; empty if healthy."""

    def __init__(self, issues, num_parameters):
        super().__init__(issues)
        self.num_parameters = num_parameters

    def __str__(self):
        if not self:
            return f"all {self.num_parameters} parameters received non-zero, finite gradients"
        lines = [f"{len(self)} of {self.num_parameters} parameters got no useful gradient:"]
        for issue in self:
            lines.append(f"  {issue.name} {issue.shape}: {issue.problem} - {issue.cause}")
        return "\n".join(lines)


def check_gradients(model, *inputs, loss_fn=None, allow_frozen=False):
    """Run one forward and backward pass and report parameters that got no useful gradient.

    Each parameter, by qualified name, is reported when it is frozen (``requires_grad=False``),
    gets no gradient at all (unused in forward, or used through ``.data``/``.detach()``/
    ``torch.no_grad()``), or gets an all-zero or non-finite gradient. Gradients are computed
    with ``torch.autograd.grad``, so no ``.grad`` (of parameters or inputs) is touched, and
    buffers such as BatchNorm running statistics are restored afterwards.

    Args:
        model: the ``nn.Module`` to check (in its current train/eval mode).
        *inputs: the arguments of ``model(*inputs)``.
        loss_fn: maps the model's output to the scalar to differentiate. Default: the sum of
            every floating-point tensor in the output (tensors, tuples, lists, dicts).
        allow_frozen: if True, parameters with ``requires_grad=False`` are not reported.

    Returns:
        A :class:`GradientReport` (a list of :class:`GradientIssue`): falsy when every
        parameter is healthy; ``print`` it for one line per problem with its likely cause.

    Example::

        >>> from torch import nn; from d2lcompute.layers import MyLinear
        >>> _ = torch.manual_seed(0)
        >>> check_gradients(nn.Sequential(MyLinear(4, 8), nn.Linear(8, 1)), torch.rand(2, 4))
        []
    """
    check_module("model", model)
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable or None, got {type(loss_fn).__name__}")
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers() if not is_lazy(b)]
    recorder = _StorageRecorder()
    try:
        with torch.enable_grad(), recorder:  # a caller's torch.no_grad() would hide every gradient
            output = model(*inputs)
            scalar = _scalar(output, loss_fn)
        # Listed after the forward pass: lazy parameters only now have shapes.
        named = list(model.named_parameters())
        trainable = [p for _, p in named if p.requires_grad]
        grads = {}
        if trainable and scalar.requires_grad:
            found = torch.autograd.grad(scalar, trainable, allow_unused=True)
            grads = {id(p): g for p, g in zip(trainable, found)}
    finally:
        with torch.no_grad():
            for buffer, value in saved_buffers:
                buffer.copy_(value)
    issues = []
    for name, p in named:
        problem = _diagnose(p, grads.get(id(p)), recorder.storages)
        if problem and not (allow_frozen and problem == "frozen"):
            issues.append(GradientIssue(name, tuple(p.shape), problem, _CAUSES[problem]))
    return GradientReport(issues, len(named))


def _diagnose(p, grad, storages_read):
    if not p.requires_grad:
        return "frozen"
    if grad is None:
        return "detached" if _storage_key(p) in storages_read else "unused"
    if not torch.isfinite(grad).all():
        return "non-finite"
    if not grad.any():
        return "zero"
    return None


def _scalar(output, loss_fn):
    if loss_fn is not None:
        value = loss_fn(output)
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"loss_fn must return a scalar tensor, got {shape}")
        return value.reshape(())
    tensors = [t for t in _tensors_in(output) if t.is_floating_point()]
    if not tensors:
        raise ValueError(
            "the model's output holds no floating-point tensor to differentiate; "
            "pass loss_fn= mapping the output to a scalar"
        )
    return sum(t.sum() for t in tensors)


def _tensors_in(value):
    """Yield the tensors inside nested tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


def _storage_key(t):
    if is_lazy(t):  # no storage until the first forward pass gives it a shape
        return None
    try:
        return (str(t.device), t.untyped_storage().data_ptr())
    except (RuntimeError, NotImplementedError):  # sparse and other storage-less tensors
        return None


class _StorageRecorder(TorchFunctionMode):
    """Record which storages the torch operations of a forward pass read.

    ``weight.data`` is a new tensor that shares ``weight``'s storage, so a parameter that gets
    no gradient although its storage was read was used outside autograd's view.
    """

    def __init__(self):
        super().__init__()
        self.storages = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        # Attribute reads (.data, .shape) are not computation; the op that follows is.
        if getattr(func, "__name__", None) != "__get__":
            keys = (_storage_key(t) for t in _tensors_in([args, kwargs]))
            self.storages.update(key for key in keys if key is not None)
        return func(*args, **kwargs)
