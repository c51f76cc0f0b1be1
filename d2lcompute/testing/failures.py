"""How a teaching check fails: :class:`CheckFailed` and one layout for its message.

A message names what was expected, what was found, the likely cause and the book section.
Student code is called through :func:`call`, so that an exception in it becomes a failure
that shows the call instead of a traceback into the checker.

A convention that correctness does not need (state_dict key names, a weight's layout, the
book's own fold sizes) is no failure: a check calls :func:`note`, which records the
difference and its reason and lets the check go on; the report shows it beside the verdict.
"""

import reprlib

import torch


class CheckFailed(AssertionError):
    """A teaching check failed; the message says what was expected, found, and why."""


def fail(summary, *, expected=None, found=None, cause=None, book=None):
    """Raise :class:`CheckFailed` with the message laid out the same way everywhere."""
    lines = [summary]
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if found is not None:
        found = str(found)
        gap = "" if found.startswith("\n") else "    "  # a multi-line value starts below
        lines.append(f"  found:{gap}{found}")
    if cause:
        lines.append(f"  likely cause: {cause}")
    if book:
        lines.append(f"  book: {book}")
    raise CheckFailed("\n".join(lines))


def fail_if_different(actual, expected, summary, *, cause=None, lines=3, **tolerances):
    """Fail with ``summary`` unless ``torch.testing.assert_close(actual, expected)`` holds: the
    message shows both values, torch's first ``lines`` lines on how they differ and ``cause``."""
    try:
        torch.testing.assert_close(actual, expected, **tolerances)
    except (AssertionError, TypeError, ValueError) as e:
        details = [line for line in str(e).splitlines() if line.strip()][:lines]
        fail(
            summary,
            expected=describe(expected),
            found="".join(f"\n    {line}" for line in [describe(actual), *details]),
            cause=cause,
        )


_notes = []  # the notes of the check now running, in order (see exercises._run)


def note(text):
    """Record a convention the student's code does not follow but correctness does not need."""
    if text not in _notes:
        _notes.append(text)


def take_notes():
    """The notes recorded since the last call, cleared."""
    taken = list(_notes)
    _notes.clear()
    return taken


def describe(value):
    """A short text for a value: small tensors in full, big ones by shape and dtype."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        if value.numel() <= 12:
            return f"tensor({_rounded(value.detach().cpu().tolist())}, dtype={dtype})"
        return f"tensor of shape {tuple(value.shape)}, dtype={dtype}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return reprlib.repr(value)


def call(what, fn, *args):
    """``fn(*args)``; an exception in it becomes a failure that names the call ``what``."""
    try:
        return fn(*args)
    except CheckFailed:
        raise
    except Exception as e:  # any error in student code is a failure to show
        raise CheckFailed(f"{what} raised {type(e).__name__}: {e}") from e


def _rounded(values):
    """Nested lists of numbers with floats cut to 4 significant digits, for reading."""
    if isinstance(values, list):
        return [_rounded(v) for v in values]
    return float(f"{values:.4g}") if isinstance(values, float) else values
