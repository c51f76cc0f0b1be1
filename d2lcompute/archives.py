"""Archives from the data hub, extracted safely (§4.10 ``download_extract``; en: ``extract``).

Every member is checked before anything is written: an absolute path, a ``..`` component,
a link or a device file makes the whole archive be refused, so nothing can land outside the
target folder. A hidden record next to the archive (``.NAME.extracted``) keeps its sha1 and
each extracted member's size and modification time, so a second call writes nothing unless
the archive or a member changed.
"""

import contextlib
import functools
import json
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path, PureWindowsPath

from d2lcompute import hub
from d2lcompute._files import atomic_write, missing_folders

_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".gz", ".zip")


def download_extract(name, folder=None):
    """Download the zip or tar archive ``name`` from ``DATA_HUB`` and extract it next to itself.

    Every member is checked before anything is written: an absolute path, a ``..``
    component, a link or a device file makes the whole archive be refused, so nothing
    can land outside the data folder. A hidden record next to the archive
    (``.NAME.extracted``) keeps its sha1 and each extracted member's size and modification
    time: a member is written again when the archive changed or the member did (cut short,
    overwritten); the others are not, so calling this twice is cheap and a read-only folder that
    holds the extracted files works.

    Args:
        name: a key of ``DATA_HUB`` naming a ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``,
            ``.tar.bz2`` or ``.tar.xz`` file (the book also treats ``.gz`` as tar).
        folder: the folder inside the archive to return; ``None`` returns the archive's
            path without its suffix (``.tar.gz`` is dropped whole, where the book
            dropped only ``.gz``).

    Returns:
        The extracted folder's path as a ``str``.

    Raises:
        ValueError: unknown ``name``, not an archive, unreadable or unsafe archive.
        DownloadError: as for :func:`download`.

    Example::

        data_dir = d2l.download_extract('hotdog', 'hotdog')

    Book: §4.10
    """
    fname = Path(hub.download(name))
    suffix = _archive_suffix(fname)
    if suffix is None:
        raise ValueError(
            f"download_extract extracts {', '.join(_ARCHIVE_SUFFIXES)} files, "
            f"got name={name!r} ({fname.name}); use download({name!r}) instead"
        )
    _extract_archive(fname, suffix, fname.parent, hub.DATA_HUB[name][1].lower())  # checked
    return str(fname.parent / folder) if folder else str(fname)[: -len(suffix)]


def extract(filename, folder=None):
    """Extract the zip or tar archive ``filename`` into ``folder``; return that folder.

    The English edition's counterpart of :func:`download_extract`, with the same checks:
    a member with an absolute path, a ``..`` component, a link or a device file makes
    the whole archive be refused, and members recorded as extracted from this very
    archive (by sha1) and unchanged since are not written again.

    Args:
        filename: the path of a ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``
            or ``.tar.xz`` file (the book also treats ``.gz`` as tar).
        folder: where to extract; ``None`` extracts next to the archive, as the book does.

    Returns:
        The folder extracted into, as a ``str`` (the book returns nothing).

    Raises:
        ValueError: not an archive, unreadable or unsafe archive.

    Example::

        d2l.extract(d2l.download(d2l.DATA_URL + 'fra-eng.zip', self.root,
                                 '94646ad1522d915e7b0f9296181140edcf86a4f5'))

    Book (d2l.ai 1.0): §5.7
    """
    path = _as_path("filename", filename)
    suffix = _archive_suffix(path)
    if suffix is None:
        raise ValueError(
            f"extract extracts {', '.join(_ARCHIVE_SUFFIXES)} files, got filename={str(filename)!r}"
        )
    target = path.parent if folder is None else _as_path("folder", folder)
    _extract_archive(path, suffix, target, hub.file_sha1(path))
    return str(target)


# Archive members as (name, kind, size, open): kind is "file", "dir" or what else it is.
def _zip_members(archive):
    for info in archive.infolist():
        is_link = stat.S_ISLNK(info.external_attr >> 16)  # unix mode in the high 16 bits
        kind = "symlink" if is_link else "dir" if info.is_dir() else "file"
        yield info.filename, kind, info.file_size, functools.partial(archive.open, info)


def _tar_members(archive):
    for member in archive.getmembers():
        kind = (
            "dir"
            if member.isdir()
            else "file"
            if member.isfile()
            else "symlink"
            if member.issym()
            else "hard link"
            if member.islnk()
            else "device or fifo"
        )
        yield member.name, kind, member.size, functools.partial(archive.extractfile, member)


def _as_path(arg, value):
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{arg} must be a path, got {arg}={value!r}")
    return Path(value)


def _archive_suffix(path):
    return next((s for s in _ARCHIVE_SUFFIXES if path.name.endswith(s)), None)


def _extract_archive(path, suffix, base_dir, sha1_hash):
    kind = "zip" if suffix == ".zip" else "tar"
    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as archive:
                _extract(list(_zip_members(archive)), base_dir, path, sha1_hash)
        else:
            with tarfile.open(path) as archive:
                _extract(list(_tar_members(archive)), base_dir, path, sha1_hash)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        raise ValueError(f"{path} is not a readable {kind} archive: {e}") from e


def _extract(members, base_dir, archive_path, sha1_hash):
    """Write ``members`` under ``base_dir``, after checking that every one stays inside it.

    All or nothing: the members to write are extracted into a temporary folder inside
    ``base_dir`` (same file system, so moving is a rename) and moved into place only when
    every one was read in full and passed its CRC check. Members the record says were
    extracted from this very archive, and that have not changed since (same size and
    modification time), are left as they are.
    """
    root = base_dir.resolve()
    plan = [
        (_member_target(root, name, kind, archive_path), name, kind, open_member)
        for name, kind, _size, open_member in members
    ]
    _check_conflicts(plan, root, archive_path)
    record_path = archive_path.with_name(f".{archive_path.name}.extracted")
    known = _read_record(record_path, sha1_hash)
    stale = [
        (target, open_member)
        for target, _name, kind, open_member in plan
        if kind == "file"
        and (_identity(target) is None or _identity(target) != known.get(_key(root, target)))
    ]
    created = missing_folders(root)
    staging = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        # none to write: no staging folder, so a read-only folder holding the members works
        if stale:
            staging = Path(tempfile.mkdtemp(prefix=f".{archive_path.name}.partial-", dir=root))
        for i, (_target, open_member) in enumerate(stale):
            # Written in place rather than through atomic_write: an fsync per member would
            # make archives of ~100k small files (aclImdb) take minutes.
            with open_member() as src, open(staging / str(i), "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        for target, _name, kind, _open in plan:
            (target if kind == "dir" else target.parent).mkdir(parents=True, exist_ok=True)
        for i, (target, _open) in enumerate(stale):
            os.replace(staging / str(i), target)
    except BaseException:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # deepest first; only the ones this call created, if empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    if staging:
        shutil.rmtree(staging, ignore_errors=True)
    extracted = {
        _key(root, target): _identity(target) for target, _n, kind, _o in plan if kind == "file"
    }
    if extracted != known:
        with atomic_write(record_path, "w", encoding="utf-8") as f:
            json.dump({"archive_sha1": sha1_hash, "members": extracted}, f)


def _key(root, target):
    return target.relative_to(root).as_posix()


def _check_conflicts(plan, root, archive_path):
    """A file member where another member needs a folder (``x`` and ``x/``, or ``x`` and
    ``x/y``), or a file already on disk there, would fail half way: refuse up front."""
    files = {target: name for target, name, kind, _open in plan if kind == "file"}
    for target, name, _kind, _open in plan:
        for parent in target.parents:
            if parent == root or root not in parent.parents:
                break
            if parent in files:
                raise ValueError(
                    f"refusing to extract {archive_path}: member {files[parent]!r} is a file "
                    f"but member {name!r} needs a folder of that name; nothing was extracted"
                )
            if parent.exists() and not parent.is_dir():
                raise ValueError(
                    f"refusing to extract {archive_path}: member {name!r} needs a folder "
                    f"{parent}, which is a file on disk; nothing was extracted"
                )
        if _kind == "dir" and target in files:
            raise ValueError(
                f"refusing to extract {archive_path}: member {files[target]!r} is a file "
                f"but member {name!r} is a folder of that name; nothing was extracted"
            )


def _read_record(record_path, sha1_hash):
    """``{member: [size, mtime_ns]}`` extracted from the archive with ``sha1_hash``, or {}."""
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict) or record.get("archive_sha1") != sha1_hash:
        return {}  # another archive (or none): extract everything again
    members = record.get("members")
    return members if isinstance(members, dict) else {}


def _identity(path):
    """``[size, mtime_ns]`` of a regular file, or None."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return [info.st_size, info.st_mtime_ns] if stat.S_ISREG(info.st_mode) else None


def _member_target(root, name, kind, archive_path):
    parts = name.replace("\\", "/").split("/")
    target = root.joinpath(*(p for p in parts if p not in ("", ".")))
    if kind not in ("file", "dir"):
        reason = f"is a {kind}; only files and folders are extracted"
    elif name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        reason = "is an absolute path"
    elif ".." in parts or not target.resolve().is_relative_to(root):
        reason = f"would land outside {root}"
    elif kind == "file" and target == root:
        reason = "has no file name"
    else:
        return target
    raise ValueError(
        f"refusing to extract {archive_path}: member {name!r} {reason}; nothing was extracted"
    )
