"""The command line: ``python -m d2lcompute COMMAND [options]`` (also the ``d2lcompute`` script).

Each command lives in ``d2lcompute/commands/<name>.py`` with ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``. Options with the same name mean the same in every command
(see ``commands.add_options``); a training command (one with ``--threads``) runs with that
many torch threads, or as many as the CPUs free now (:mod:`d2lcompute.threads`). A failure
the user caused (an ``errors.UserError``: a bad option, a damaged file, a full disk, a
diverged run) ends with a one-line message and exit status 2; set ``D2LCOMPUTE_DEBUG=1``
to see its traceback. Anything else is a bug and keeps its traceback.
"""

import argparse
import contextlib
import os
import sys

from d2lcompute import __version__
from d2lcompute.commands import check, fashion_mnist, house_prices, info, report_interrupt
from d2lcompute.errors import UserError

# Each command module imports torch, pandas... only when it runs, so --help stays fast.
COMMANDS = {
    "info": info,
    "fashion-mnist": fashion_mnist,
    "house-prices": house_prices,
    "check": check,
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="d2lcompute",
        description="Jobs from Dive into Deep Learning, chapters 4-5.",
    )
    parser.add_argument("--version", action="version", version=f"d2lcompute {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        sub = subparsers.add_parser(
            name,
            help=module.HELP,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None):
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return its exit status."""
    _tolerate_any_console()
    args = build_parser().parse_args(argv)
    try:
        with _threads(args):
            return args.run(args) or 0
    except KeyboardInterrupt:
        report_interrupt(args.command)
        return 130
    except UserError as e:
        if os.environ.get("D2LCOMPUTE_DEBUG"):
            raise
        print(f"d2lcompute {args.command}: error: {e}", file=sys.stderr)
        return 2


def _threads(args):
    """A training command runs with ``--threads`` or the package's thread policy."""
    if not hasattr(args, "threads"):
        return contextlib.nullcontext()
    from d2lcompute.threads import training_threads  # loads torch

    return training_threads(args.threads)


def _tolerate_any_console():
    """Print what a console cannot encode as ``?`` rather than fail.

    The help quotes the book (``§4.10``, its Chinese title); a Windows console in cp1252
    or output forced to ASCII ended ``--help`` in ``UnicodeEncodeError``.
    """
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and stream.errors == "strict":
            stream.reconfigure(errors="replace")
