"""Pieces every command shares: one definition per option name, so ``--epochs`` or
``--device`` mean the same in every command, and the error a command raises for bad input.
"""

import argparse
import os
import sys
from pathlib import Path

from d2lcompute.errors import UserError


class CommandError(UserError):
    """Bad input to a command; the CLI prints the message and exits with status 2."""


def _converter(parse, accept, expected):
    """An argparse ``type=``: ``parse`` the text, then ``accept`` the value or explain."""

    def convert(text):
        try:
            value = parse(text)
        except ValueError:
            value = None
        if value is None or not accept(value):  # NaN fails every comparison, so it lands here
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return convert


_INF = float("inf")
_positive_int = _converter(int, lambda v: v > 0, "a positive integer")
_positive_float = _converter(float, lambda v: 0 < v < _INF, "a positive number")
_non_negative_float = _converter(float, lambda v: 0 <= v < _INF, "a number >= 0")
_probability = _converter(float, lambda v: 0 <= v < 1, "a probability in [0, 1)")
_seed = _converter(int, lambda v: _seed_ok(v), "an integer seed in [0, 2**32)")


def _seed_ok(value):
    from d2lcompute._seeding import SEED_LIMIT  # the package's one seed policy (loads torch)

    return 0 <= value < SEED_LIMIT


OPTIONS = {
    "--epochs": dict(type=_positive_int, metavar="N", help="number of training epochs"),
    "--lr": dict(type=_positive_float, metavar="LR", help="learning rate"),
    "--batch-size": dict(type=_positive_int, metavar="N", help="mini-batch size"),
    "--weight-decay": dict(type=_non_negative_float, metavar="WD", help="L2 weight decay"),
    "--dropout": dict(type=_probability, metavar="P", help="dropout probability in [0, 1)"),
    "--folds": dict(
        type=_positive_int, metavar="K", help="number of folds for k-fold cross-validation"
    ),
    "--seed": dict(
        type=_seed,
        default=0,
        metavar="S",
        help="random seed; the same seed gives the same result (default: 0)",
    ),
    "--device": dict(
        metavar="DEV",
        help="cpu, cuda, cuda:1 or mps (default: the first GPU if there is one, else cpu)",
    ),
    "--data-dir": dict(
        type=Path,
        metavar="DIR",
        help="folder with the data sets (default: $D2LCOMPUTE_DATA_DIR, else the "
        "book's ../data if it holds them, else the data/ cache)",
    ),
    "--output-dir": dict(
        type=Path, metavar="DIR", help="folder for the figure, the checkpoint and metrics.csv"
    ),
    "--threads": dict(
        type=_positive_int,
        metavar="N",
        help="CPU threads for torch (default: $D2LCOMPUTE_THREADS, else torch's one per "
        "core, lowered to the cores other processes leave free: on a busy 2-core machine "
        "1 thread trained 6-9x faster than torch's 2)",
    ),
    "--output": dict(type=Path, metavar="FILE", help="file to write"),
}


def add_options(parser, *flags, **defaults):
    """Add the shared options ``flags`` to ``parser``; ``defaults`` maps ``dest`` to a value."""
    for flag in flags:
        spec = dict(OPTIONS[flag])
        dest = flag.lstrip("-").replace("-", "_")
        if dest in defaults:
            spec["default"] = defaults[dest]
            spec["help"] += f" (default: {defaults[dest]})"
        parser.add_argument(flag, **spec)


def check_output(flag, path, *, folder=False):
    """Refuse, before any work, an output ``path`` that could not be written afterwards.

    ``folder=True``: ``path`` is a folder to write files in; else a file to write.
    """
    if folder and path.exists() and not path.is_dir():
        raise CommandError(f"{flag} {path} is a file; give a folder")
    if not folder and path.is_dir():
        raise CommandError(
            f"{flag} {path} is a folder; give a file name, e.g. {path / 'submission.csv'}"
        )
    existing = path if folder else path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # the folders in between are created when writing
    if not existing.is_dir():
        raise CommandError(f"{flag} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CommandError(f"{flag} {path}: no permission to write in {existing}")


def report_interrupt(command):
    """Say on stderr that ``command`` stopped at Ctrl-C: once, from rank 0 under torchrun.

    A terminal's Ctrl-C reaches every process torchrun started; only one of them speaks.
    """
    from d2lcompute import distributed

    if distributed.is_main_process():
        print(f"\nd2lcompute {command}: interrupted", file=sys.stderr)


def out_of_memory(error):
    """Whether ``error`` says that a tensor could not be allocated (CPU or GPU)."""
    import torch

    return isinstance(
        error, (MemoryError, torch.OutOfMemoryError)
    ) or "can't allocate memory" in str(error)


def resolve_device(name):
    """``--device`` text to a ``torch.device``; ``None`` means ``try_gpu()``."""
    import torch

    from d2lcompute._checks import device_exists
    from d2lcompute.devices import try_gpu

    if name is None:
        return try_gpu()
    try:
        device = torch.device(name)
    except RuntimeError:
        raise CommandError(f"--device must be cpu, cuda, cuda:N or mps, got {name!r}") from None
    if device.type not in ("cpu", "cuda", "mps") or not device_exists(device):
        raise CommandError(
            f"--device {name}: no such device on this machine "
            f"(try --device cpu, or leave --device out to pick one)"
        )
    return device
