"""Teaching diagnostics, together: what PyTorch cannot see, which parameters learn, and a
model table that adds up.

- :func:`find_unregistered`, :func:`module_internals` (Book: §5.1): layers, parameters and
  tensors hidden in plain lists, dicts or attributes, with the fix;
- :func:`check_gradients` (§5.4): parameters that get no useful gradient (``.data``, unused,
  frozen, dead);
- :func:`summary`: per-layer shapes and parameter counts, right where torchsummary is wrong.

Each is also a top-level name (``d2l.summary``, ...).
"""

from d2lcompute.diagnostics.gradients import GradientIssue, GradientReport, check_gradients
from d2lcompute.diagnostics.registration import (
    ModuleInternals,
    Unregistered,
    UnregisteredReport,
    find_unregistered,
    module_internals,
)
from d2lcompute.diagnostics.summary import summary
from d2lcompute.diagnostics.summary_aggregate import SummaryRow
from d2lcompute.diagnostics.summary_render import ModelSummary

__all__ = [
    "GradientIssue",
    "GradientReport",
    "ModelSummary",
    "ModuleInternals",
    "SummaryRow",
    "Unregistered",
    "UnregisteredReport",
    "check_gradients",
    "find_unregistered",
    "module_internals",
    "summary",
]
