"""Pieces every command shares: one definition per option name, so ``--epochs`` or
``--device`` mean the same in every command, and the error a command raises for bad input.
"""

import argparse
from pathlib import Path


class CommandError(Exception):
    """Bad input to a command; the CLI prints the message and exits with status 2."""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2**32), got {text!r}")
    return value


OPTIONS = {
    "--epochs": dict(type=_positive_int, metavar="N", help="number of training epochs"),
    "--lr": dict(type=_positive_float, metavar="LR", help="learning rate"),
    "--batch-size": dict(type=_positive_int, metavar="N", help="mini-batch size"),
    "--weight-decay": dict(type=_non_negative_float, metavar="WD", help="L2 weight decay"),
    "--dropout": dict(type=_probability, metavar="P", help="dropout probability in [0, 1)"),
    "--folds": dict(type=_positive_int, metavar="K", help="number of folds for k-fold cross-validation"),
    "--seed": dict(type=_seed, default=0, metavar="S",
                   help="random seed; the same seed gives the same result (default: 0)"),
    "--device": dict(metavar="DEV",
                     help="cpu, cuda, cuda:1 or mps (default: the first GPU if there is one, else cpu)"),
    "--data-dir": dict(type=Path, metavar="DIR",
                       help="folder with the data sets (default: $D2LCOMPUTE_DATA_DIR, else the data/ cache)"),
    "--output-dir": dict(type=Path, metavar="DIR", help="folder for figures, checkpoints and tables"),
    "--output": dict(type=Path, metavar="FILE", help="file to write"),
}


def add_options(parser, *flags, **defaults):
    """Add the shared options ``flags`` to ``parser``; ``defaults`` maps ``dest`` names to defaults."""
    for flag in flags:
        spec = dict(OPTIONS[flag])
        dest = flag.lstrip("-").replace("-", "_")
        if dest in defaults:
            spec["default"] = defaults[dest]
            spec["help"] += f" (default: {defaults[dest]})"
        parser.add_argument(flag, **spec)


def resolve_device(name):
    """``--device`` text to a ``torch.device``; ``None`` means ``try_gpu()``."""
    import torch

    from d2lcompute.devices import try_gpu

    if name is None:
        return try_gpu()
    try:
        device = torch.device(name)
    except RuntimeError:
        raise CommandError(f"--device must be cpu, cuda, cuda:N or mps, got {name!r}") from None
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count(),
        "mps": torch.backends.mps.is_available(),
    }
    if not available.get(device.type, False):
        raise CommandError(f"--device {name}: no such device on this machine "
                           f"(try --device cpu, or leave --device out to pick one)")
    return device
