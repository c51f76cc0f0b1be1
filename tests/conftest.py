"""Shared fixtures.

The real data sets (Fashion-MNIST, the Kaggle house CSVs) are looked for as the package looks
for them (``$D2LCOMPUTE_DATA_DIR``, the book's ``../data``, the project's ``data/`` cache),
then in CI's ``../shared/data``; the tests that need them skip, saying where they looked,
when no folder holds them all. Every test then runs with ``$D2LCOMPUTE_DATA_DIR`` set to a
folder of its own, so none reads or fills a real cache by accident.
"""

import gzip
import os
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from d2lcompute import hub

ROOT = Path(__file__).resolve().parents[1]
CI_DATA = ROOT.parent / "shared" / "data"  # where CI keeps the data sets
REAL_DATA_FILES = (
    *hub.FASHION_MNIST_SHA1,
    "kaggle_house_pred_train.csv",
    "kaggle_house_pred_test.csv",
)


def _find_real_data():
    """``(folder, None)`` for the folder holding every real data file, else ``(None, why)``."""
    chosen, reason = hub.choose_data_dir(needs=REAL_DATA_FILES)
    looked = []
    for folder, why in [(chosen, f"the package's choice: {reason}"), (CI_DATA, "CI's folder")]:
        missing = [
            name
            for name in REAL_DATA_FILES
            if not ((folder / name).is_file() or (folder / f"{name}.gz").is_file())
        ]
        if not missing:
            return folder.resolve(), None
        looked.append(f"{folder} ({why}; {len(missing)} of {len(REAL_DATA_FILES)} files missing)")
    return None, (
        f"real data sets not found in {' or '.join(looked)}; set D2LCOMPUTE_DATA_DIR to a "
        "folder holding them (data/README.md lists the files)"
    )


# Looked for once, before any test sets $D2LCOMPUTE_DATA_DIR to a folder of its own.
REAL_DATA, NO_REAL_DATA = _find_real_data()


def real_data_or_skip():
    """The folder holding the real data sets (resolved); skips the test, saying why, if none."""
    if REAL_DATA is None:
        pytest.skip(NO_REAL_DATA)
    return REAL_DATA


def pytest_configure(config):
    # One torch thread for the whole suite. The models here are small, and on a shared
    # 2-core machine torch's thread pool mostly waits for cores: 30 small matmuls took 1.2 s
    # with 2 threads and 0.02 s with 1; a Fashion-MNIST epoch ran 8x slower with 2.
    torch.set_num_threads(1)
    # The scripts and commands the tests start get 1 thread too, as an explicit choice, so
    # the thread policy never adds its note to the stderr they check (d2lcompute.threads).
    os.environ["D2LCOMPUTE_THREADS"] = "1"
    # Figures that scripts save when a run ends go to a folder of the session (doctests
    # included), not to the user's temporary folder.
    os.environ["D2LCOMPUTE_FIGURE_DIR"] = tempfile.mkdtemp(prefix="d2lcompute-test-figures-")


def pytest_unconfigure(config):
    # A figure still open at exit would be saved and announced after the summary.
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    shutil.rmtree(os.environ.pop("D2LCOMPUTE_FIGURE_DIR", ""), ignore_errors=True)
    os.environ.pop("D2LCOMPUTE_THREADS", None)


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """No test reads or fills the project's data/ cache, or litters /tmp, by accident."""
    monkeypatch.setenv("D2LCOMPUTE_DATA_DIR", str(tmp_path / "data-cache"))
    # figures that scripts save when a run ends go to the test's folder, not /tmp
    monkeypatch.setenv("D2LCOMPUTE_FIGURE_DIR", str(tmp_path / "figures"))


@pytest.fixture(autouse=True)
def _close_pyplot_figures():
    """Figures a test leaves open would be saved (and announced) when pytest exits."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def real_data_dir():
    """The folder with the real Fashion-MNIST and house-price files; skips when absent."""
    return real_data_or_skip()


# ---- a local HTTP server for the download tests (127.0.0.1 only; no test reaches the internet)


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files``; paths under /truncated/ promise more bytes than they send."""

    def do_GET(self):
        self.server.requests.append(self.path)
        kind = self.path.split("/")[1]
        if kind in ("trickle", "gzip", "flaky"):
            return self._hostile(kind)
        body = self.server.files.get(self.path.removeprefix("/truncated"))
        if body is None:
            self.send_error(404, "File not found")  # an HTML error page, which must not be saved
            return
        truncated = self.path.startswith("/truncated/")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) * 2 if truncated else len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncated else body)
        self.close_connection = True  # then the socket closes, mid-body for /truncated/

    def _hostile(self, kind):
        """/trickle/: a byte every 20 ms; /gzip/: 10 MB of zeros gzipped to ~10 kB; /flaky/:
        HTTP 503 on every odd request, the file (server.files['/flaky']) on every even one."""
        if kind == "flaky" and len(self.server.requests) % 2:
            self.send_error(503, "Service Unavailable")
            return
        body = (
            gzip.compress(bytes(10 << 20))
            if kind == "gzip"
            else self.server.files.get("/flaky", b"x" * 1000)
        )
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if kind == "gzip":
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        try:
            if kind == "trickle":
                for i in range(250):  # at most 5 s, whatever the client does
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.02)
            else:
                self.wfile.write(body)
        except OSError:  # the client hung up, as it should
            pass
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def server(monkeypatch):
    """A ThreadingHTTPServer on 127.0.0.1 (port 0), shut down after the test."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # a student's proxy must not see these requests
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.files, httpd.requests = {}, []
    httpd.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """pooch's waits between attempts, recorded instead of slept (as pooch's own tests do)."""
    import types

    import pooch.core

    recorded = []
    monkeypatch.setattr(pooch.core, "time", types.SimpleNamespace(sleep=recorded.append))
    return recorded


@pytest.fixture
def cache(tmp_path):
    """The folder conftest points $D2LCOMPUTE_DATA_DIR at."""
    return tmp_path / "data-cache"
