"""Argument checks shared by the public entry points.

Every message names the argument, the value received and what is allowed, e.g.
``dropout must be a probability in [0, 1], got dropout=1.5``. These are ordinary
exceptions, not ``assert`` (which ``python -O`` strips).
"""

import numbers
import reprlib

import torch


def check_int(name, value, *, min_value=None, max_value=None):
    """Return ``value`` if it is an integer (not a bool) within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {name}={value!r} ({type(value).__name__})")
    _check_bounds(name, value, min_value, max_value)
    return int(value)


def check_number(name, value, *, min_value=None, max_value=None, above=None, finite=False):
    """Return ``value`` as a float if it is a real number (not a bool) within the bounds.

    ``min_value``/``max_value`` are inclusive; ``above`` is an exclusive lower bound
    (``lr`` must be > 0, not >= 0); ``finite=True`` refuses ``inf`` and ``-inf``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {name}={value!r} ({type(value).__name__})")
    if value != value:  # NaN passes every comparison below
        raise ValueError(f"{name} must be a number, got {name}={value!r}")
    if finite and value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {name}={value!r}")
    if above is not None and not value > above:
        raise ValueError(f"{name} must be > {above}, got {name}={value!r}")
    _check_bounds(name, value, min_value, max_value)
    return float(value)


def check_lr(lr, name="lr"):
    """Return the learning rate ``lr`` if it is a finite number > 0."""
    check_number(name, lr, above=0, max_value=float("inf"))
    if lr == float("inf"):
        raise ValueError(f"{name} must be finite, got {name}={lr!r}")
    return float(lr)


def check_module(name, value):
    """Return ``value`` if it is an ``nn.Module`` (a layer or a network)."""
    if not isinstance(value, torch.nn.Module):
        raise TypeError(
            f"{name} must be an nn.Module, got {name}={reprlib.repr(value)} "
            f"({type(value).__name__})"
        )
    return value


def check_probability(name, value):
    """Return ``value`` as a float if it lies in [0, 1]."""
    check_number(name, value)
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {name}={value!r}")
    return float(value)


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {name}={value!r}")
    return value


def check_examples(name, X, num_inputs):
    """Return ``X`` if it is a tensor of examples with ``num_inputs`` elements each.

    ``X.reshape(-1, num_inputs)`` accepts any tensor whose size divides evenly, so an image of
    the wrong size would silently become fewer or more rows than the batch has examples.
    """
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(X).__name__}")
    per_example = X[0].numel() if X.dim() > 1 else None
    if per_example != num_inputs:
        raise ValueError(
            f"{name} must have shape (N, *) with {num_inputs} elements per example "
            f"(e.g. (N, {num_inputs})), got shape {tuple(X.shape)}"
        )
    return X


def _check_bounds(name, value, min_value, max_value):
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {name}={value!r}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be <= {max_value}, got {name}={value!r}")
