"""Assertions that teach, about what a model *does*: its output shape, dropout in train and
eval mode, learning one batch by heart, and agreeing with a reference function.

Like :mod:`d2lcompute.testing.assertions`, each failure raises
:class:`~d2lcompute.testing.failures.CheckFailed` with what was expected, what was found and
the likely cause. They run from a fixed seed and restore the global random state and the
model's train/eval flags, so a test that calls them stays repeatable.
"""

import contextlib
import copy

import torch

from d2lcompute._checks import check_int, check_module, check_number
from d2lcompute._seeding import seeded
from d2lcompute.diagnostics import check_gradients
from d2lcompute.testing.failures import call, describe, fail, fail_if_different


def assert_output_shape(model, input_shape, expected_shape):
    """Assert that ``model(torch.rand(input_shape))`` has shape ``expected_shape``.

    ``None`` in ``expected_shape`` matches any size. The random input does not disturb the
    global random state.

    Example::

        >>> assert_output_shape(torch.nn.Linear(20, 10), (2, 20), (2, 10))
    """
    check_module("model", model)
    input_shape = _check_shape("input_shape", input_shape)
    expected_shape = _check_shape("expected_shape", expected_shape, allow_none=True)
    with seeded(0), torch.no_grad():
        X = torch.rand(input_shape)
        Y = call(f"model(X) with X of shape {input_shape}", model, X)
    if not isinstance(Y, torch.Tensor):
        fail("model(X) did not return a tensor", expected="a tensor", found=describe(Y))
    found = tuple(Y.shape)
    if len(found) != len(expected_shape) or any(
        e is not None and e != f for e, f in zip(expected_shape, found)
    ):
        fail(
            f"model(X) with X of shape {input_shape} has the wrong output shape",
            expected=_shape_text(expected_shape),
            found=str(found),
            cause="a layer of the wrong size or a missing reshape/flatten; "
            "d2l.summary(model, input_size) shows the shape after every layer",
        )


def assert_train_eval_differ(model, x, *, tries=5):
    """Assert that in ``train()`` mode the output differs from ``eval()`` mode (dropout on).

    The model's train/eval flags and the global random state are restored afterwards.

    Example::

        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5))
        >>> assert_train_eval_differ(net, torch.rand(3, 4))
    """
    check_module("model", model)
    tries = check_int("tries", tries, min_value=1)
    with _mode(model, training=False), seeded(0), torch.no_grad():
        expected = call("model(x) in eval() mode", model, x)
    with _mode(model, training=True), seeded(0), torch.no_grad():
        for _ in range(tries):
            if not _same(call("model(x) in train() mode", model, x), expected):
                return
    fail(
        f"in train() mode the output equals the eval() output in {tries} tries",
        expected="dropout active in training: outputs that differ from eval() mode",
        found="the same output in both modes",
        cause="forward ignores self.training (or the dropout probability is 0)",
        book="§4.6 (dropout)",
    )


def assert_eval_deterministic(model, x):
    """Assert that in ``eval()`` mode two calls on ``x`` give the same output (dropout off).

    Example::

        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5))
        >>> assert_eval_deterministic(net, torch.rand(3, 4))
    """
    check_module("model", model)
    with _mode(model, training=False), seeded(0), torch.no_grad():
        first = call("model(x) in eval() mode", model, x)
        second = call("model(x) in eval() mode", model, x)
    if not _same(first, second):
        fail(
            "in eval() mode two calls on the same input give different outputs",
            expected="the same output every time at test time",
            found="different outputs",
            cause="dropout still runs at test time; apply it only `if self.training:`",
            book="§4.6 (dropout)",
        )


def assert_can_overfit(model, batch, loss, *, steps=200, optimizer=None, tol=0.05):
    """Assert that ``model`` drives ``loss`` on one small batch below ``tol``: it can learn.

    A copy of the model is trained, so ``model`` itself is not changed.

    Args:
        model: the ``nn.Module``.
        batch: ``(X, y)``, a few examples.
        loss: ``loss(y_hat, y)``, a scalar or one value per example (averaged).
        steps: optimisation steps.
        optimizer: ``params -> optimizer``; default ``torch.optim.Adam(params, lr=0.01)``.
        tol: the largest final loss that passes: near zero next to the loss of an
            untrained classifier (ln 10 = 2.3 for ten classes).

    Example::

        >>> _ = torch.manual_seed(0)
        >>> nn = torch.nn
        >>> net = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
        >>> assert_can_overfit(net, (torch.rand(6, 4), torch.arange(6) % 3), nn.CrossEntropyLoss())
    """
    check_module("model", model)
    steps = check_int("steps", steps, min_value=1)
    tol = check_number("tol", tol, min_value=0)
    if optimizer is not None and not callable(optimizer):
        raise TypeError(
            f"optimizer must be a function params -> optimizer, e.g. lambda p: "
            f"torch.optim.SGD(p, lr=0.1); got optimizer={optimizer!r}"
        )
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(f"batch must be a pair (X, y), got batch of type {type(batch).__name__}")
    X, y = batch
    net = copy.deepcopy(model)
    params = list(net.parameters())
    if not params:
        fail(
            f"{type(model).__name__} has no parameters to train",
            cause="layers kept where nn.Module cannot see them (see assert_registered)",
            book="§5.1",
        )
    opt = optimizer(params) if optimizer else torch.optim.Adam(params, lr=0.01)
    with seeded(0):
        issues = call(
            "a forward and backward pass of model(X)",
            lambda: check_gradients(net, X, loss_fn=lambda out: loss(out, y).mean()),
        )
        stuck = "parameters get no useful gradient: " + ", ".join(i.name for i in issues)
        first = None
        for step in range(steps):
            opt.zero_grad()
            value = call("loss(model(X), y)", lambda: loss(net(X), y).mean())
            first = value.item() if first is None else first
            if not value.requires_grad:
                fail(
                    f"{type(model).__name__} cannot overfit: the loss depends on none of "
                    f"its parameters through autograd",
                    cause=stuck,
                    book="§5.4",
                )
            if not torch.isfinite(value):
                fail(
                    f"the loss became {value.item()} at step {step + 1}: training diverged",
                    cause="a learning rate that is too large",
                    book="§4.8",
                )
            value.backward()
            opt.step()
        with torch.no_grad():
            final = loss(net(X), y).mean().item()
    if final > tol:
        fail(
            f"{type(model).__name__} cannot overfit one batch of {len(X)} examples: the "
            f"loss went from {first:.4g} to {final:.4g} in {steps} steps",
            expected=f"final loss <= {tol:g}",
            found=f"{final:.4g}",
            cause=stuck
            if issues
            else "a learning rate that is too small, too few steps, "
            "or a model too small (or ending in an activation) to fit the targets",
        )


def assert_same_result(fn, reference, *, cases, rtol=None, atol=None, seed=0):
    """Assert that ``fn(*case)`` equals ``reference(*case)`` for every case.

    Compared with ``torch.testing.assert_close`` (tensors, numbers and nested containers;
    dtypes must match). Each call gets its own copy of the arguments and starts from
    ``torch.manual_seed(seed)``, so random functions that draw alike agree.

    Args:
        fn, reference: the function under test and the one known to be right.
        cases: the argument tuples; a non-tuple is a single argument.
        rtol, atol: tolerances, as in ``torch.testing.assert_close`` (both or neither).
        seed: the seed before each call; ``None`` leaves the random state alone.

    Example::

        >>> assert_same_result(lambda x: x * 2, lambda x: x + x, cases=[torch.ones(3), 1.5])
    """
    for name, value in (("fn", fn), ("reference", reference)):
        if not callable(value):
            raise TypeError(f"{name} must be callable, got {name}={value!r}")
    cases = [case if isinstance(case, tuple) else (case,) for case in cases]
    if not cases:
        raise ValueError("cases must hold at least one argument tuple, got none")
    fn_name = getattr(fn, "__name__", "fn")
    for k, args in enumerate(cases, 1):
        text = f"{fn_name}({', '.join(describe(a) for a in args)})"
        with seeded(seed):
            expected = reference(*copy.deepcopy(args))
        with seeded(seed):
            actual = call(text, fn, *copy.deepcopy(args))
        summary = f"case {k} of {len(cases)} differs: {text}"
        fail_if_different(actual, expected, summary, lines=4, rtol=rtol, atol=atol)


def _check_shape(name, shape, allow_none=False):
    if (
        isinstance(shape, int)
        or not isinstance(shape, (tuple, list, torch.Size))
        or not all((s is None and allow_none) or (isinstance(s, int) and s >= 0) for s in shape)
    ):
        allowed = "sizes >= 0 or None" if allow_none else "sizes >= 0"
        raise TypeError(f"{name} must be a tuple of {allowed}, got {name}={shape!r}")
    return tuple(shape)


def _shape_text(shape):
    return (
        "("
        + ", ".join("any" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def _same(a, b):
    try:
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    except (AssertionError, TypeError, ValueError):
        return False
    return True


@contextlib.contextmanager
def _mode(model, training):
    """Put ``model`` in train or eval mode; restore every submodule's own flag afterwards."""
    saved = [(module, module.training) for module in model.modules()]
    model.train(training)
    try:
        yield
    finally:
        for module, flag in saved:
            module.training = flag
