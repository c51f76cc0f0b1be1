"""Tests for d2lcompute/hub.py: downloads against a local HTTP server, never the network."""

import hashlib
import io
import socket
import stat
import sys
import time
from pathlib import Path

import pytest
from local_server import PAYLOAD, closed_port, register, serve, sha1

import d2lcompute as d2l
from d2lcompute import hub
from d2lcompute.errors import FileAccessError


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
    # no temporary file left; a hidden record says that this package wrote the file
    assert sorted(p.name for p in cache.iterdir()) == [".tiny.csv.sha1", "tiny.csv"]
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


def test_a_file_with_the_right_name_and_another_sha1_is_never_overwritten(
    server, monkeypatch, cache
):
    """A student's edited copy (a column dropped) is kept, and the message says why."""
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    cache.mkdir()
    edited = b"Id,MSSubClass\n1,60\n"
    (cache / "tiny.csv").write_bytes(edited)
    with pytest.raises(hub.DownloadError, match="exists but differs from") as excinfo:
        hub.download("tiny")
    assert str(cache / "tiny.csv") in str(excinfo.value)
    assert "--train-csv" in str(excinfo.value) and "move it away" in str(excinfo.value)
    assert (cache / "tiny.csv").read_bytes() == edited
    assert sorted(p.name for p in cache.iterdir()) == ["tiny.csv"]
    assert server.requests == []  # not even fetched


def test_a_file_this_package_wrote_for_an_older_sha1_is_replaced(server, monkeypatch, cache):
    register(monkeypatch, server, "tiny", "tiny.csv", b"version 1\n")
    hub.download("tiny")
    server.files.clear()
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)  # DATA_HUB's sha1 changed
    assert Path(hub.download("tiny")).read_bytes() == PAYLOAD
    # ... but once a student edits it, it is theirs
    (cache / "tiny.csv").write_bytes(b"Id,SalePrice\n1,2\n")
    register(monkeypatch, server, "tiny", "tiny.csv", b"version 3\n")
    with pytest.raises(hub.DownloadError, match="exists but differs from"):
        hub.download("tiny")


def test_http_404_raises_and_saves_nothing(server, monkeypatch, cache):
    url = register(monkeypatch, server, "gone", "gone.csv", PAYLOAD)
    del server.files["/gone.csv"]
    with pytest.raises(hub.DownloadError, match="404") as excinfo:
        hub.download("gone")
    message = str(excinfo.value)
    assert f"could not download {url}" in message
    assert str(cache / "gone.csv") in message
    assert len(message.splitlines()) == 1
    # The error page is not saved; a cache folder made for the download is removed again.
    assert not cache.exists()
    assert server.requests == ["/gone.csv"]  # a 404 is not worth a retry


def test_a_cache_dir_that_is_a_file_is_said_to_be_a_file(server, monkeypatch, tmp_path):
    register(monkeypatch, server, "tiny", "tiny.csv", PAYLOAD)
    (tmp_path / "notes").write_text("mine")
    for folder in (tmp_path / "notes", tmp_path / "notes" / "sub"):
        with pytest.raises(FileAccessError, match="is a file, not a folder") as excinfo:
            hub.download("tiny", cache_dir=folder)
        assert "could not download" not in str(excinfo.value)
    assert (tmp_path / "notes").read_text() == "mine"
    assert server.requests == []


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


def test_interrupted_transfer_is_retried_and_leaves_no_file_or_folder(
    server, monkeypatch, cache, waits
):
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
    for part in (
        f"could not download {url}",
        str(cache / "house.csv"),
        sha1(PAYLOAD),
        "$D2LCOMPUTE_DATA_DIR",
        "--data-dir",
    ):
        assert part in message
    assert len(message.splitlines()) == 1 and len(message) < 500  # not urllib3's chain
    assert "urllib3" not in message and "Connection refused" in message
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
    with pytest.raises(
        hub.DownloadError,
        match=r"could not download .*/trickle/slow.csv: it "
        r"took longer than 0.3 s",
    ):
        hub.download("slow")
    assert time.perf_counter() - start < 3
    assert server.requests == ["/trickle/slow.csv"]  # not retried: it would be as slow again
    assert not cache.exists()


@pytest.mark.parametrize(
    "path, limit, what",
    [
        ("/big.csv", 1000, "the server announces 2000 bytes"),  # refused before the body
        (
            "/gzip/bomb.csv",
            100_000,
            "more than 100000 bytes arrived",
        ),  # 10 kB that inflate to 10 MB
    ],
)
def test_a_download_over_the_size_limit_is_refused(server, monkeypatch, cache, path, limit, what):
    server.files["/big.csv"] = b"x" * 2000
    monkeypatch.setitem(hub.DATA_HUB, "big", (server.base_url + path, "0" * 40))
    monkeypatch.setattr(hub, "DOWNLOAD_MAX_BYTES", limit)
    with pytest.raises(
        hub.DownloadError,
        match=rf"refused to download .*: {what}, over the "
        rf"limit of {limit} bytes",
    ):
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
        (cache.parent / "reference").stat().st_mode
    )


def test_a_failed_download_leaves_no_new_folders(server, monkeypatch, tmp_path):
    register(monkeypatch, server, "gone", "gone.csv", PAYLOAD)
    del server.files["/gone.csv"]
    (tmp_path / "kept").mkdir()
    with pytest.raises(hub.DownloadError):
        hub.download("gone", cache_dir=tmp_path / "kept" / "new" / "deeper")
    assert list((tmp_path / "kept").iterdir()) == []


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(
        ValueError, match=r"unknown data set name='no_such_set'.*'kaggle_house_train'"
    ):
        hub.download("no_such_set")


@pytest.mark.parametrize(
    "entry",
    [
        ("http://x/a.csv",),
        ("http://x/a.csv", "d41d8cd98f00b204e9800998ecf8427e"),  # an md5, not a sha1
        ("http://x/", "0" * 40),  # no file name to cache it under
        "http://x/a.csv",
    ],
)
def test_malformed_hub_entry_is_rejected(monkeypatch, entry):
    monkeypatch.setitem(hub.DATA_HUB, "bad", entry)
    with pytest.raises(ValueError, match=r"DATA_HUB\['bad'\]"):
        hub.download("bad")


def test_read_only_cache_with_the_right_file_is_not_written(monkeypatch, tmp_path):
    ro = tmp_path / "read-only"
    ro.mkdir()
    (ro / "house.csv").write_bytes(PAYLOAD)
    ro.chmod(0o555)
    monkeypatch.setitem(
        hub.DATA_HUB, "house", (f"http://127.0.0.1:{closed_port()}/house.csv", sha1(PAYLOAD))
    )
    # chmod does not stop root, so also fail on any attempt to download (write or connect).
    monkeypatch.setattr(hub, "_fetch", lambda *a, **k: pytest.fail("tried to download"))
    try:
        assert hub.download("house", cache_dir=ro) == str(ro / "house.csv")
    finally:
        ro.chmod(0o755)
    assert sorted(p.name for p in ro.iterdir()) == ["house.csv"]


def test_real_files_are_used_from_the_read_only_shared_folder(real_data_dir, monkeypatch):
    monkeypatch.setattr(hub, "_fetch", lambda *a, **k: pytest.fail("tried the network"))
    for name, file_name in [
        ("kaggle_house_train", "kaggle_house_pred_train.csv"),
        ("kaggle_house_test", "kaggle_house_pred_test.csv"),
    ]:
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


def test_download_by_url_fetches_verifies_and_caches(server, tmp_path):
    url = serve(server, "tiny.csv", PAYLOAD)
    folder = tmp_path / "root"
    path = d2l.download(url, folder, sha1_hash=sha1(PAYLOAD).upper())  # any case, as pooch
    assert path == str(folder / "tiny.csv") and Path(path).read_bytes() == PAYLOAD
    assert d2l.download(url, str(folder), sha1(PAYLOAD)) == path  # positional, as book cells
    assert server.requests == ["/tiny.csv"]
    assert sorted(p.name for p in folder.iterdir()) == [".tiny.csv.sha1", "tiny.csv"]


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
    hub.DATA_HUB[name] = (
        "http://127.0.0.1:9/kaggle_house_pred_train.csv",
        hashlib.sha1(content).hexdigest(),
    )
    try:
        path = d2l.download(name)  # no network needed: ../data holds the verified file
    finally:
        del hub.DATA_HUB[name]
    assert Path(path) == (book_layout / "kaggle_house_pred_train.csv").resolve()
