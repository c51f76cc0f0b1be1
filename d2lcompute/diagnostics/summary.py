"""Model summary: one table of layers, output shapes, parameter counts and memory.

``print(net)`` shows the registered layers but no shapes and no counts; torchsummary 1.5.1
(which the study notes use) adds both, yet on the book's own models it double-counts a
shared layer (193 parameters for the 121 of the tied net), crashes on a nested block that
returns a scalar or a dict and on layers kept in a plain list, and puts its input on CUDA
whenever CUDA exists, wherever the model is.
:func:`summary` fixes these. It works in three steps, like torchinfo:

- collect: one forward pass with global forward hooks records every module call (layers
  kept in a plain list too), with its caller, output shape and output size;
- aggregate: every parameter goes to exactly one visible row, so the column adds up to
  the total; a tied tensor is counted once, on its first use;
- render: ``str(ModelSummary)`` draws the table, notes and warnings.

Relies on :mod:`d2lcompute.diagnostics.registration` (``find_unregistered``); the steps
are in ``summary_collect``, ``summary_aggregate`` and ``summary_render``.
"""

import copy
import dataclasses
import itertools
import math

import torch
from torch.nn.parameter import is_lazy
from torch.nn.utils.rnn import PackedSequence

from d2lcompute._checks import check_device, check_int, check_module
from d2lcompute._seeding import generator as private_generator
from d2lcompute.diagnostics.registration import find_unregistered
from d2lcompute.diagnostics.summary_aggregate import aggregate
from d2lcompute.diagnostics.summary_collect import collect, has_forward


def summary(model, input_size=None, input_data=None, depth=3, device=None, dtypes=None, **kwargs):
    """Summarize ``model``: each layer's output shape and parameter count, totals, memory.

    Give exactly one of ``input_size`` and ``input_data``: the table comes from one forward
    pass (in eval mode, without gradients; training flags and the random number
    generator are restored afterwards). ``input_size`` is the FULL shape of the input,
    batch dimension included, i.e. ``X.shape`` for the ``X`` you would pass to ``net(X)``
    (torchinfo's convention; torchsummary instead adds a batch dimension itself).

    A tied tensor is counted once: a repeated use of a layer shows its count in
    parentheses, "(72 shared with 2)". Parameters in layers the forward pass never called
    get their own "(not called)" rows, so the column always adds up to the total. Layers
    kept where ``nn.Module`` cannot see them (a plain list) are shown with their counts in
    parentheses, left out of the totals, and listed in a warning with the fix.
    A model with uninitialized lazy layers (``nn.LazyLinear``) is copied first: the input
    initialises the copy, never your model.

    Args:
        model: the ``nn.Module`` to summarize.
        input_size: the input's shape, batch included, e.g. ``(2, 20)``; or a list of
            shapes, one per positional argument of ``forward``. Random values in [0, 1).
        input_data: a tensor (or a ``PackedSequence`` or a dataclass: one argument), a
            tuple/list of the positional arguments of ``forward``, or a dict of its keyword
            arguments (as in torchinfo). Arguments may
            nest tuples, namedtuples, lists, dicts, dataclasses and ``PackedSequence`` objects:
            each is rebuilt with its tensors on ``device``.
        depth: how many levels of nested blocks to show (0: only the model's own row).
            The counts of hidden layers are added to their visible ancestor.
        device: where the inputs go; default: the model's own device (CPU for a model
            without parameters). Must match the model's device: it is not moved.
        dtypes: with ``input_size`` only, one ``torch.dtype`` per input
            (default ``torch.float32``).
        **kwargs: keyword arguments of ``forward`` (as in torchinfo), moved to ``device``.

    A model without a ``forward`` of its own (an ``nn.ModuleList``, a module holding only
    parameters) is not run: its parameters are listed by module, with a note that
    no forward pass was run; its inputs may then be left out.
    Returns:
        A :class:`ModelSummary`: ``str()`` (or showing it in a notebook) gives the table;
        ``total_params``, ``trainable_params``, ``non_trainable_params``, ``rows``,
        ``unregistered`` and the byte counts are attributes. "MB" are 2**20 bytes.

    Book: §5.1 (looking at a model), §5.2.3 (tied parameters), §5.4 (lazy layers)

    Example::

        >>> from torch import nn
        >>> result = summary(nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10)),
        ...                  input_size=(2, 20))
        >>> result.total_params
        7946
    """
    runs = not isinstance(model, torch.nn.Module) or has_forward(model)  # checked below
    sizes, device, dtypes = _validate(model, input_size, input_data, depth, device, dtypes, runs)
    if sizes is not None:
        inputs = _make_inputs(sizes, dtypes, device)
    elif input_data is None:
        inputs = []
    elif isinstance(input_data, dict):  # keyword arguments, as in torchinfo
        inputs, kwargs = [], {**input_data, **kwargs}
    else:
        inputs = _to_device(input_data, device)
        if not isinstance(inputs, (tuple, list)) or isinstance(inputs, PackedSequence):
            inputs = (inputs,)  # one argument; a tuple or list holds forward's arguments
    kwargs = _to_device(kwargs, device)
    lazy = [
        name or type(model).__name__
        for name, m in model.named_modules()
        if any(is_lazy(p) for p in m.parameters(recurse=False))
    ]
    # Running a lazy layer initialises it; a summary must not change the user's model.
    run_model = copy.deepcopy(model) if lazy else model
    names = {}  # id(module) -> every qualified name it has (a shared layer has several)
    for name, module in run_model.named_modules(remove_duplicate=False):
        names.setdefault(id(module), []).append(name)
    root = collect(run_model, tuple(inputs), device, sizes is not None, names, kwargs)
    return aggregate(run_model, root, [*inputs, kwargs], depth, lazy, find_unregistered(model))


def _validate(model, input_size, input_data, depth, device, dtypes, runs=True):
    """Check every argument before any work; return (sizes or None, device, dtypes)."""
    check_module("model", model)
    if (input_size is None) == (input_data is None) and (runs or input_size is not None):
        given = "both were given" if input_size is not None else "neither was given"
        raise ValueError(
            f"give exactly one of input_size (e.g. input_size=(2, 20)) and "
            f"input_data (a tensor or a tuple of forward's arguments); {given}"
        )
    check_int("depth", depth, min_value=0)
    sizes = None if input_size is None else _check_sizes(input_size)
    if input_data is not None and not (
        isinstance(input_data, (torch.Tensor, tuple, list, dict)) or _is_dataclass(input_data)
    ):
        raise TypeError(
            f"input_data must be a tensor or a tuple/list of forward's "
            f"arguments, got input_data of type {type(input_data).__name__}"
        )
    if dtypes is None:
        dtypes = [torch.float32] * len(sizes or [])
    else:
        if sizes is None:
            raise ValueError("dtypes goes with input_size only; input_data has its own dtypes")
        if (
            not isinstance(dtypes, (tuple, list))
            or len(dtypes) != len(sizes)
            or not all(isinstance(d, torch.dtype) for d in dtypes)
        ):
            raise ValueError(
                f"dtypes must be a list of {len(sizes)} torch.dtype (one per "
                f"input in input_size), got dtypes={dtypes!r}"
            )
        dtypes = list(dtypes)
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    model_device = torch.device("cpu") if first is None else first.device
    if device is None:
        return sizes, model_device, dtypes
    device = check_device("device", device)
    if first is None:  # nothing to move: the inputs may go anywhere
        return sizes, device, dtypes
    if device.type != model_device.type or device.index not in (None, model_device.index):
        raise ValueError(
            f"the model is on {model_device}, but device={str(device)!r}; move "
            f"it with model.to({str(device)!r}) or leave device=None (summary "
            f"runs on the model's own device)"
        )
    return sizes, model_device, dtypes


def _check_sizes(input_size):
    """One shape -> [shape]; a list of shapes -> that list; else an error. ``()`` is the
    shape of a 0-d input (a scalar)."""
    shapes = None
    if isinstance(input_size, (tuple, list, torch.Size)):
        nested = input_size and all(isinstance(s, (tuple, list, torch.Size)) for s in input_size)
        shapes = [tuple(s) for s in input_size] if nested else [tuple(input_size)]
    if not shapes or not all(
        all(isinstance(n, int) and not isinstance(n, bool) for n in shape) for shape in shapes
    ):
        raise TypeError(
            f"input_size must be a shape (a tuple of ints, batch dimension "
            f"included, e.g. input_size=(2, 20)) or a list of shapes, got "
            f"input_size={input_size!r}"
        )
    if any(n < 1 for shape in shapes for n in shape):
        raise ValueError(f"input_size must have positive sizes, got input_size={input_size!r}")
    return shapes


def _make_inputs(sizes, dtypes, device):
    generator = private_generator(0)  # its own: the global RNG stays untouched
    try:
        return [
            torch.rand(size, generator=generator).to(device=device, dtype=dtype)
            for size, dtype in zip(sizes, dtypes)
        ]
    except (RuntimeError, MemoryError) as e:
        message = str(e)
        if not (isinstance(e, MemoryError) or "allocate" in message or "overflow" in message):
            raise
        gib = sum(math.prod(size) for size in sizes) * 4 / 2**30
        raise ValueError(
            f"input_size={sizes[0] if len(sizes) == 1 else sizes} needs "
            f"{gib:.3g} GiB of random input, which could not be allocated on "
            f"{device}; the batch dimension can be small, e.g. "
            f"input_size={(2, *sizes[0][1:])}"
        ) from e


def _to_device(data, device):
    """``data`` with every tensor in it moved to ``device``, each structure rebuilt as its own
    type: namedtuples through ``_make``, dataclasses through ``dataclasses.replace``."""
    if isinstance(data, (torch.Tensor, PackedSequence)):
        return data.to(device)
    if isinstance(data, tuple) and hasattr(type(data), "_make"):  # a namedtuple
        return type(data)._make(_to_device(item, device) for item in data)
    if isinstance(data, (tuple, list)):
        return type(data)(_to_device(item, device) for item in data)
    if isinstance(data, dict):
        moved = {key: _to_device(value, device) for key, value in data.items()}
        try:
            return type(data)(moved)
        except TypeError:  # a dict subclass whose constructor takes other arguments
            return moved
    if _is_dataclass(data):
        fields = dataclasses.fields(data)
        return dataclasses.replace(
            data, **{f.name: _to_device(getattr(data, f.name), device) for f in fields if f.init}
        )
    return data


def _is_dataclass(value):
    return dataclasses.is_dataclass(value) and not isinstance(value, type)
