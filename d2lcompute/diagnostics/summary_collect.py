"""Model summary, step 1: one forward pass with global hooks records every module call.

Layers kept in a plain list are recorded too; each call keeps its caller, output shape and
output size. ``collect`` returns the root of the call tree.
"""

import dataclasses
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.modules import module as _torch_module
from torch.nn.parameter import is_lazy
from torch.nn.utils.rnn import PackedSequence

from d2lcompute._seeding import kept_random_state


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


def type_name(module):
    """The module's class name; a TorchScript module's is that of the module it was made from."""
    if isinstance(module, torch.jit.ScriptModule):
        return getattr(module, "original_name", type(module).__name__)
    return type(module).__name__


def has_forward(model):
    """False for a module without a ``forward`` of its own (an ``nn.ModuleList``)."""
    return getattr(type(model).forward, "__name__", "") != "_forward_unimplemented"


def collect(model, inputs, device, convention, names, kwargs=None):
    """Run ``model(*inputs, **kwargs)`` once; return the root :class:`_Call` of the call tree.

    A model without a ``forward`` is not run: the root is returned with no calls under it.
    """
    root = _Call(model, "", type_name(model), 0)
    if not has_forward(model):
        root.output = "(no forward)"
        return root
    stack, finished = [], []

    def pre_hook(module, args):
        if not stack:
            if module is model:
                stack.append(root)
            return  # else a module called outside this model (another thread): not ours
        parent = stack[-1]
        uses = sum(child.module is module for child in parent.children)
        call = _Call(
            module, _call_name(parent, module, uses, names), type_name(module), parent.depth + 1
        )
        parent.children.append(call)
        stack.append(call)

    def forward_hook(module, args, output):
        if stack and stack[-1].module is module:
            call = stack.pop()
            call.output, call.output_bytes = _shape_text(output), nbytes(output)
            finished.append(call)

    training = [(m, m.training) for m in model.modules()]
    handles = [
        _torch_module.register_module_forward_pre_hook(pre_hook),
        _torch_module.register_module_forward_hook(forward_hook),
    ]
    try:
        model.eval()  # BatchNorm keeps its statistics, Dropout keeps every value
        # code in forward that draws random numbers leaves the user's stream as it was
        with torch.no_grad(), kept_random_state(device):
            model(*inputs, **(kwargs or {}))
    except Exception as e:
        _check_dtypes(model, inputs, e)
        raise RuntimeError(_failure_message(model, inputs, stack, finished, convention)) from e
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in training:
            module.training = mode
    return root


def _check_dtypes(model, inputs, error):
    """A forward pass that failed on a float input of another dtype than the model's
    parameters (float64 data, a float32 model) is a TypeError that says so."""
    param = next((p for p in model.parameters() if p.is_floating_point()), None)
    floats = [x for x in inputs if isinstance(x, torch.Tensor) and x.is_floating_point()]
    if param is None or not any(x.dtype != param.dtype for x in floats):
        return
    if "dtype" in str(error) or "scalar type" in str(error):
        dtype = next(x.dtype for x in floats if x.dtype != param.dtype)
        raise TypeError(
            f"input_data has dtype {dtype} but the model's parameters are {param.dtype}: "
            f"convert the input (for float32: X.float()) or the model (model.to({dtype}))"
        ) from error


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
        entries = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, (list, tuple))
            else ()
        )
        for key, item in entries:
            if item is module:
                return f"{prefix}{attr}[{key!r}]"
    return prefix + "?"


def _shape_text(output):
    if isinstance(output, torch.Tensor):
        return str(list(output.shape))  # a scalar gives []
    if isinstance(output, PackedSequence):  # a namedtuple of data and batch sizes
        return f"PackedSequence{list(output.data.shape)}"
    if isinstance(output, (tuple, list)):
        inner = ", ".join(_shape_text(item) for item in output)
        return f"[{inner}]" if isinstance(output, list) else f"({inner}{',' * (len(output) == 1)})"
    if isinstance(output, dict):
        return "{" + ", ".join(f"{k}: {_shape_text(v)}" for k, v in output.items()) + "}"
    return "None" if output is None else type(output).__name__


def nbytes(output):
    if isinstance(output, torch.Tensor):
        return output.numel() * output.element_size()
    if isinstance(output, PackedSequence):
        return nbytes(output.data)
    if dataclasses.is_dataclass(output) and not isinstance(output, type):
        return sum(nbytes(getattr(output, f.name)) for f in dataclasses.fields(output))
    if isinstance(output, (tuple, list)):
        return sum(nbytes(item) for item in output)
    if isinstance(output, dict):
        return sum(nbytes(item) for item in output.values())
    return 0


def _failure_message(model, inputs, stack, finished, convention):
    shapes = ", ".join(
        str(tuple(x.shape)) if isinstance(x, torch.Tensor) else _shape_text(x) for x in inputs
    )
    failing = stack[-1] if stack else None
    if failing is None or failing.depth == 0:
        where = f"in the forward code of {type_name(model)} itself"
    else:
        where = f"in layer {failing.name!r} ({failing.type_name})"
        if _expected_input(failing.module):
            where += f", which expects input of shape {_expected_input(failing.module)[0]}"
    ran = ", ".join(f"{call.name} ({call.type_name})" for call in finished) or "none"
    message = (
        f"summary could not run {type_name(model)} on input of shape {shapes}: "
        f"the error was raised {where}. Layers that ran before it: {ran}."
    )
    first = next(((name, m) for name, m in model.named_modules() if _expected_input(m)), None)
    # Blame input_size only when the input was rejected where it came in: before any layer
    # ran, or by the first layer with a known input shape (after a Flatten, say).
    rejected = not finished or (first is not None and failing and failing.module is first[1])
    if convention and rejected:
        message += (
            " Note: input_size is the full input shape, batch dimension included "
            "(torchsummary adds one itself)"
        )
        if first is not None:
            shape, example = _expected_input(first[1])
            message += (
                f"; the first layer, {first[0]!r} ({type(first[1]).__name__}), "
                f"expects {shape}, e.g. input_size={example}"
            )
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
