"""Model summary, step 3: the table, its totals, notes and warnings as text."""

import textwrap
from dataclasses import dataclass

_MB = 1024**2  # torchsummary's "MB", so that the two tables can be compared


@dataclass(frozen=True, repr=False)
class ModelSummary:
    """The result of :func:`summary`: ``str()`` is the table; the numbers are attributes.

    ``lazy`` names the layers that were uninitialized in the user's model;
    ``unregistered`` is :func:`d2lcompute.registration.find_unregistered`'s report;
    ``no_forward`` is True for a model without a ``forward`` (nothing was run).
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
    no_forward: bool = False

    @property
    def non_trainable_params(self):
        return self.total_params - self.trainable_params

    @property
    def total_bytes(self):
        return self.input_bytes + self.activation_bytes + self.param_bytes

    def __str__(self):
        header = ("Layer (type)", "Output Shape", "Param #")
        cells = [
            (
                " " * (2 * row.depth)
                + (f"{row.name} ({row.type_name})" if row.name else row.type_name),
                row.output,
                _param_cell(row),
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *cells]) for i in range(3)]
        widths[0] = max(widths[0], 72 - 8 - widths[1] - widths[2])  # at least 72 wide

        def line(name, output, params):
            return f"{name:<{widths[0]}}    {output:<{widths[1]}}    {params:>{widths[2]}}"

        width = len(line(*header))
        uninitialized = [row.name or row.type_name for row in self.rows if row.lazy]
        total = f"{self.total_params:,}" + (" + uninitialized (lazy)" if uninitialized else "")
        text = [
            "=" * width,
            line(*header),
            "=" * width,
            *(line(*c) for c in cells),
            "=" * width,
            f"Total params: {total}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            "-" * width,
            f"Input size (MB): {self.input_bytes / _MB:0.2f}",
            f"Forward/backward pass size (MB): {self.activation_bytes / _MB:0.2f}",
            f"Params size (MB): {self.param_bytes / _MB:0.2f}",
            f"Estimated Total Size (MB): {self.total_bytes / _MB:0.2f}",
            "=" * width,
        ]
        notes = self._notes(uninitialized)
        if notes:
            indents = [" " * (len(note) - len(note.lstrip()) + 2) for note in notes]
            text += [
                textwrap.fill(note, width, subsequent_indent=indent)
                for note, indent in zip(notes, indents)
            ]
            text.append("=" * width)
        return "\n".join(text)

    __repr__ = __str__  # a notebook cell ending in summary(...) shows the table

    def _notes(self, uninitialized):
        notes = []
        if self.no_forward:
            notes.append(
                f"{self.rows[0].type_name} has no forward method of its own, so no forward "
                f"pass was run: the parameters are listed by module, without output shapes."
            )
        if any("TorchScript" in row.output for row in self.rows):
            notes.append(
                "Layers inside TorchScript code run where no hook can see them: their "
                "parameters are counted, their output shapes are not visible."
            )
        if any(row.shared for row in self.rows):
            notes.append(
                "Counts in parentheses are not added to the totals: a tied tensor "
                "is counted once, on the first row that uses it."
            )
        if self.lazy:
            notes.append(
                f"Lazy layers {', '.join(self.lazy)} are uninitialized in your "
                f"model: summary ran this input through a copy, so the counts are "
                f"those your model gets on its first forward pass."
            )
        if uninitialized:
            notes.append(
                f"Not reached by the forward pass, so still uninitialized (lazy): "
                f"{', '.join(uninitialized)}; the totals leave them out."
            )
        if self.unregistered:
            notes.append(
                "WARNING: the model holds layers or tensors where nn.Module cannot "
                "see them: parameters() (so the optimizer), .to(device), "
                "state_dict() and print(net) miss them, and their counts (in "
                "parentheses) are not in the totals. Fix:"
            )
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
