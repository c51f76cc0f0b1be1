"""The exceptions a user can cause and fix, apart from bad arguments (``ValueError``/``TypeError``).

The command line prints a ``UserError`` as one line and exits with status 2; every other
exception keeps its traceback, so a real bug stays visible.
"""


class UserError(Exception):
    """A failure the user caused and can fix: a damaged file, a full disk, a diverged run."""


class DivergenceError(UserError, ArithmeticError):
    """Training produced a loss that is NaN or infinite: the run has diverged.

    Attributes:
        epoch: the epoch (counted from 1) in which it happened.
        batch: the batch within that epoch (counted from 1), or None when unknown.
        last_finite_loss: the last finite loss seen before, or None.
    """

    def __init__(
        self,
        what,
        *,
        epoch,
        batch=None,
        last_finite_loss=None,
        hint="Try a smaller learning rate (lr).",
    ):
        self.what, self.hint = what, hint
        self.epoch, self.batch, self.last_finite_loss = epoch, batch, last_finite_loss
        where = f"epoch {epoch}" + (f", batch {batch}" if batch is not None else "")
        last = (
            "no finite loss was seen before"
            if last_finite_loss is None
            else f"the last finite loss was {last_finite_loss:.6g}"
        )
        super().__init__(f"{what} diverged at {where}: the loss is not finite; {last}. {hint}")

    def retold(self, what, hint=None):
        """The same divergence told as ``what``'s (a caller naming its run), with ``hint``."""
        return DivergenceError(
            what,
            epoch=self.epoch,
            batch=self.batch,
            last_finite_loss=self.last_finite_loss,
            hint=self.hint if hint is None else hint,
        )


class DataError(UserError, ValueError):
    """Data the user supplied (a file's rows, a table's values) that cannot be used as it is."""


class DamagedFileError(UserError, RuntimeError):
    """A file that is truncated, altered or not of the expected kind; the message names it."""


class FileAccessError(UserError, OSError):
    """A file could not be read or written for a reason the user can fix: it is missing, the
    disk is full, permission is denied. Raised where that happens, with the path named."""


class MissingFileError(FileAccessError, FileNotFoundError):
    """A file the user was to provide (or that was to be downloaded) is not there."""


class SettingError(UserError, ValueError):
    """An environment variable of d2lcompute's (``D2LCOMPUTE_THREADS``...) holds a value that
    cannot be used; the message names the variable, the value and what is allowed."""
