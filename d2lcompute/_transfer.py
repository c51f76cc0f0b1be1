"""One guarded HTTP transfer (through pooch) and the record of the files it wrote.

Each attempt has a deadline and a size limit; pooch retries transient failures and checks
the sha1. A hidden record next to a downloaded file (``.NAME.sha1``) tells a file this
package wrote, which may be replaced, from a user's own copy, which never is.
:mod:`d2lcompute.hub` holds the limits (``hub.DOWNLOAD_*``) and decides what to fetch.
"""

import contextlib
import functools
import json
import os
import re
import sys
import threading
from typing import NamedTuple

from d2lcompute._files import file_sha1
from d2lcompute.errors import UserError


class DownloadError(UserError, OSError):
    """A file could not be fetched, or what arrived failed its sha1 check.

    An ``OSError``, so ``except OSError`` catches it, and a ``UserError``, so the command
    line prints the message without a traceback. The message names the URL, the reason,
    and the full path where the file can be put by hand.
    """


class Limits(NamedTuple):
    """What one download may take: seconds per read, seconds in all, bytes, further attempts."""

    timeout: float
    deadline: float
    max_bytes: int
    retries: int


def fetch(url, fname, sha1_hash, limits, advice):
    """Download ``url`` to ``fname`` through ``pooch.Pooch.fetch``: its temporary file, sha1
    check and ``retry_if_failed``, with our guarded downloader doing each attempt.

    ``limits`` bounds each attempt; ``advice`` (how to get the file by hand) ends every
    ``DownloadError`` message. Raises ``ValueError`` when the sha1 never matched, and
    requests' ``OSError`` when the last attempt failed in a way worth retrying.
    """
    import pooch  # lazy: pulls in requests

    registry = pooch.create(
        path=fname.parent,
        base_url="",
        retry_if_failed=limits.retries,
        registry={fname.name: sha1_hash and f"sha1:{sha1_hash}"},
        urls={fname.name: url},
    )
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # pooch logs every download and retry at INFO on stderr
    try:
        registry.fetch(
            fname.name,
            downloader=functools.partial(_guarded_download, limits=limits, advice=advice),
        )
    finally:
        logger.setLevel(level)


def _guarded_download(url, output_file, pooch_instance, *, limits, advice):
    """One attempt, as a pooch downloader: pooch's ``HTTPDownloader`` under a deadline and a
    size limit. Raises ``DownloadError`` (which pooch does not retry) for what retrying cannot
    fix: too large, too slow overall, or an HTTP 4xx answer."""
    import pooch
    import requests

    # pooch's temporary file is private (0600); a new one gets the mode open() gives
    os.remove(output_file)
    responses, expired = [], threading.Event()

    def on_response(response, **_):
        responses.append(response)
        size = int(response.headers.get("content-length") or 0)
        if size > limits.max_bytes:
            raise _too_large(url, f"the server announces {size} bytes", limits, advice)

    def cut_off():
        expired.set()
        for response in responses:
            response.raw.shutdown()  # wakes a read blocked in another thread

    timer = threading.Timer(limits.deadline, cut_off)
    downloader = pooch.HTTPDownloader(
        progressbar=sys.stderr is not None and sys.stderr.isatty(),
        chunk_size=1 << 16,
        timeout=limits.timeout,
        hooks={"response": on_response},
    )
    timer.start()
    try:
        with open(output_file, "w+b") as f:
            downloader(url, _Limited(f, url, expired, limits, advice), pooch_instance)
    except requests.RequestException as e:
        status = getattr(e.response, "status_code", None)
        if expired.is_set():
            raise _too_slow(url, limits, advice) from e
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            raise failed(url, e, limits, advice) from e
        raise  # transient: pooch tries again
    finally:
        timer.cancel()
        for response in responses:  # pooch never closes its response
            response.close()


class _Limited:
    """The file a download writes to, refusing more than ``limits.max_bytes`` (counted after
    requests decompresses, so a gzip bomb stops too) and anything after the deadline."""

    def __init__(self, f, url, expired, limits, advice):
        self.f, self.expired, self.written = f, expired, 0
        self.url, self.limits, self.advice = url, limits, advice

    def write(self, chunk):
        self.written += len(chunk)
        if self.written > self.limits.max_bytes:
            what = f"more than {self.limits.max_bytes} bytes arrived"
            raise _too_large(self.url, what, self.limits, self.advice)
        if self.expired.is_set():
            raise _too_slow(self.url, self.limits, self.advice)
        return self.f.write(chunk)

    def flush(self):
        self.f.flush()


def _too_large(url, what, limits, advice):
    return DownloadError(
        f"refused to download {url}: {what}, over the limit of "
        f"{limits.max_bytes} bytes (hub.DOWNLOAD_MAX_BYTES); nothing was kept. " + advice
    )


def _too_slow(url, limits, advice):
    return DownloadError(
        f"could not download {url}: it took longer than "
        f"{limits.deadline} s (hub.DOWNLOAD_DEADLINE). " + advice
    )


def failed(url, error, limits, advice):
    """The ``DownloadError`` for a transfer that failed with ``error`` (refused, timed out...)."""
    return DownloadError(f"could not download {url}: {_reason(error, limits)}. " + advice)


def _reason(error, limits):
    """What went wrong, in a few words: requests quotes urllib3's whole chain of objects."""
    response = getattr(error, "response", None)
    if getattr(response, "status_code", None) is not None:
        return f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    text = str(error)
    if "timed out" in text.lower():
        return f"timed out (no answer within {limits.timeout} s, hub.DOWNLOAD_TIMEOUT)"
    errno_text = re.search(r"\[Errno -?\d+\] [^'\")\]]+", text)
    if errno_text:
        return errno_text.group(0).strip()
    return f"{type(error).__name__}: {text[:150]}"


def _record_path(fname):
    return fname.with_name(f".{fname.name}.sha1")


def record_written(fname):
    """Note, next to ``fname``, that this package wrote it: its sha1, size and mtime."""
    info = fname.stat()
    record = {"sha1": file_sha1(fname), "identity": [info.st_size, info.st_mtime_ns]}
    with contextlib.suppress(OSError):  # a folder we may not write to: nothing to note
        _record_path(fname).write_text(json.dumps(record), encoding="utf-8")


def written_here(fname):
    """True if ``fname`` is a file this package downloaded and nobody changed since."""
    try:
        record = json.loads(_record_path(fname).read_text(encoding="utf-8"))
        info = fname.stat()
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("identity") == [info.st_size, info.st_mtime_ns]
