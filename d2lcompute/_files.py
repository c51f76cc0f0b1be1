"""Atomic file writes: a crash mid-save leaves the previous file intact.

The data goes to a temporary file in the target's folder (same file system), is
flushed and fsynced, and only then replaces the target with ``os.replace``, which
is atomic on POSIX and Windows. The new file keeps the old one's identity: its
permission bits, and the link when the path is a symlink (its target is replaced).
Temporary files left by a killed save are removed by the next save to that folder.
"""

import contextlib
import errno
import hashlib
import os
import re
import secrets
import socket
import stat
from pathlib import Path

from d2lcompute.errors import FileAccessError

# Failures the user causes and can fix; anything else is left as it is.
_USER_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOTDIR,
    errno.EISDIR,
}
# Temporary names say which host and process made them, so a later save can tell one
# of ours whose process is gone (stale) from another process's save in progress.
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
_TEMP = re.compile(r"\..+\.d2l-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}\.tmp")


@contextlib.contextmanager
def atomic_write(path, mode="wb", **open_kwargs):
    """Open a temporary file for writing that becomes ``path`` when the block succeeds.

    Raises:
        FileAccessError: the disk is full, the folder is not writable, or a part of the
            path is not a folder (an ``OSError`` naming ``path``).

    Example::

        with atomic_write("model.pt") as f:
            torch.save(state, f)
    """
    path = Path(os.path.realpath(path))  # through a symlink: its target gets the new data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(path.parent)
        fd, tmp = _create_temp(path)
    except OSError as e:
        raise _user_error(e, path) from e
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        if isinstance(e, OSError) and not isinstance(e, FileAccessError):
            raise _user_error(e, path) from e
        raise


def missing_folders(folder):
    """The folders that creating ``folder`` would add, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _create_temp(path):
    """``(fd, name)`` of a new file next to ``path``, with the mode ``path`` will have.

    A new file gets ``0o666`` minus the umask, applied by the kernel exactly as for
    ``open()`` (reading the umask would mean setting it, which races with other threads);
    an existing file's permission bits are copied.
    """
    try:
        keep = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        keep = None
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.parent / f".{path.name}.d2l-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666 if keep is None else 0o600)
            break
        except FileExistsError:
            continue
    if keep is not None:
        os.chmod(tmp, keep)
    return fd, tmp


def _remove_stale_temps(folder):
    """Delete temporary files of this host whose process has ended (a killed save)."""
    if os.name != "posix":  # no safe way to ask whether a pid lives; leave them
        return
    with os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMP.fullmatch(entry.name)
            if (
                match
                and match["host"] == _HOST
                and not _alive(int(match["pid"]))
                and entry.is_file(follow_symlinks=False)
            ):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)


def _alive(pid):
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _user_error(error, path):
    if error.errno not in _USER_ERRNOS:
        return error
    reason = error.strerror or str(error)
    hint = (
        "free some space or choose another folder"
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        else "choose a folder you can write to"
    )
    user_error = FileAccessError(f"cannot write {path}: {reason}; {hint}")
    user_error.errno = error.errno  # set after: OSError(errno, text) would prefix "[Errno 28]"
    return user_error


def file_sha1(path):
    """The sha1 hex digest of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
