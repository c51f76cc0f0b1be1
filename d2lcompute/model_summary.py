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

Relies on :mod:`d2lcompute.registration` (``find_unregistered``).
"""

import copy
import itertools
import math
import textwrap
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.modules import module as _torch_module
from torch.nn.parameter import is_lazy

from d2lcompute._checks import check_int, check_module
from d2lcompute.registration import find_unregistered

_MB = 1024**2  # torchsummary's "MB", so that the two tables can be compared


def summary(model, input_size=None, input_data=None, depth=3, device=None, dtypes=None):
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
        input_data: a tensor, or a tuple/list of the positional arguments of ``forward``.
        depth: how many levels of nested blocks to show (0: only the model's own row).
            The counts of hidden layers are added to their visible ancestor.
        device: where the inputs go; default: the model's own device (CPU for a model
            without parameters). Must match the model's device: it is not moved.
        dtypes: with ``input_size`` only, one ``torch.dtype`` per input
            (default ``torch.float32``).

    Returns:
        A :class:`ModelSummary`: ``str()`` (or showing it in a notebook) gives the table;
        ``total_params``, ``trainable_params``, ``non_trainable_params``, ``rows``,
        ``unregistered`` and the byte counts are attributes. "MB" are 2**20 bytes.

    Book: §5.1 (looking at a model), §5.2.3 (tied parameters), §5.4 (lazy layers)

    Example::

        >>> result = summary(nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10)),
        ...                  input_size=(2, 20))
        >>> result.total_params
        7946
    """
    sizes, device, dtypes = _validate(model, input_size, input_data, depth, device, dtypes)
    inputs = _make_inputs(sizes, dtypes, device) if sizes else _to_device(input_data, device)
    if isinstance(inputs, torch.Tensor):
        inputs = (inputs,)
    lazy = [name or type(model).__name__ for name, m in model.named_modules()
            if any(is_lazy(p) for p in m.parameters(recurse=False))]
    # Running a lazy layer initialises it; a summary must not change the user's model.
    run_model = copy.deepcopy(model) if lazy else model
    names = {}  # id(module) -> every qualified name it has (a shared layer has several)
    for name, module in run_model.named_modules(remove_duplicate=False):
        names.setdefault(id(module), []).append(name)
    root = _collect(run_model, tuple(inputs), device, sizes is not None, names)
    return _aggregate(run_model, root, inputs, depth, lazy, find_unregistered(model))


def _validate(model, input_size, input_data, depth, device, dtypes):
    """Check every argument before any work; return (sizes or None, device, dtypes)."""
    check_module("model", model)
    if (input_size is None) == (input_data is None):
        given = "both were given" if input_size is not None else "neither was given"
        raise ValueError(f"give exactly one of input_size (e.g. input_size=(2, 20)) and "
                         f"input_data (a tensor or a tuple of forward's arguments); {given}")
    check_int("depth", depth, min_value=0)
    sizes = None if input_size is None else _check_sizes(input_size)
    if input_data is not None and not isinstance(input_data, (torch.Tensor, tuple, list)):
        raise TypeError(f"input_data must be a tensor or a tuple/list of forward's "
                        f"arguments, got input_data of type {type(input_data).__name__}")
    if dtypes is None:
        dtypes = [torch.float32] * len(sizes or [])
    else:
        if sizes is None:
            raise ValueError("dtypes goes with input_size only; input_data has its own dtypes")
        if (not isinstance(dtypes, (tuple, list)) or len(dtypes) != len(sizes)
                or not all(isinstance(d, torch.dtype) for d in dtypes)):
            raise ValueError(f"dtypes must be a list of {len(sizes)} torch.dtype (one per "
                             f"input in input_size), got dtypes={dtypes!r}")
        dtypes = list(dtypes)
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    model_device = torch.device("cpu") if first is None else first.device
    if device is None:
        return sizes, model_device, dtypes
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"device must be a torch.device or a name like 'cpu' or 'cuda:0', "
                         f"got device={device!r}") from e
    if first is None:  # nothing to move: the inputs may go anywhere
        return sizes, device, dtypes
    if device.type != model_device.type or device.index not in (None, model_device.index):
        raise ValueError(f"the model is on {model_device}, but device={str(device)!r}; move "
                         f"it with model.to({str(device)!r}) or leave device=None (summary "
                         f"runs on the model's own device)")
    return sizes, model_device, dtypes


def _check_sizes(input_size):
    """One shape -> [shape]; a list of shapes -> that list; else an error."""
    shapes = None
    if isinstance(input_size, (tuple, list, torch.Size)) and input_size:
        nested = all(isinstance(s, (tuple, list, torch.Size)) for s in input_size)
        shapes = [tuple(s) for s in input_size] if nested else [tuple(input_size)]
    if not shapes or not all(shape and all(isinstance(n, int) and not isinstance(n, bool)
                                           for n in shape) for shape in shapes):
        raise TypeError(f"input_size must be a shape (a tuple of ints, batch dimension "
                        f"included, e.g. input_size=(2, 20)) or a list of shapes, got "
                        f"input_size={input_size!r}")
    if min(min(shape) for shape in shapes) < 1:
        raise ValueError(f"input_size must have positive sizes, got input_size={input_size!r}")
    return shapes


def _make_inputs(sizes, dtypes, device):
    generator = torch.Generator().manual_seed(0)  # its own: the global RNG stays untouched
    try:
        return [torch.rand(size, generator=generator).to(device=device, dtype=dtype)
                for size, dtype in zip(sizes, dtypes)]
    except (RuntimeError, MemoryError) as e:
        message = str(e)
        if not (isinstance(e, MemoryError) or "allocate" in message or "overflow" in message):
            raise
        gib = sum(math.prod(size) for size in sizes) * 4 / 2**30
        raise ValueError(f"input_size={sizes[0] if len(sizes) == 1 else sizes} needs "
                         f"{gib:.3g} GiB of random input, which could not be allocated on "
                         f"{device}; the batch dimension can be small, e.g. "
                         f"input_size={(2, *sizes[0][1:])}") from e


def _to_device(data, device):
    if isinstance(data, torch.Tensor):
        return data.to(device)
    if isinstance(data, (tuple, list)):
        return type(data)(_to_device(item, device) for item in data)
    return data


# ---------------------------------------------------------------------------- collect


@dataclass(eq=False)
class _Call:
    """One call of one module during the forward pass."""

    module: nn.Module
    name: str  # qualified name; "" for the model itself
    type_name: str  # taken before the call: a LazyLinear turns into a Linear when run
    depth: int
    children: list = field(default_factory=list)
    output: str = "?"
    output_bytes: int = 0


def _collect(model, inputs, device, convention, names):
    """Run ``model(*inputs)`` once; return the root :class:`_Call` of the call tree."""
    root = _Call(model, "", type(model).__name__, 0)
    stack, finished = [], []

    def pre_hook(module, args):
        if not stack:
            if module is model:
                stack.append(root)
            return  # else a module called outside this model (another thread): not ours
        parent = stack[-1]
        uses = sum(child.module is module for child in parent.children)
        call = _Call(module, _call_name(parent, module, uses, names), type(module).__name__,
                     parent.depth + 1)
        parent.children.append(call)
        stack.append(call)

    def forward_hook(module, args, output):
        if stack and stack[-1].module is module:
            call = stack.pop()
            call.output, call.output_bytes = _shape_text(output), _nbytes(output)
            finished.append(call)

    training = [(m, m.training) for m in model.modules()]
    handles = [_torch_module.register_module_forward_pre_hook(pre_hook),
               _torch_module.register_module_forward_hook(forward_hook)]
    try:
        model.eval()  # BatchNorm keeps its statistics, Dropout keeps every value
        # fork_rng: code in forward that draws random numbers leaves the user's stream as it was
        with torch.no_grad(), torch.random.fork_rng(
                devices=[device] if device.type == "cuda" else []):
            model(*inputs)
    except Exception as e:
        raise RuntimeError(_failure_message(model, inputs, stack, finished, convention)) from e
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in training:
            module.training = mode
    return root


def _call_name(parent, module, uses, names):
    """The qualified name of the ``uses``-th call of ``module`` made by ``parent``."""
    prefix = f"{parent.name}." if parent.name else ""
    # Registered under the caller, perhaps through an nn.ModuleList the caller indexes;
    # a layer registered twice (nn.Sequential(a, b, a)) is named by its use.
    under_caller = [name for name in names.get(id(module), []) if name.startswith(prefix)]
    if under_caller:
        return under_caller[min(uses, len(under_caller) - 1)]
    keys = [key for key, child in parent.module._modules.items() if child is module]
    if keys:  # the caller itself is unregistered, so it has no qualified names
        return prefix + keys[min(uses, len(keys) - 1)]
    for attr, value in vars(parent.module).items():  # a plain list, tuple or dict
        entries = (value.items() if isinstance(value, dict)
                   else enumerate(value) if isinstance(value, (list, tuple)) else ())
        for key, item in entries:
            if item is module:
                return f"{prefix}{attr}[{key!r}]"
    return prefix + "?"


def _shape_text(output):
    if isinstance(output, torch.Tensor):
        return str(list(output.shape))  # a scalar gives []
    if isinstance(output, (tuple, list)):
        inner = ", ".join(_shape_text(item) for item in output)
        return f"[{inner}]" if isinstance(output, list) else f"({inner}{',' * (len(output) == 1)})"
    if isinstance(output, dict):
        return "{" + ", ".join(f"{k}: {_shape_text(v)}" for k, v in output.items()) + "}"
    return "None" if output is None else type(output).__name__


def _nbytes(output):
    if isinstance(output, torch.Tensor):
        return output.numel() * output.element_size()
    if isinstance(output, (tuple, list)):
        return sum(_nbytes(item) for item in output)
    if isinstance(output, dict):
        return sum(_nbytes(item) for item in output.values())
    return 0


def _failure_message(model, inputs, stack, finished, convention):
    shapes = ", ".join(str(tuple(x.shape)) if isinstance(x, torch.Tensor) else type(x).__name__
                       for x in inputs)
    failing = stack[-1] if stack else None
    if failing is None or failing.depth == 0:
        where = f"in the forward code of {type(model).__name__} itself"
    else:
        where = f"in layer {failing.name!r} ({failing.type_name})"
        if _expected_input(failing.module):
            where += f", which expects input of shape {_expected_input(failing.module)[0]}"
    ran = ", ".join(f"{call.name} ({call.type_name})" for call in finished) or "none"
    message = (f"summary could not run {type(model).__name__} on input of shape {shapes}: "
               f"the error was raised {where}. Layers that ran before it: {ran}.")
    if convention:
        message += (" Note: input_size is the full input shape, batch dimension included "
                    "(torchsummary adds one itself)")
        first = next(((name, m) for name, m in model.named_modules() if _expected_input(m)),
                     None)
        if first is not None:
            shape, example = _expected_input(first[1])
            message += (f"; the first layer, {first[0]!r} ({type(first[1]).__name__}), "
                        f"expects {shape}, e.g. input_size={example}")
        message += "."
    return message


def _expected_input(module):
    """(the input shape a layer accepts, an input_size that fits), or None if unknown."""
    weight = getattr(module, "weight", None)
    if not isinstance(weight, torch.Tensor) or is_lazy(weight):
        return None
    if isinstance(module, nn.Linear):
        return f"(*, {module.in_features})", (2, module.in_features)
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        spatial = {3: "L", 4: "H, W", 5: "D, H, W"}[weight.dim()]
        example = (2, module.in_channels, *[32] * (weight.dim() - 2))
        return f"(N, {module.in_channels}, {spatial})", example
    return None


# -------------------------------------------------------------------------- aggregate


@dataclass(frozen=True)
class SummaryRow:
    """One row of the table.

    ``params`` is what the row adds to the totals. ``shared`` counts parameters of the
    row that an earlier row already counted (``shared_with`` names it);
    ``unregistered`` rows are invisible to ``model.parameters()``, so their ``params``
    stay out of the totals; ``lazy`` rows still hold uninitialized parameters.
    """

    name: str
    type_name: str
    depth: int
    output: str
    params: int
    shared: int = 0
    shared_with: str = ""
    unregistered: bool = False
    lazy: bool = False


def _aggregate(model, root, inputs, depth, lazy, unregistered):
    by_name = dict(model.named_modules(remove_duplicate=False))
    registered = {id(m) for m in by_name.values()}
    called = {id(call.module) for call in _calls(root)}
    # A container whose layers ran although it did not (an nn.ModuleList) is in use.
    used = {id(by_name[".".join(call.name.split(".")[:i])])
            for call in _calls(root) if call.name in by_name
            for i in range(1, call.name.count(".") + 1)}
    owners = {}  # id(parameter) -> the row that counted it
    rows, expanded = [], set()

    def add_row(name, type_name, level, output, module, recurse, is_registered=True):
        tensors = list(module.parameters(recurse=recurse))
        known = [p for p in tensors if not is_lazy(p)]
        label = name or type_name
        shared = [p for p in known if id(p) in owners and is_registered]
        new = [p for p in known if not any(p is s for s in shared)]
        if is_registered:
            owners.update((id(p), label) for p in new)
        rows.append(SummaryRow(name, type_name, level, output, sum(p.numel() for p in new),
                               sum(p.numel() for p in shared),
                               owners[id(shared[0])] if shared else "",
                               not is_registered, len(known) < len(tensors)))

    def add_not_called(module, prefix, level):
        """Rows for the registered children of ``module`` that never ran."""
        for key, child in module._modules.items():
            name = f"{prefix}.{key}" if prefix else key
            if child is None or id(child) in called:
                continue
            if id(child) not in used:
                add_row(name, type(child).__name__, level, "(not called)", child, True)
                continue
            if any(True for _ in child.parameters(recurse=False)):
                add_row(name, type(child).__name__, level, "(not called)", child, False)
            add_not_called(child, name, level)

    def visit(call):
        is_registered = id(call.module) in registered
        show_children = call.depth < depth  # else this row also counts its hidden layers
        add_row(call.name, call.type_name, call.depth, call.output, call.module,
                not show_children, is_registered)
        if not show_children:
            return
        for child in call.children:
            visit(child)
        if is_registered and id(call.module) not in expanded:
            expanded.add(id(call.module))
            add_not_called(call.module, call.name, call.depth + 1)

    visit(root)
    # count_parameters' rule (each tensor once), minus lazy tensors, which it refuses to count.
    unique = {id(p): p for p in model.parameters() if not is_lazy(p)}.values()
    return ModelSummary(
        rows=rows, depth=depth,
        total_params=sum(p.numel() for p in unique),
        trainable_params=sum(p.numel() for p in unique if p.requires_grad),
        input_bytes=_nbytes(list(inputs)),
        # Each leaf call's output is kept for the backward pass, and its gradient is as big.
        activation_bytes=2 * sum(c.output_bytes for c in _calls(root) if not c.children),
        param_bytes=sum(p.numel() * p.element_size() for p in unique),
        lazy=lazy, unregistered=unregistered)


def _calls(call):
    yield call
    for child in call.children:
        yield from _calls(child)


# ----------------------------------------------------------------------------- render


@dataclass(frozen=True, repr=False)
class ModelSummary:
    """The result of :func:`summary`: ``str()`` is the table; the numbers are attributes.

    ``lazy`` names the layers that were uninitialized in the user's model;
    ``unregistered`` is :func:`d2lcompute.registration.find_unregistered`'s report.
    """

    rows: list
    depth: int
    total_params: int
    trainable_params: int
    input_bytes: int
    activation_bytes: int
    param_bytes: int
    lazy: list
    unregistered: list

    @property
    def non_trainable_params(self):
        return self.total_params - self.trainable_params

    @property
    def total_bytes(self):
        return self.input_bytes + self.activation_bytes + self.param_bytes

    def __str__(self):
        header = ("Layer (type)", "Output Shape", "Param #")
        cells = [(" " * (2 * row.depth) + (f"{row.name} ({row.type_name})" if row.name
                                           else row.type_name),
                  row.output, _param_cell(row)) for row in self.rows]
        widths = [max(len(line[i]) for line in [header, *cells]) for i in range(3)]
        widths[0] = max(widths[0], 72 - 8 - widths[1] - widths[2])  # at least 72 wide

        def line(name, output, params):
            return f"{name:<{widths[0]}}    {output:<{widths[1]}}    {params:>{widths[2]}}"

        width = len(line(*header))
        uninitialized = [row.name or row.type_name for row in self.rows if row.lazy]
        total = f"{self.total_params:,}" + (" + uninitialized (lazy)" if uninitialized else "")
        text = ["=" * width, line(*header), "=" * width, *(line(*c) for c in cells),
                "=" * width,
                f"Total params: {total}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                "-" * width,
                f"Input size (MB): {self.input_bytes / _MB:0.2f}",
                f"Forward/backward pass size (MB): {self.activation_bytes / _MB:0.2f}",
                f"Params size (MB): {self.param_bytes / _MB:0.2f}",
                f"Estimated Total Size (MB): {self.total_bytes / _MB:0.2f}",
                "=" * width]
        notes = self._notes(uninitialized)
        if notes:
            indents = [" " * (len(note) - len(note.lstrip()) + 2) for note in notes]
            text += [textwrap.fill(note, width, subsequent_indent=indent)
                     for note, indent in zip(notes, indents)]
            text.append("=" * width)
        return "\n".join(text)

    __repr__ = __str__  # a notebook cell ending in summary(...) shows the table

    def _notes(self, uninitialized):
        notes = []
        if any(row.shared for row in self.rows):
            notes.append("Counts in parentheses are not added to the totals: a tied tensor "
                         "is counted once, on the first row that uses it.")
        if self.lazy:
            notes.append(f"Lazy layers {', '.join(self.lazy)} are uninitialized in your "
                         f"model: summary ran this input through a copy, so the counts are "
                         f"those your model gets on its first forward pass.")
        if uninitialized:
            notes.append(f"Not reached by the forward pass, so still uninitialized (lazy): "
                         f"{', '.join(uninitialized)}; the totals leave them out.")
        if self.unregistered:
            notes.append("WARNING: the model holds layers or tensors where nn.Module cannot "
                         "see them: parameters() (so the optimizer), .to(device), "
                         "state_dict() and print(net) miss them, and their counts (in "
                         "parentheses) are not in the totals. Fix:")
            notes += [f"  {item}" for item in self.unregistered]
        return notes


def _param_cell(row):
    if row.lazy and not row.params:
        return "uninitialized (lazy)"
    if row.unregistered:
        return f"({row.params:,} unregistered)" if row.params else "--"
    if row.shared:
        if row.params:
            return f"{row.params:,} (+{row.shared:,} shared)"
        return f"({row.shared:,} shared with {row.shared_with})"
    return f"{row.params:,}" if row.params else "--"

