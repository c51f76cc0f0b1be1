"""Model summary, step 2: rows whose parameter column adds up to the total.

Every parameter goes to exactly one visible row; a tied tensor is counted once, on its
first use.
"""

from dataclasses import dataclass

import torch
from torch.nn.parameter import is_lazy

from d2lcompute.diagnostics.summary_collect import has_forward, nbytes, type_name
from d2lcompute.diagnostics.summary_render import ModelSummary


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


def aggregate(model, root, inputs, depth, lazy, unregistered):
    by_name = dict(model.named_modules(remove_duplicate=False))
    registered = {id(m) for m in by_name.values()}
    called = {id(call.module) for call in _calls(root)}
    # A container whose layers ran although it did not (an nn.ModuleList) is in use.
    used = {
        id(by_name[".".join(call.name.split(".")[:i])])
        for call in _calls(root)
        if call.name in by_name
        for i in range(1, call.name.count(".") + 1)
    }
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
        rows.append(
            SummaryRow(
                name,
                type_name,
                level,
                output,
                sum(p.numel() for p in new),
                sum(p.numel() for p in shared),
                owners[id(shared[0])] if shared else "",
                not is_registered,
                len(known) < len(tensors),
            )
        )

    def add_not_called(module, prefix, level):
        """Rows for the registered children of ``module`` that never ran (or ran inside
        TorchScript code, where no hook sees them)."""
        hidden = isinstance(module, torch.jit.ScriptModule) and id(module) in called
        output = "(in TorchScript: shape not visible)" if hidden else "(not called)"
        for key, child in module._modules.items():
            name = f"{prefix}.{key}" if prefix else key
            if child is None or id(child) in called:
                continue
            if id(child) not in used:
                add_row(name, type_name(child), level, output, child, True)
                continue
            if any(True for _ in child.parameters(recurse=False)):
                add_row(name, type_name(child), level, output, child, False)
            add_not_called(child, name, level)

    def visit(call):
        is_registered = id(call.module) in registered
        show_children = call.depth < depth  # else this row also counts its hidden layers
        add_row(
            call.name,
            call.type_name,
            call.depth,
            call.output,
            call.module,
            not show_children,
            is_registered,
        )
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
        rows=rows,
        depth=depth,
        total_params=sum(p.numel() for p in unique),
        trainable_params=sum(p.numel() for p in unique if p.requires_grad),
        input_bytes=nbytes(list(inputs)),
        # Each leaf call's output is kept for the backward pass, and its gradient is as big.
        activation_bytes=2 * sum(c.output_bytes for c in _calls(root) if not c.children),
        param_bytes=sum(p.numel() * p.element_size() for p in unique),
        lazy=lazy,
        unregistered=unregistered,
        no_forward=not has_forward(model),
    )


def _calls(call):
    yield call
    for child in call.children:
        yield from _calls(child)
