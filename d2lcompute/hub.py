"""Where data sets live, and the book's data hub (Book: §4.10, "Downloading and Caching Datasets").

One folder holds the data, chosen in this order: an explicit ``data_dir`` argument,
the environment variable ``D2LCOMPUTE_DATA_DIR``, the book's ``../data`` when it already
holds the files asked for (the book's notebooks keep their data there), then the
project's ``data/`` cache (the user cache folder when the package is installed rather
than run from a checkout).

``DATA_HUB`` maps a name to ``(url, sha1)``. ``download`` keeps the book's name and
both editions' signatures (the Chinese edition's ``download(name, cache_dir)``, the
English edition's ``download(url, folder, sha1_hash)``) but trusts neither the network
nor the cache: it uses a cached file only if its sha1 matches, checks the HTTP status,
writes to a temporary file that becomes the real one only after the sha1 check, and
says which URL failed and where to put the file by hand. A transfer has an overall
deadline and a size limit, and transient failures are retried with pooch's own
``retry_if_failed`` (waits of 1 s, 2 s...): :mod:`d2lcompute._transfer`. Archives
(``download_extract``, ``extract``) are in :mod:`d2lcompute.archives`. pooch (requests,
tqdm) does the HTTP.
"""

import contextlib
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from d2lcompute._files import file_sha1, missing_folders
from d2lcompute._transfer import DownloadError, Limits, failed, fetch, record_written, written_here
from d2lcompute.errors import FileAccessError

ENV_DATA_DIR = "D2LCOMPUTE_DATA_DIR"
BOOK_DATA_DIR = Path("..", "data")  # the book's folder, relative to the notebook or script

# why choose_data_dir chose a folder
GIVEN, ENVIRONMENT, BOOK_LAYOUT, CACHE = "given", "environment", "book layout", "cache"


def data_dir(data_dir=None, needs=()):
    """The folder that holds (or will hold) the data sets, as a ``Path``.

    Args:
        data_dir: an explicit folder; wins over everything else.
        needs: paths, relative to the folder, of the files the caller will read: the
            book's ``../data`` is chosen when it holds all of them (``[""]``: when it exists).
    """
    return choose_data_dir(data_dir, needs)[0]


def choose_data_dir(data_dir=None, needs=()):
    """The data folder and why it was chosen: ``(path, reason)``.

    ``reason`` is ``GIVEN`` (the ``data_dir`` argument), ``ENVIRONMENT``
    (``$D2LCOMPUTE_DATA_DIR``), ``BOOK_LAYOUT`` (``../data`` holds every file in ``needs``)
    or ``CACHE`` (the project's ``data/`` folder, or the user cache when installed).
    """
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a path, got data_dir={data_dir!r}")
        return Path(data_dir).expanduser(), GIVEN
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]).expanduser(), ENVIRONMENT
    if needs and all(_holds(BOOK_DATA_DIR, name) for name in needs):
        return BOOK_DATA_DIR.resolve(), BOOK_LAYOUT
    return Path(_default_cache()), CACHE


def _holds(folder, name):
    """True if ``folder / name`` is a file, or (for ``name=""``) if ``folder`` exists."""
    return (folder / name).is_file() if name else folder.is_dir()


# (real path, size, mtime_ns) -> sha1: a file is hashed again only when it changes
_SHA1_MEMO = {}


def known_sha1(path):
    """``file_sha1(path)``, remembered for the process by the file's size and modification
    time, so that loading a data set again does not re-read it to check it."""
    info = os.stat(path)
    key = (os.path.realpath(path), info.st_size, info.st_mtime_ns)
    if key not in _SHA1_MEMO:
        _SHA1_MEMO[key] = file_sha1(path)
    return _SHA1_MEMO[key]


def _default_cache():
    checkout = Path(__file__).resolve().parents[1]  # d2lcompute/hub.py -> the checkout
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout / "data"
    import pooch  # lazy: only needed to find the platform's cache folder

    return Path(pooch.os_cache("d2lcompute"))


DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"
# name -> (url, sha1), as in the book; book cells may register more entries.
DATA_HUB = {
    "kaggle_house_train": (
        DATA_URL + "kaggle_house_pred_train.csv",
        "585e9cc93e70b39160e7921475f9bcd7d31219ce",
    ),
    "kaggle_house_test": (
        DATA_URL + "kaggle_house_pred_test.csv",
        "fa19780a7b011d9b009e8bff8e99922a8ee2eb90",
    ),
}

# Fashion-MNIST as torchvision lays it out (uncompressed IDX files), with their sha1s.
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"  # *.gz there
FASHION_MNIST_SHA1 = {
    "FashionMNIST/raw/train-images-idx3-ubyte": "b9bd999c0106c9b8b4b0cefce58c9a6060f27095",
    "FashionMNIST/raw/train-labels-idx1-ubyte": "4bccf37222e01638381eaa326bf730337a597267",
    "FashionMNIST/raw/t10k-images-idx3-ubyte": "880056926db704f9f713097915f99da346f5b1d1",
    "FashionMNIST/raw/t10k-labels-idx1-ubyte": "958122e8b4b97fd4e71eca2d08ef754ed77c3ad9",
}

# Seconds to wait for the connection and then for each next piece of data (not for the
# whole file): long enough for a slow link, short enough that a dead one fails visibly.
DOWNLOAD_TIMEOUT = 30
# Seconds for a whole transfer: a server trickling a byte at a time is cut off.
DOWNLOAD_DEADLINE = 30 * 60
# Bytes a download may have (after decompression: a gzip bomb is cut off too). The book's
# files for chapters 4-5 are under 1 MB; raise it for the large archives of later chapters.
DOWNLOAD_MAX_BYTES = 256 << 20
# Further attempts after a transient failure (dropped connection, timeout, 5xx, wrong sha1).
DOWNLOAD_RETRIES = 2


def download(name, folder=None, sha1_hash=None, *, cache_dir=None):
    """Download a file into ``folder`` and return its local path; by ``DATA_HUB`` name or by URL.

    Both editions' calls work: the Chinese edition's ``download(name, cache_dir)`` with
    a ``DATA_HUB`` key, and the English edition's ``download(url, folder, sha1_hash)``.
    As in the English book, a first argument starting with ``http://`` or ``https://``
    is a URL and anything else a ``DATA_HUB`` key.

    A file already there whose sha1 matches is used as it is: no network and no write,
    so a read-only folder holding the right files works. Otherwise the file is fetched
    over HTTP(S) into a temporary file next to the target, its sha1 is checked, and
    only then is it renamed into place: an error page, a dropped connection or a corrupt
    transfer leaves nothing behind. A file already there with another sha1 is replaced
    (by a verified one) only if this package downloaded it and nobody changed it since, as a
    hidden record next to it (``.NAME.sha1``) says; any other, such as a student's edited
    copy, is never overwritten: ``DownloadError`` says so. A URL given without
    ``sha1_hash`` is trusted as it comes, and a file already there is used without fetching
    it again (the book fetches it every time). A progress bar is drawn on stderr when
    stderr is a terminal (not in notebooks or logs, where tqdm's text bar would only add
    noise).

    Args:
        name: a key of ``DATA_HUB``, whose value is ``(url, sha1)``; or (English
            edition) the file's http(s) URL.
        folder: the folder for the file. ``None`` resolves like :func:`data_dir`:
            ``$D2LCOMPUTE_DATA_DIR``, else the project's ``data/`` cache (the books
            use ``../data``, which works when passed).
        sha1_hash: the file's sha1 as 40 hex digits, for a URL only (a ``DATA_HUB``
            entry holds its own).
        cache_dir: the Chinese edition's name for ``folder``.

    Returns:
        The file's path as a ``str``, as in the book (``pd.read_csv`` takes it).

    Raises:
        ValueError: ``name`` is neither a URL nor in ``DATA_HUB``, its entry is not
            ``(url, sha1)``, or ``sha1_hash`` is malformed or given with a ``DATA_HUB`` key.
        DownloadError: the transfer failed (HTTP error, refused, timed out, cut short),
            the file could not be written, or its sha1 is not the expected one; or a file
            of that name that this package did not write is there with another sha1.
        FileAccessError: the folder (or a folder above it) is a file.

    Example::

        train_data = pd.read_csv(d2l.download('kaggle_house_train'))  # Chinese edition
        raw_train = pd.read_csv(d2l.download(d2l.DATA_URL + 'kaggle_house_pred_train.csv',
                                             self.root, sha1_hash='585e9cc9...'))  # English

    Book: §4.10; d2l.ai 1.0: §5.7
    """
    url, sha1_hash, file_name, expected_by = _source(name, sha1_hash)
    fname = data_dir(_one_folder(folder, cache_dir), needs=[file_name]) / file_name
    _check_folder(fname.parent)
    if fname.is_file() and (sha1_hash is None or file_sha1(fname) == sha1_hash):
        return str(fname)  # hit cache
    if fname.exists() and not written_here(fname):
        # Not a file download() wrote (or it was changed since): a student's edited copy,
        # say. Never overwrite it; one this package wrote for an older sha1 is replaced.
        raise DownloadError(
            f"{fname} exists but differs from {expected_by}'s sha1 {sha1_hash} (edited? "
            f"pass it by name, e.g. --train-csv {fname} on the command line); it is kept as "
            f"it is: to download the original, move it away first."
        )
    new_folders = missing_folders(fname.parent)
    try:
        _fetch(url, fname, sha1_hash)
    except BaseException as e:
        for folder in new_folders:  # deepest first; only the ones this call created, if empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(e, DownloadError):
            raise
        if isinstance(e, ValueError):  # pooch: the sha1 did not match, attempt after attempt
            raise DownloadError(
                f"the file downloaded from {url} does not match "
                f"{expected_by}: {e} " + _by_hand(url, fname, sha1_hash)
            ) from e
        if isinstance(e, OSError):  # requests' errors are OSErrors: refused, timeout, cut short
            raise failed(url, e, _limits(), _by_hand(url, fname, sha1_hash)) from e
        raise
    record_written(fname)
    return str(fname)


def download_all():
    """Download every file in ``DATA_HUB`` into the data folder; return ``{name: path}``.

    Unlike the book's loop, one failure does not stop the rest: every file is tried,
    then a single ``DownloadError`` lists each one that failed.

    Book: §4.10
    """
    paths, failures = {}, []
    for name in list(DATA_HUB):  # a copy: book cells may register entries meanwhile
        try:
            paths[name] = download(name)
        except DownloadError as e:
            failures.append(f"{name}: {e}")
    if failures:
        raise DownloadError(
            f"{len(failures)} of {len(paths) + len(failures)} downloads "
            "failed:\n" + "\n".join(failures)
        )
    return paths


def _hub_entry(name):
    """``DATA_HUB[name]`` checked: (url, lowercase sha1, file name in the cache)."""
    if name not in DATA_HUB:
        known = ", ".join(repr(n) for n in DATA_HUB)
        raise ValueError(
            f"unknown data set name={name!r}; DATA_HUB holds {known}. "
            "Register a file first: DATA_HUB[name] = (url, sha1)"
        )
    entry = DATA_HUB[name]
    url, sha1_hash = entry if isinstance(entry, (tuple, list)) and len(entry) == 2 else (None, None)
    if not (
        isinstance(url, str)
        and isinstance(sha1_hash, str)
        and re.fullmatch(r"[0-9a-fA-F]{40}", sha1_hash)
    ):
        raise ValueError(
            f"DATA_HUB[{name!r}] must be (url, sha1) with a 40-digit hex sha1, got {entry!r}"
        )
    return url, sha1_hash.lower(), _url_file_name(url, f"DATA_HUB[{name!r}] url")


def _source(name, sha1_hash):
    """``(url, sha1 or None, file name, what the sha1 comes from)`` for either edition's call."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a DATA_HUB key or a URL (a string), got name={name!r}")
    if urlsplit(name).scheme not in ("http", "https"):
        if sha1_hash is not None:
            raise ValueError(
                f"sha1_hash goes with a URL; DATA_HUB[{name!r}] holds its own sha1, "
                f"got sha1_hash={sha1_hash!r}"
            )
        url, sha1_hash, file_name = _hub_entry(name)
        return url, sha1_hash, file_name, f"DATA_HUB[{name!r}]"
    if sha1_hash is not None and not (
        isinstance(sha1_hash, str) and re.fullmatch(r"[0-9a-fA-F]{40}", sha1_hash)
    ):
        raise ValueError(
            f"sha1_hash must be a sha1 of 40 hex digits or None, got sha1_hash={sha1_hash!r}"
        )
    return (
        name,
        sha1_hash and sha1_hash.lower(),
        _url_file_name(name, "url"),
        "the sha1_hash argument",
    )


def _url_file_name(url, what):
    """The book's ``url.split('/')[-1]``, without a ?query or #fragment."""
    file_name = urlsplit(url).path.rsplit("/", 1)[-1]
    if file_name in ("", ".", ".."):
        raise ValueError(f"{what} must end with a file name, got {url!r}")
    return file_name


def _one_folder(folder, cache_dir):
    if folder is not None and cache_dir is not None:
        raise TypeError(
            f"download got folder={folder!r} and cache_dir={cache_dir!r}: both "
            "name the file's folder (English and Chinese edition); give one"
        )
    return cache_dir if folder is None else folder


def _fetch(url, fname, sha1_hash):
    """``_transfer.fetch`` under this module's limits, read now (a test or a user may set them)."""
    fetch(url, fname, sha1_hash, _limits(), _by_hand(url, fname, sha1_hash))


def _limits():
    return Limits(DOWNLOAD_TIMEOUT, DOWNLOAD_DEADLINE, DOWNLOAD_MAX_BYTES, DOWNLOAD_RETRIES)


def _check_folder(folder):
    """``folder``, or its nearest existing ancestor, must be a folder: a file there is a
    local mistake, not a network one."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise FileAccessError(
            f"cannot download into {folder}: it is a file, not a folder (check "
            f"cache_dir/folder, ${ENV_DATA_DIR} or --data-dir)"
        )


def _by_hand(url, fname, sha1_hash):
    sha1 = f" (sha1 {sha1_hash})" if sha1_hash else ""
    return (
        f"To work offline, fetch {url} yourself and save it as {fname}{sha1}, "
        f"or point ${ENV_DATA_DIR} (--data-dir on the command line) at a folder "
        f"that holds {fname.name}."
    )
