"""What the exercise checks share: seeded Hypothesis runs and tensor strategies.

``derandomize=True`` makes every run try the same inputs, so a grade never changes between
runs; a failing input is shrunk to a small one before it is shown to the student.
"""

import functools
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from d2lcompute._seeding import seeded
from d2lcompute.testing.failures import fail, fail_if_different

_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=20,
    suppress_health_check=list(HealthCheck),
    verbosity=Verbosity.quiet,
    report_multiple_bugs=False,
    print_blob=False,
)


def prop(*strategies):
    """Run the decorated body on 20 seeded examples drawn from ``strategies``.

    Each example runs on torch's generator seeded with 0: a random function (dropout) then
    fails the same way when Hypothesis replays an example to shrink it.
    """

    def decorate(body):
        @functools.wraps(body)
        def from_seed_0(*args, **kwargs):
            with seeded(0):
                return body(*args, **kwargs)

        return _SETTINGS(given(*strategies)(from_seed_0))

    return decorate


sizes = st.integers(min_value=1, max_value=6)


def tensors(min_dims=1, max_dims=3, max_side=5):
    """float32 tensors of 1-3 dimensions with values in [-10, 10]."""
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side)
    elements = st.floats(-10, 10, width=32, allow_subnormal=False)
    # torch.tensor copies: from_numpy would share (and warn about) a read-only array
    return hnp.arrays(np.float32, shapes, elements=elements).map(torch.tensor)


def assert_close(actual, expected, what, *, cause=None, **tolerances):
    """Fail with ``what``, both values and the likely ``cause`` when they differ."""
    summary = f"{what} is not what the reference gives"
    fail_if_different(actual, expected, summary, cause=cause, **tolerances)


def grad_of(output, X, upstream):
    """d(output * upstream).sum() / dX, or a failure when ``output`` does not depend on X."""
    if not isinstance(output, torch.Tensor) or not output.requires_grad:
        fail(
            "no gradient reaches the input X",
            expected="an output that autograd traces to X",
            found="an output that does not require grad",
            cause="computed outside autograd: .numpy(), .data, .detach(), torch.no_grad(), "
            "or a new tensor built from Python numbers",
        )
    (grad,) = torch.autograd.grad(output, X, upstream, allow_unused=True)
    return torch.zeros_like(X) if grad is None else grad


@dataclass(frozen=True)
class Exercise:
    """One build-it-yourself piece: what the student's file must define, and its checks.

    Attributes:
        name: the exercise name, e.g. ``"MySequential"``.
        needs: the names a student's file defines for it, e.g. ``("save", "load")``.
        kind: ``"class"``, ``"function"`` or ``"pair"`` (a tuple of two functions).
        checks: ``(title, check)`` pairs; ``check(student_obj)`` raises to fail.
        book: the book section, shown in the report.
    """

    name: str
    needs: tuple
    kind: str
    checks: tuple
    book: str
