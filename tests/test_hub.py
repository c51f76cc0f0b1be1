"""Tests for d2lcompute/hub.py: downloads against a local HTTP server, never the network."""

import gzip
import hashlib
import io
import json
import socket
import stat
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import d2lcompute as d2l
from d2lcompute import hub

PAYLOAD = b"Id,SalePrice\n1,208500\n2,181500\n" * 50


def sha1(data):
    return hashlib.sha1(data).hexdigest()


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
        body = (gzip.compress(bytes(10 << 20)) if kind == "gzip"
                else self.server.files.get("/flaky", b"x" * 1000))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if kind == "gzip":
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        try:
            if kind == "trickle":
                for i in range(250):  # at most 5 s, whatever the client does
                    self.wfile.write(body[i:i + 1])
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


def register(monkeypatch, server, name, file_name, body, sha1_hash=None, prefix=""):
    """Serve ``body`` as ``/file_name`` and register it in DATA_HUB; return the URL."""
    server.files[f"/{file_name}"] = body
    url = f"{server.base_url}{prefix}/{file_name}"
    monkeypatch.setitem(hub.DATA_HUB, name, (url, sha1_hash or sha1(body)))
    return url


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket closes


def test_public_names_and_error_type():
    assert d2l.download is hub.download and d2l.DATA_HUB is hub.DATA_HUB
    assert d2l.DATA_URL == "http://d2l-data.s3-accelerate.amazonaws.com/"
    assert issubclass(hub.DownloadError, OSError)  # cli.main prints OSErrors without traceback


def test_download_fetches_verifies_and_caches(server, monkeypatch, cache):
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    path = hub.download("tiny")
    assert isinstance(path, str) and path == str(cache / "tiny.csv")
    assert Path(path).read_bytes() == PAYLOAD
    assert hub.file_sha1(path) == sha1(PAYLOAD)
    assert sorted(p.name for p in cache.iterdir()) == ["tiny.csv"]  # no temporary file left
    assert server.requests == ["/tiny.csv"]


def test_explicit_cache_dir_wins_over_environment(server, monkeypatch, tmp_path, cache):
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    path = hub.download("tiny", cache_dir=tmp_path / "elsewhere")
    assert path == str(tmp_path / "elsewhere" / "tiny.csv")
    assert not cache.exists()


def test_cache_hit_does_not_contact_the_server(server, monkeypatch, cache):
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    cache.mkdir()
    (cache / "tiny.csv").write_bytes(PAYLOAD)
    assert hub.download("tiny") == str(cache / "tiny.csv")
    assert hub.download("tiny") == str(cache / "tiny.csv")
    assert server.requests == []


def test_cached_file_with_wrong_hash_is_fetched_again(server, monkeypatch, cache):
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    cache.mkdir()
    (cache / "tiny.csv").write_bytes(b"<html>stale or truncated</html>")
    path = hub.download("tiny")
    assert Path(path).read_bytes() == PAYLOAD
    assert server.requests == ["/tiny.csv"]


@pytest.mark.parametrize("cached", [None, b"old bytes with the wrong hash"])
def test_http_404_raises_and_saves_nothing(server, monkeypatch, cache, cached):
    url = register(monkeypatch, server, "gone", "gone.csv", PAYLOAD)
    del server.files["/gone.csv"]
    if cached is not None:
        cache.mkdir()
        (cache / "gone.csv").write_bytes(cached)
    with pytest.raises(hub.DownloadError, match="404") as excinfo:
        hub.download("gone")
    message = str(excinfo.value)
    assert f"could not download {url}" in message
    assert str(cache / "gone.csv") in message
    # The error page is not saved; a stale file is left alone, not overwritten by it; a
    # cache folder made for the download is removed again.
    if cached is None:
        assert not cache.exists()
    else:
        assert sorted(p.name for p in cache.iterdir()) == ["gone.csv"]
        assert (cache / "gone.csv").read_bytes() == cached
    assert server.requests == ["/gone.csv"]  # a 404 is not worth a retry


def test_corrupt_payload_names_both_hashes_and_leaves_no_file(server, monkeypatch, cache):
    good = sha1(PAYLOAD)
    served = PAYLOAD.replace(b"208500", b"999999")
    url = register(monkeypatch, server, "tiny", "tiny.csv", served, sha1_hash=good)
    with pytest.raises(hub.DownloadError) as excinfo:
        hub.download("tiny")
    message = str(excinfo.value)
    assert url in message and good in message and sha1(served) in message
    assert "DATA_HUB['tiny']" in message
    assert not cache.exists()


def test_interrupted_transfer_is_retried_and_leaves_no_file_or_folder(server, monkeypatch, cache,
                                                                     waits):
    url = register(monkeypatch, server, "cut", "cut.csv", PAYLOAD, prefix="/truncated")
    with pytest.raises(hub.DownloadError, match=f"could not download {url}"):
        hub.download("cut")
    assert server.requests == ["/truncated/cut.csv"] * 3 and waits == [1, 2]  # pooch's backoff
    assert not cache.exists()


def test_connection_refused_says_where_to_put_the_file(monkeypatch, cache):
    url = f"http://127.0.0.1:{closed_port()}/house.csv"
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setitem(hub.DATA_HUB, "house", (url, sha1(PAYLOAD)))
    with pytest.raises(hub.DownloadError) as excinfo:
        hub.download("house")
    message = str(excinfo.value)
    for part in (f"could not download {url}", str(cache / "house.csv"), sha1(PAYLOAD),
                 "$D2LCOMPUTE_DATA_DIR", "--data-dir"):
        assert part in message
    assert not (cache / "house.csv").exists()


def test_silent_server_times_out(monkeypatch, cache):
    # A socket that listens but never answers: the kernel accepts the connection,
    # no response ever comes, so only the read timeout ends the wait.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/slow.csv"
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        monkeypatch.setitem(hub.DATA_HUB, "slow", (url, sha1(PAYLOAD)))
        monkeypatch.setattr(hub, "DOWNLOAD_TIMEOUT", 0.3)
        start = time.perf_counter()
        with pytest.raises(hub.DownloadError, match="(?i)timed out") as excinfo:
            hub.download("slow")
        assert time.perf_counter() - start < 5
    assert url in str(excinfo.value) and str(cache / "slow.csv") in str(excinfo.value)
    assert not cache.exists()


def test_a_trickling_server_is_cut_off_at_the_deadline(server, monkeypatch, cache):
    """Each byte comes well within the read timeout, so only an overall deadline ends it."""
    monkeypatch.setitem(hub.DATA_HUB, "slow", (f"{server.base_url}/trickle/slow.csv", "0" * 40))
    monkeypatch.setattr(hub, "DOWNLOAD_DEADLINE", 0.3)
    start = time.perf_counter()
    with pytest.raises(hub.DownloadError, match=r"could not download .*/trickle/slow.csv: it "
                                                r"took longer than 0.3 s"):
        hub.download("slow")
    assert time.perf_counter() - start < 3
    assert server.requests == ["/trickle/slow.csv"]  # not retried: it would be as slow again
    assert not cache.exists()


@pytest.mark.parametrize("path, limit, what", [
    ("/big.csv", 1000, "the server announces 2000 bytes"),  # refused before the body
    ("/gzip/bomb.csv", 100_000, "more than 100000 bytes arrived"),  # 10 kB that inflate to 10 MB
])
def test_a_download_over_the_size_limit_is_refused(server, monkeypatch, cache, path, limit, what):
    server.files["/big.csv"] = b"x" * 2000
    monkeypatch.setitem(hub.DATA_HUB, "big", (server.base_url + path, "0" * 40))
    monkeypatch.setattr(hub, "DOWNLOAD_MAX_BYTES", limit)
    with pytest.raises(hub.DownloadError, match=rf"refused to download .*: {what}, over the "
                                                rf"limit of {limit} bytes"):
        hub.download("big")
    assert len(server.requests) == 1 and not cache.exists()


def test_a_transient_error_is_retried_after_a_wait(server, monkeypatch, cache, waits):
    server.files["/flaky"] = PAYLOAD
    monkeypatch.setitem(hub.DATA_HUB, "flaky", (f"{server.base_url}/flaky/f.csv", sha1(PAYLOAD)))
    assert Path(hub.download("flaky")).read_bytes() == PAYLOAD
    assert server.requests == ["/flaky/f.csv"] * 2 and waits == [1]
    with open(cache.parent / "reference", "w"):
        pass  # pooch's temporary file is 0600; the data file gets open()'s mode instead
    assert stat.S_IMODE((cache / "f.csv").stat().st_mode) == stat.S_IMODE(
        (cache.parent / "reference").stat().st_mode)


def test_a_failed_download_leaves_no_new_folders(server, monkeypatch, tmp_path):
    register(monkeypatch, server, "gone", "gone.csv", PAYLOAD)
    del server.files["/gone.csv"]
    (tmp_path / "kept").mkdir()
    with pytest.raises(hub.DownloadError):
        hub.download("gone", cache_dir=tmp_path / "kept" / "new" / "deeper")
    assert list((tmp_path / "kept").iterdir()) == []


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError,
                       match=r"unknown data set name='no_such_set'.*'kaggle_house_train'"):
        hub.download("no_such_set")


@pytest.mark.parametrize("entry", [
    ("http://x/a.csv",),
    ("http://x/a.csv", "d41d8cd98f00b204e9800998ecf8427e"),  # an md5, not a sha1
    ("http://x/", "0" * 40),  # no file name to cache it under
    "http://x/a.csv",
])
def test_malformed_hub_entry_is_rejected(monkeypatch, entry):
    monkeypatch.setitem(hub.DATA_HUB, "bad", entry)
    with pytest.raises(ValueError, match=r"DATA_HUB\['bad'\]"):
        hub.download("bad")


def test_read_only_cache_with_the_right_file_is_not_written(monkeypatch, tmp_path):
    ro = tmp_path / "read-only"
    ro.mkdir()
    (ro / "house.csv").write_bytes(PAYLOAD)
    ro.chmod(0o555)
    monkeypatch.setitem(hub.DATA_HUB, "house", (f"http://127.0.0.1:{closed_port()}/house.csv",
                                                sha1(PAYLOAD)))
    # chmod does not stop root, so also fail on any attempt to write or connect.
    monkeypatch.setattr(hub, "atomic_write", lambda *a, **k: pytest.fail("tried to write"))
    try:
        assert hub.download("house", cache_dir=ro) == str(ro / "house.csv")
    finally:
        ro.chmod(0o755)
    assert sorted(p.name for p in ro.iterdir()) == ["house.csv"]


def test_real_files_are_used_from_the_read_only_shared_folder(real_data_dir, monkeypatch):
    monkeypatch.setattr(hub, "_fetch", lambda *a: pytest.fail("tried the network"))
    monkeypatch.setattr(hub, "atomic_write", lambda *a, **k: pytest.fail("tried to write"))
    for name, file_name in [("kaggle_house_train", "kaggle_house_pred_train.csv"),
                            ("kaggle_house_test", "kaggle_house_pred_test.csv")]:
        path = hub.download(name, cache_dir=real_data_dir)
        assert path == str(real_data_dir / file_name)
        assert hub.file_sha1(path) == hub.DATA_HUB[name][1]
    import pandas as pd

    train_data = pd.read_csv(hub.download("kaggle_house_train", cache_dir=real_data_dir))
    assert train_data.shape == (1460, 81)  # the book's first look at the data


def test_progress_bar_only_on_a_terminal(server, monkeypatch, capsys, cache):
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    hub.download("tiny")
    assert capsys.readouterr().err == ""

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    (cache / "tiny.csv").unlink()
    monkeypatch.setattr(sys, "stderr", terminal)
    hub.download("tiny")
    assert "100%" in terminal.getvalue()


# --- archives ---------------------------------------------------------------

FILES = {"pkg/a.txt": b"alpha\n", "pkg/sub/b.txt": b"beta\n" * 100}


def make_archive(kind, members):
    """Bytes of a zip or tar(.gz) archive holding ``members`` (name -> bytes)."""
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz" if kind == "tar.gz" else "w") as archive:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz"])
def test_download_extract_returns_the_folder_like_the_book(server, monkeypatch, cache, kind):
    register(monkeypatch, server, "pack", f"pack.{kind}", make_archive(kind, FILES))
    assert hub.download_extract("pack", "pkg") == str(cache / "pkg")
    for name, data in FILES.items():
        assert (cache / name).read_bytes() == data
    # No folder: the archive's path without its suffix (os.path.splitext in the book).
    assert hub.download_extract("pack") == str(cache / "pack")
    assert server.requests == [f"/pack.{kind}"]


def test_extract_again_skips_complete_members_and_repairs_cut_ones(server, monkeypatch, cache):
    register(monkeypatch, server, "pack", "pack.zip", make_archive("zip", FILES))
    hub.download_extract("pack", "pkg")
    (cache / "pkg/sub/b.txt").write_bytes(b"beta\n")  # as if an earlier extraction was cut short
    written = []
    real_open = open

    def recording_open(file, mode="r", *args, **kwargs):
        if "w" in mode:
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", recording_open)
    hub.download_extract("pack", "pkg")
    assert written == [str(cache / "pkg/sub/b.txt")]
    assert (cache / "pkg/sub/b.txt").read_bytes() == FILES["pkg/sub/b.txt"]


def test_extract_again_when_the_archive_changes_or_a_member_is_altered(server, monkeypatch, cache):
    """Deciding by size alone kept same-sized stale or damaged members."""
    register(monkeypatch, server, "pack", "pack.zip", make_archive("zip", FILES))
    hub.download_extract("pack")
    record = json.loads((cache / ".pack.zip.extracted").read_text())
    assert record["archive_sha1"] == sha1(make_archive("zip", FILES))
    assert sorted(record["members"]) == sorted(FILES)

    (cache / "pkg/a.txt").write_bytes(b"ALPHA\n")  # damaged, same size
    hub.download_extract("pack")
    assert (cache / "pkg/a.txt").read_bytes() == FILES["pkg/a.txt"]

    changed = {"pkg/a.txt": b"gamma\n", "pkg/sub/b.txt": b"delta\n" * 100}  # same sizes
    server.files.clear()
    register(monkeypatch, server, "pack", "pack.zip", make_archive("zip", changed))
    hub.download_extract("pack")
    for name, data in changed.items():
        assert (cache / name).read_bytes() == data


@pytest.mark.parametrize("kind", ["zip", "tar"])
@pytest.mark.parametrize("evil", ["../evil.txt", "pkg/../../evil.txt", "/tmp/d2lcompute-evil.txt"])
def test_malicious_member_is_refused_and_nothing_is_written(server, monkeypatch, cache, tmp_path,
                                                            kind, evil):
    members = {"pkg/a.txt": b"fine", evil: b"pwned"}
    register(monkeypatch, server, "evil", f"evil.{kind}", make_archive(kind, members))
    with pytest.raises(ValueError, match=rf"refusing to extract .*member '{evil}'"):
        hub.download_extract("evil")
    assert sorted(p.name for p in cache.iterdir()) == [f"evil.{kind}"]  # not even pkg/a.txt
    assert not (tmp_path / "evil.txt").exists()


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_symlink_member_is_refused(server, monkeypatch, cache, kind):
    buffer = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as archive:
            link = zipfile.ZipInfo("pkg/escape")
            link.external_attr = (stat.S_IFLNK | 0o777) << 16  # how zip marks a unix symlink
            archive.writestr(link, "../../outside")
    else:
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            link = tarfile.TarInfo("pkg/escape")
            link.type, link.linkname = tarfile.SYMTYPE, "../../outside"
            archive.addfile(link)
    register(monkeypatch, server, "link", f"link.{kind}", buffer.getvalue())
    with pytest.raises(ValueError, match="member 'pkg/escape' is a symlink"):
        hub.download_extract("link")
    assert sorted(p.name for p in cache.iterdir()) == [f"link.{kind}"]


def test_extract_rejects_non_archives_and_broken_archives(server, monkeypatch):
    register(monkeypatch, server, "csv", "plain.csv", PAYLOAD)
    with pytest.raises(ValueError,
                       match=r"download_extract extracts .*plain\.csv.*download\('csv'\)"):
        hub.download_extract("csv")
    register(monkeypatch, server, "fake", "fake.zip", PAYLOAD)
    with pytest.raises(ValueError, match=r"fake\.zip is not a readable zip archive"):
        hub.download_extract("fake")


def test_download_all_tries_every_entry_and_lists_failures(server, monkeypatch, cache):
    for name in list(hub.DATA_HUB):  # keep the real entries off the network
        monkeypatch.delitem(hub.DATA_HUB, name)
    register(monkeypatch, server, "one", "one.csv", b"1")
    register(monkeypatch, server, "two", "two.csv", b"2")
    assert hub.download_all() == {"one": str(cache / "one.csv"), "two": str(cache / "two.csv")}

    monkeypatch.setitem(hub.DATA_HUB, "gone", (f"{server.base_url}/gone.csv", "0" * 40))
    register(monkeypatch, server, "three", "three.csv", b"3")
    with pytest.raises(hub.DownloadError, match=r"1 of 4 downloads failed:\ngone: could not"):
        hub.download_all()
    assert (cache / "three.csv").read_bytes() == b"3"  # entries after the failure still came


# --- the English edition's download(url, folder, sha1_hash) and extract -------


def serve(server, file_name, body):
    """Serve ``body`` as ``/file_name`` without registering it; return the URL."""
    server.files[f"/{file_name}"] = body
    return f"{server.base_url}/{file_name}"


def test_download_by_url_fetches_verifies_and_caches(server, tmp_path):
    url = serve(server, "tiny.csv", PAYLOAD)
    folder = tmp_path / "root"
    path = d2l.download(url, folder, sha1_hash=sha1(PAYLOAD).upper())  # any case, as pooch
    assert path == str(folder / "tiny.csv") and Path(path).read_bytes() == PAYLOAD
    assert d2l.download(url, str(folder), sha1(PAYLOAD)) == path  # positional, as book cells
    assert server.requests == ["/tiny.csv"]
    assert sorted(p.name for p in folder.iterdir()) == ["tiny.csv"]


def test_download_by_url_without_folder_uses_the_data_folder(server, cache):
    # DataModule's root defaults to None, which resolves like data_dir()
    url = serve(server, "tiny.csv", PAYLOAD)
    assert d2l.download(url, None, sha1(PAYLOAD)) == str(cache / "tiny.csv")


def test_download_by_url_honours_the_books_relative_default(server, tmp_path, monkeypatch):
    url = serve(server, "tiny.csv", PAYLOAD)
    (tmp_path / "chapter").mkdir()
    monkeypatch.chdir(tmp_path / "chapter")
    path = d2l.download(url, "../data", sha1(PAYLOAD))
    assert path == str(Path("../data/tiny.csv"))
    assert (tmp_path / "data" / "tiny.csv").read_bytes() == PAYLOAD


def test_download_by_url_without_hash_fetches_once_then_uses_the_file(server, cache):
    url = serve(server, "tiny.csv", PAYLOAD)
    assert d2l.download(url) == str(cache / "tiny.csv")
    assert d2l.download(url) == str(cache / "tiny.csv")
    assert server.requests == ["/tiny.csv"]  # the book would have fetched it twice


def test_download_by_url_with_wrong_hash_keeps_nothing(server, cache):
    url = serve(server, "tiny.csv", PAYLOAD)
    with pytest.raises(hub.DownloadError) as excinfo:
        d2l.download(url, sha1_hash="0" * 40)
    message = str(excinfo.value)
    assert "does not match the sha1_hash argument" in message
    assert sha1(PAYLOAD) in message and "0" * 40 in message
    assert str(cache / "tiny.csv") in message
    assert not cache.exists()  # not even the folder the download would have made


def test_download_by_url_404_says_where_to_put_the_file(server, cache):
    url = f"{server.base_url}/gone.csv"
    with pytest.raises(hub.DownloadError, match="404") as excinfo:
        d2l.download(url)
    message = str(excinfo.value)
    assert f"could not download {url}" in message and str(cache / "gone.csv") in message
    assert "(sha1" not in message  # no hash was given, so none is quoted
    assert not cache.exists()


def test_hub_key_and_url_forms_share_one_cache(server, monkeypatch, cache):
    url = register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    assert d2l.download("tiny", str(cache)) == d2l.download(url, sha1_hash=sha1(PAYLOAD))
    assert server.requests == ["/tiny.csv"]


def test_download_rejects_mixed_up_arguments(server, monkeypatch, tmp_path):
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    with pytest.raises(ValueError, match=r"sha1_hash goes with a URL; DATA_HUB\['tiny'\] holds"):
        d2l.download("tiny", sha1_hash=sha1(PAYLOAD))
    with pytest.raises(ValueError, match=r"sha1_hash must be a sha1 of 40 hex digits.*'abc'"):
        d2l.download(f"{server.base_url}/tiny.csv", sha1_hash="abc")
    with pytest.raises(ValueError, match=r"url must end with a file name, got 'http://x/'"):
        d2l.download("http://x/")
    with pytest.raises(TypeError, match=r"name must be a DATA_HUB key or a URL .*name=3"):
        d2l.download(3)
    with pytest.raises(TypeError, match="download got folder=.* and cache_dir=.*give one"):
        d2l.download("tiny", tmp_path, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown data set name='kaggle_house_pred_train.csv'"):
        d2l.download("kaggle_house_pred_train.csv")  # not a URL: a DATA_HUB key, as in the book
    assert server.requests == []


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz"])
def test_extract_next_to_the_archive_or_into_a_folder(server, tmp_path, kind):
    url = serve(server, f"pack.{kind}", make_archive(kind, FILES))
    archive = d2l.download(url, tmp_path / "root")
    assert d2l.extract(archive) == str(tmp_path / "root")  # the book extracts beside it
    assert d2l.extract(Path(archive), tmp_path / "elsewhere") == str(tmp_path / "elsewhere")
    for name, data in FILES.items():
        assert (tmp_path / "root" / name).read_bytes() == data
        assert (tmp_path / "elsewhere" / name).read_bytes() == data


@pytest.mark.parametrize("evil", ["../evil.txt", "/tmp/d2lcompute-evil.txt"])
def test_extract_refuses_unsafe_archives_and_writes_nothing(tmp_path, evil):
    archive = tmp_path / "evil.tar"
    archive.write_bytes(make_archive("tar", {"pkg/a.txt": b"fine", evil: b"pwned"}))
    with pytest.raises(ValueError, match=rf"refusing to extract .*member '{evil}'"):
        d2l.extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_extract_rejects_other_files(tmp_path):
    (tmp_path / "plain.csv").write_bytes(PAYLOAD)
    (tmp_path / "fake.zip").write_bytes(PAYLOAD)
    with pytest.raises(ValueError, match=r"extract extracts \.tar\.gz.*filename='.*plain\.csv'"):
        d2l.extract(tmp_path / "plain.csv")
    with pytest.raises(ValueError, match=r"fake\.zip is not a readable zip archive"):
        d2l.extract(tmp_path / "fake.zip")
    with pytest.raises(TypeError, match="folder must be a path, got folder=1"):
        d2l.extract(tmp_path / "fake.zip", 1)
    with pytest.raises(TypeError, match="filename must be a path, got filename=None"):
        d2l.extract(None)


# ---- which folder: argument, variable, the book's ../data, the cache ------------------------

@pytest.fixture
def book_layout(tmp_path, monkeypatch):
    """A notebook folder next to the book's ../data; no $D2LCOMPUTE_DATA_DIR."""
    monkeypatch.delenv(hub.ENV_DATA_DIR)
    notebook_dir = tmp_path / "chapter"
    notebook_dir.mkdir()
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(notebook_dir)
    return tmp_path / "data"


def test_data_dir_order_argument_variable_book_layout_cache(book_layout, tmp_path, monkeypatch):
    (book_layout / "a.csv").write_text("x")
    assert hub.choose_data_dir(tmp_path / "mine", needs=["a.csv"]) == (tmp_path / "mine", hub.GIVEN)
    assert hub.choose_data_dir(needs=["a.csv"]) == (book_layout.resolve(), hub.BOOK_LAYOUT)
    assert hub.choose_data_dir(needs=["a.csv", "b.csv"])[1] == hub.CACHE  # ../data lacks b.csv
    assert hub.choose_data_dir()[1] == hub.CACHE  # nothing asked for: the cache
    monkeypatch.setenv(hub.ENV_DATA_DIR, str(tmp_path / "env"))
    assert hub.choose_data_dir(needs=["a.csv"]) == (tmp_path / "env", hub.ENVIRONMENT)


def test_download_uses_the_books_data_folder_when_it_holds_the_file(book_layout):
    content = b"Id,SalePrice\n1,100\n"
    (book_layout / "kaggle_house_pred_train.csv").write_bytes(content)
    name = "book_layout_test"
    hub.DATA_HUB[name] = ("http://127.0.0.1:9/kaggle_house_pred_train.csv",
                          hashlib.sha1(content).hexdigest())
    try:
        path = d2l.download(name)  # no network needed: ../data holds the verified file
    finally:
        del hub.DATA_HUB[name]
    assert Path(path) == (book_layout / "kaggle_house_pred_train.csv").resolve()
