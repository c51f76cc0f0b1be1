"""Argument checks shared by the public entry points, and the package's policy for wrong types.

Every message names the argument, the value received and what is allowed, e.g.
``dropout must be a probability in [0, 1], got dropout=1.5``. These are ordinary
exceptions, not ``assert`` (which ``python -O`` strips).

The policy for the wrong type (also in CONTRIBUTING.md). Every public function that takes a
tensor, a data frame, a model or a device checks it through one of these helpers before any
work, so that a careless call ends in a ``TypeError`` (wrong type, wrong dtype) or a
``ValueError`` (a wrong value: a device this machine does not have) naming the argument, its
type and what is allowed, never in an error from deep inside torch or pandas
(``'str' object has no attribute 'pow'``, ``mat1 and mat2 must have the same dtype``):

- a tensor: :func:`check_tensor` (``floating=True`` for values a model computes with);
  a batch against a model: :func:`check_model_input` (a float64 input to a float32 model);
- a model: :func:`check_module`; a model or a function of a batch: :func:`check_callable`;
- a device: :func:`check_device` (a name torch cannot read, or a device that is not here,
  e.g. ``"cuda:5"`` on a machine without it: it lists the devices this machine has);
- a data frame: :func:`check_frame`.

The checks are type tests, cheap enough for functions called once per mini-batch.
Deliberate exceptions, left to torch's own errors:

- the backend aliases in :mod:`d2lcompute.compat` (``d2l.reshape``, ``d2l.tensor``,
  ``d2l.to``...): they *are* torch's functions, under the book's names;
- what runs inside a model's ``forward`` (user code) and inside a loss function;
- per-batch checks inside the training loops: a batch is checked by the layer that gets it
  (``summary`` and ``house_prices.log_rmse`` translate a dtype mismatch, since they run a
  model the user handed over on data they also handed over).
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


def check_callable(name, value):
    """Return ``value`` if it is an ``nn.Module`` or another callable (a scratch net)."""
    if not callable(value):
        raise TypeError(
            f"{name} must be an nn.Module or a function of a batch, got "
            f"{name}={reprlib.repr(value)} ({type(value).__name__})"
        )
    return value


def check_tensor(name, value, *, floating=False):
    """Return ``value`` if it is a ``torch.Tensor`` (of a floating dtype, if ``floating``)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {name}={reprlib.repr(value)} "
            f"({type(value).__name__}); convert it with torch.tensor(...)"
        )
    if floating and not (value.is_floating_point() or value.is_complex()):
        raise TypeError(
            f"{name} must be a floating-point tensor, got {name} of dtype {value.dtype}; "
            f"convert it with {name}.float()"
        )
    return value


def check_model_input(name, X, model):
    """Return ``X`` if it is a tensor whose floating dtype matches ``model``'s parameters.

    A float64 batch (``torch.tensor`` of numpy data) against a float32 model would end in
    torch's ``mat1 and mat2 must have the same dtype``; integer inputs (token ids for an
    embedding) are left to the model.
    """
    check_tensor(name, X)
    params = model.parameters() if isinstance(model, torch.nn.Module) else ()
    param = next((p for p in params if p.is_floating_point()), None)
    if param is not None and X.is_floating_point() and X.dtype != param.dtype:
        raise TypeError(
            f"{name} has dtype {X.dtype} but the model's parameters are {param.dtype}: "
            f"convert the input with {name}.to({param.dtype}) (for float32: {name}.float()), "
            f"or the model with model.to({X.dtype})"
        )
    return X


def device_exists(device):
    """True if ``device`` (a ``torch.device`` or a name such as ``"cuda:1"``) is on this machine.

    The one place that decides it: ``check_device``, the command line's ``--device`` and
    ``io.load`` ask here.
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        return False
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    if device.type == "mps":
        return torch.backends.mps.is_available() and (device.index or 0) == 0
    backend = getattr(torch, device.type, None)
    return bool(getattr(backend, "is_available", lambda: False)())


def check_device(name, value, *, allow_none=False):
    """Return ``value`` as a ``torch.device`` if it names a device this machine has.

    Accepts a ``torch.device``, a name (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``,
    ``"meta"``) or a CUDA index. ``"cuda:5"`` on a machine without it is a ``ValueError``
    listing the devices there are, rather than torch's "Found no NVIDIA driver".
    """
    if value is None and allow_none:
        return None

    if isinstance(value, bool) or not isinstance(value, (torch.device, str, int)):
        raise TypeError(
            f"{name} must be a torch.device or a name like 'cpu' or 'cuda:0', got "
            f"{name}={reprlib.repr(value)} ({type(value).__name__})"
        )
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError, ValueError) as e:
        raise ValueError(
            f"{name} must be a torch.device or a name like 'cpu' or 'cuda:0', got "
            f"{name}={value!r}; "
            f"this machine has {_available_devices()}"
        ) from e
    if device.type in ("cuda", "mps") and not device_exists(device):
        kind = "CUDA" if device.type == "cuda" else "MPS"
        raise ValueError(
            f"{name}={value!r}: no {kind} device {device.index or 0}; this machine has "
            f"{_available_devices()}"
        )
    return device


def check_sequence(name, value, what="a sequence"):
    """Return ``value`` if it is a sequence, a tensor or an array (a ``str`` is not: it would be
    iterated character by character)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(
            f"{name} must be {what}, got {name}={reprlib.repr(value)} ({type(value).__name__})"
        )
    return value


def check_frame(name, value):
    """Return ``value`` if it is a pandas ``DataFrame`` (read a CSV with ``pd.read_csv``)."""
    import pandas as pd  # lazy: importing the package must not import pandas

    if not isinstance(value, pd.DataFrame):
        raise TypeError(
            f"{name} must be a pandas DataFrame (e.g. pd.read_csv(path)), got "
            f"{name}={reprlib.repr(value)} ({type(value).__name__})"
        )
    return value


def check_figsize(figsize):
    """``figsize`` as ``(width, height)`` in inches, both > 0."""
    if not (
        isinstance(figsize, (tuple, list))
        and len(figsize) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) and v > 0 for v in figsize)
    ):
        raise ValueError(
            f"figsize must be (width, height) in inches, both > 0, got figsize={figsize!r}"
        )
    return tuple(figsize)


def check_fmts(fmts, num_curves):
    """``fmts``: a matplotlib format string per curve (one string stands for a tuple of one)."""
    if isinstance(fmts, str):
        fmts = (fmts,)
    if len(fmts) < num_curves:
        raise ValueError(
            f"fmts must give a format per curve: {num_curves} curves, got fmts={tuple(fmts)!r}"
        )
    return fmts


def _available_devices():
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    elif torch.backends.mps.is_available():
        names.append("mps")
    return ", ".join(names) + ("" if len(names) > 1 else " only")


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
