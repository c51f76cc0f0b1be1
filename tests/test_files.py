import errno
import os
import stat
import subprocess
import sys

import pytest

from d2lcompute._files import atomic_write
from d2lcompute.errors import FileAccessError, UserError


def test_atomic_write_creates_and_replaces(tmp_path):
    path = tmp_path / "sub" / "f.bin"
    with atomic_write(path) as f:
        f.write(b"one")
    with atomic_write(path) as f:
        f.write(b"two")
    assert path.read_bytes() == b"two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.bin"]


def test_crash_mid_write_keeps_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_write(path, "w") as f:
            f.write("half of the new")
            raise RuntimeError("disk on fire")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_file_mode_follows_umask_like_open(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "a") as f:
            f.write(b"x")
        with open(tmp_path / "b", "wb") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    mode = lambda name: stat.S_IMODE((tmp_path / name).stat().st_mode)  # noqa: E731
    assert mode("a") == mode("b") == 0o644


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_an_existing_files_permission_bits_are_kept(tmp_path):
    """A private 0600 checkpoint must not become world-readable when saved again."""
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_a_symlink_stays_a_link_and_its_target_gets_the_data(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "model-v2.pt"
    target.write_bytes(b"old")
    link = tmp_path / "latest.pt"
    link.symlink_to(target)
    with atomic_write(link) as f:
        f.write(b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["model-v2.pt"]


def test_the_umask_is_never_changed(tmp_path, monkeypatch):
    """Setting the umask, even briefly, gives another thread's new files the wrong mode."""

    def no_umask(mask):
        raise AssertionError(f"os.umask({mask:#o}) called")

    monkeypatch.setattr(os, "umask", no_umask)
    with atomic_write(tmp_path / "f") as f:
        f.write(b"x")
    assert (tmp_path / "f").read_bytes() == b"x"


_KILLED_SAVE = """
import os, sys
from d2lcompute._files import atomic_write
with atomic_write(sys.argv[1]) as f:
    f.write(b"half of it")
    f.flush()
    os._exit(9)  # killed mid-save: no cleanup runs
"""


def test_a_later_save_removes_temporary_files_of_killed_saves(tmp_path):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"old")
    leftovers = []
    for _ in range(2):  # the second killed save removes the first one's file: no pile-up
        subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path)], check=False)
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "ckpt.pt"]
        assert len(leftovers) == 1 and leftovers[0].startswith(".ckpt.pt.d2l-")
    # not ours, or ours but the process still runs: kept
    (tmp_path / ".notes.txt.tmp").write_bytes(b"someone else's")
    alive = leftovers[0].replace(leftovers[0].split("-")[2], str(os.getpid()))
    (tmp_path / alive).write_bytes(b"a save in progress")
    with atomic_write(tmp_path / "other.pt") as f:
        f.write(b"x")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".notes.txt.tmp", alive, "ckpt.pt", "other.pt"]
    )


def test_a_full_disk_is_a_user_error_naming_the_file(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    message = r"cannot write .*f.bin: No space left on device; free some space"
    with pytest.raises(FileAccessError, match=message) as info, atomic_write(path) as f:
        f.write(b"new")
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, UserError)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]
