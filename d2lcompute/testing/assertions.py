"""Assertions that teach, about what a model *is*: gradients reach every parameter, every
layer is registered, the parameter count, tied parameters (Book: §5.1, §5.2, §5.4).

Each failure raises :class:`~d2lcompute.testing.failures.CheckFailed` (an
``AssertionError``; the pytest plugin shows only its message) saying what was expected, what
was found, the likely cause and the book section. They reuse the package's diagnostics:
``check_gradients``, ``find_unregistered`` and ``count_parameters``.
:mod:`d2lcompute.testing.behaviour` has the assertions about what a model *does*.
"""

import reprlib

import torch

from d2lcompute._checks import check_int, check_module
from d2lcompute.diagnostics import check_gradients, find_unregistered
from d2lcompute.parameters import count_parameters
from d2lcompute.testing.failures import call, fail


def assert_gradients_flow(model, *inputs, loss_fn=None):
    """Assert that one backward pass gives every parameter a non-zero, finite gradient.

    Args:
        model: the ``nn.Module`` to check; it must have parameters.
        *inputs: the arguments of ``model(*inputs)``.
        loss_fn: maps the output to the scalar to differentiate (default: the sum of it).

    Example::

        >>> from d2lcompute.layers import MyLinear
        >>> assert_gradients_flow(MyLinear(4, 3), torch.rand(2, 4))
    """
    check_module("model", model)
    report = call(
        f"{type(model).__name__} forward and backward",
        lambda: check_gradients(model, *inputs, loss_fn=loss_fn),
    )
    if report.num_parameters == 0:
        fail(
            f"{type(model).__name__} has no parameters, so no gradient can reach one",
            cause="layers or weights kept in a plain list, dict or tensor attribute; "
            "assert_registered(model) shows where",
            book="§5.1",
        )
    if report:
        detached = any(issue.problem == "detached" for issue in report)
        fail(
            f"{len(report)} of {report.num_parameters} parameters get no useful gradient: "
            f"{', '.join(issue.name for issue in report)}",
            expected="every parameter gets a non-zero, finite gradient",
            found="".join(
                f"\n    {i.name} {list(i.shape)}: {i.problem} - {i.cause}" for i in report
            ),
            cause=(
                "computed with `.data`? use the parameter itself (X @ self.weight, not "
                "self.weight.data): .data hands autograd a copy it cannot trace"
            )
            if detached
            else None,
            book="§5.4 (custom layers)",
        )


def assert_registered(model):
    """Assert that ``model`` hides no layer, parameter or tensor from ``nn.Module``.

    Things kept in plain lists, dicts or tensor attributes still run in ``forward`` but are
    missing from ``parameters()`` (so the optimizer never trains them), ``.to(device)`` and
    ``state_dict()``.

    Example::

        >>> from d2lcompute.blocks import MySequential
        >>> assert_registered(MySequential(torch.nn.Linear(2, 3), torch.nn.ReLU()))
    """
    check_module("model", model)
    report = find_unregistered(model)
    if report:
        fail(
            f"{type(model).__name__} holds {len(report)} thing(s) nn.Module cannot see",
            expected="every layer, parameter and tensor registered with nn.Module",
            found="".join(f"\n    {item}" for item in report),
            cause="a plain Python list, dict or tensor attribute: parameters(), .to(), "
            "state_dict() and the optimizer skip what is inside",
            book="§5.1 (why _modules and not a Python list)",
        )


def assert_param_count(model, n):
    """Assert that ``model`` has ``n`` scalar parameters, each tied tensor counted once.

    Example::

        >>> assert_param_count(torch.nn.Linear(20, 256), 20 * 256 + 256)
    """
    check_module("model", model)
    n = check_int("n", n, min_value=0)
    found = count_parameters(model)
    if found == n:
        return
    per_use = sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False))
    if found == 0 and find_unregistered(model):
        cause = "the layers are not registered (see assert_registered)"
    elif per_use == n:
        cause = (
            "a shared (tied) layer counted once per use; its numbers exist once "
            "(model.parameters() also lists them once)"
        )
    else:
        cause = "a layer of the wrong size; parameter_table(model) lists every tensor"
    fail(
        f"{type(model).__name__} has {found:,} parameters, not {n:,}",
        expected=f"{n:,}",
        found=f"{found:,} (each tied tensor counted once)",
        cause=cause,
        book="§5.2",
    )


def assert_tied(model, *names):
    """Assert that the named parameters are one tensor (tied), not copies.

    Args:
        model: the ``nn.Module``.
        *names: two or more qualified names, e.g. ``"2.weight", "4.weight"``.

    Example::

        >>> from d2lcompute.parameters import shared_net
        >>> assert_tied(shared_net(), "2.weight", "4.weight")
    """
    check_module("model", model)
    if len(names) < 2 or not all(isinstance(name, str) for name in names):
        raise TypeError(f"names must be two or more parameter names (str), got names={names!r}")
    params = []
    for name in names:
        try:
            params.append(model.get_parameter(name))
        except AttributeError:
            known = [key for key, _ in model.named_parameters(remove_duplicate=False)]
            fail(
                f"{type(model).__name__} has no parameter {name!r}",
                found=f"its parameters are {reprlib.repr(known)}",
            )
    for name, param in zip(names[1:], params[1:]):
        if param is not params[0]:
            copied = param.shape == params[0].shape and torch.equal(param, params[0])
            fail(
                f"{names[0]} and {name} are separate tensors, so they are not tied",
                expected=f"{names[0]} is {name} (one tensor)",
                found="equal values in two tensors: a copy" if copied else "two tensors",
                cause="build the layer once and use that object in both places; calling "
                "nn.Linear(8, 8) twice makes two layers",
                book="§5.2.3 (tied parameters)",
            )
