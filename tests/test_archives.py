"""Archives (d2lcompute/archives.py): download_extract and extract, safely and only once."""

import io
import json
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from local_server import PAYLOAD, register, serve, sha1

import d2lcompute as d2l
from d2lcompute import archives

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
    assert archives.download_extract("pack", "pkg") == str(cache / "pkg")
    for name, data in FILES.items():
        assert (cache / name).read_bytes() == data
    # No folder: the archive's path without its suffix (os.path.splitext in the book).
    assert archives.download_extract("pack") == str(cache / "pack")
    assert server.requests == [f"/pack.{kind}"]


def test_extract_again_skips_complete_members_and_repairs_cut_ones(server, monkeypatch, cache):
    register(monkeypatch, server, "pack", "pack.zip", make_archive("zip", FILES))
    archives.download_extract("pack", "pkg")
    (cache / "pkg/sub/b.txt").write_bytes(b"beta\n")  # as if an earlier extraction was cut short
    written = []
    real_open = open

    def recording_open(file, mode="r", *args, **kwargs):
        if "w" in mode:
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", recording_open)
    archives.download_extract("pack", "pkg")
    assert len(written) == 1  # b.txt only, through the staging folder
    assert Path(written[0]).parent.name.startswith(".pack.zip.partial-")
    assert not Path(written[0]).parent.exists()  # the staging folder is gone
    assert (cache / "pkg/sub/b.txt").read_bytes() == FILES["pkg/sub/b.txt"]


def test_extract_again_when_the_archive_changes_or_a_member_is_altered(server, monkeypatch, cache):
    """Deciding by size alone kept same-sized stale or damaged members."""
    register(monkeypatch, server, "pack", "pack.zip", make_archive("zip", FILES))
    archives.download_extract("pack")
    record = json.loads((cache / ".pack.zip.extracted").read_text())
    assert record["archive_sha1"] == sha1(make_archive("zip", FILES))
    assert sorted(record["members"]) == sorted(FILES)

    (cache / "pkg/a.txt").write_bytes(b"ALPHA\n")  # damaged, same size
    archives.download_extract("pack")
    assert (cache / "pkg/a.txt").read_bytes() == FILES["pkg/a.txt"]

    changed = {"pkg/a.txt": b"gamma\n", "pkg/sub/b.txt": b"delta\n" * 100}  # same sizes
    server.files.clear()
    register(monkeypatch, server, "pack", "pack.zip", make_archive("zip", changed))
    archives.download_extract("pack")
    for name, data in changed.items():
        assert (cache / name).read_bytes() == data


@pytest.mark.parametrize("kind", ["zip", "tar"])
@pytest.mark.parametrize("evil", ["../evil.txt", "pkg/../../evil.txt", "/tmp/d2lcompute-evil.txt"])
def test_malicious_member_is_refused_and_nothing_is_written(
    server, monkeypatch, cache, tmp_path, kind, evil
):
    members = {"pkg/a.txt": b"fine", evil: b"pwned"}
    register(monkeypatch, server, "evil", f"evil.{kind}", make_archive(kind, members))
    with pytest.raises(ValueError, match=rf"refusing to extract .*member '{evil}'"):
        archives.download_extract("evil")
    # not even pkg/a.txt: only the archive and the record that this package downloaded it
    assert sorted(p.name for p in cache.iterdir()) == [f".evil.{kind}.sha1", f"evil.{kind}"]
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
        archives.download_extract("link")
    assert sorted(p.name for p in cache.iterdir()) == [f".link.{kind}.sha1", f"link.{kind}"]


def test_extract_rejects_non_archives_and_broken_archives(server, monkeypatch):
    register(monkeypatch, server, "csv", "plain.csv", PAYLOAD)
    with pytest.raises(
        ValueError, match=r"download_extract extracts .*plain\.csv.*download\('csv'\)"
    ):
        archives.download_extract("csv")
    register(monkeypatch, server, "fake", "fake.zip", PAYLOAD)
    with pytest.raises(ValueError, match=r"fake\.zip is not a readable zip archive"):
        archives.download_extract("fake")


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


def _zip_with_bad_crc(members, bad):
    """A zip of ``members`` whose member ``bad`` has one altered byte (its CRC-32 fails)."""
    data = bytearray(make_archive("zip", members))
    payload = members[bad]
    at = bytes(data).index(payload)
    data[at] ^= 0xFF
    return bytes(data)


def test_a_member_failing_its_crc_leaves_nothing_extracted(tmp_path):
    members = {"d/a.txt": b"alpha" * 50, "d/b.txt": b"beta" * 50, "d/c.txt": b"gamma" * 50}
    archive = tmp_path / "pack.zip"
    archive.write_bytes(_zip_with_bad_crc(members, "d/c.txt"))
    target = tmp_path / "out"
    with pytest.raises(ValueError, match="not a readable zip archive"):
        archives.extract(archive, target)
    assert not target.exists()  # neither d/a.txt nor d/b.txt, nor the staging folder
    (tmp_path / "here").mkdir()
    with pytest.raises(ValueError):
        archives.extract(archive, tmp_path / "here")
    assert list((tmp_path / "here").iterdir()) == []


@pytest.mark.parametrize("names", [("x", "x/"), ("x", "x/y.txt"), ("x/y.txt", "x")])
def test_a_file_and_a_folder_of_one_name_are_refused_naming_both(tmp_path, names):
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in names:
            z.writestr(name, b"" if name.endswith("/") else b"data")
    with pytest.raises(ValueError, match="nothing was extracted") as info:
        archives.extract(archive, tmp_path / "out")
    assert all(repr(name) in str(info.value) for name in names)
    assert not (tmp_path / "out").exists()
