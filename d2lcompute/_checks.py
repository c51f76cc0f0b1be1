"""Argument checks shared by the public entry points.

Every message names the argument, the value received and what is allowed, e.g.
``dropout must be a probability in [0, 1], got dropout=1.5``. These are ordinary
exceptions, not ``assert`` (which ``python -O`` strips).
"""

import numbers


def check_int(name, value, *, min_value=None, max_value=None):
    """Return ``value`` if it is an integer (not a bool) within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {name}={value!r} ({type(value).__name__})")
    _check_bounds(name, value, min_value, max_value)
    return int(value)


def check_number(name, value, *, min_value=None, max_value=None):
    """Return ``value`` as a float if it is a real number (not a bool) within the bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {name}={value!r} ({type(value).__name__})")
    if value != value:  # NaN passes every comparison below
        raise ValueError(f"{name} must be a number, got {name}={value!r}")
    _check_bounds(name, value, min_value, max_value)
    return float(value)


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


def _check_bounds(name, value, min_value, max_value):
    if min_value is not None and value < min_value:
        raise ValueError(f"{name} must be >= {min_value}, got {name}={value!r}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name} must be <= {max_value}, got {name}={value!r}")


def check_module(name, value):
    """Return ``value`` if it is an ``nn.Module``."""
    import reprlib

    from torch import nn

    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be an nn.Module, got {name}={reprlib.repr(value)} "
                        f"({type(value).__name__})")
    return value
