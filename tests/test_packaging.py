"""The wheel a non-editable ``pip install .`` builds: every module, the licence, the script."""

import configparser
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import d2lcompute

SOURCE = Path(d2lcompute.__file__).resolve().parent
PROJECT = SOURCE.parent  # the checkout: pyproject.toml beside d2lcompute/


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if not (PROJECT / "pyproject.toml").is_file():
        pytest.skip("not run from a checkout")
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("src")
    # a copy, so that building leaves no build/ or *.egg-info in the checkout
    shutil.copytree(
        PROJECT,
        build / "project",
        ignore=shutil.ignore_patterns(
            ".git", ".venv", ".ci", "data", "runs", "*.egg-info", "build", "__pycache__"
        ),
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(build / "project"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (path,) = out.glob("d2lcompute-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_holds_every_module_and_the_package_only(wheel):
    names = set(wheel.namelist())
    files = [*SOURCE.rglob("*.py"), *SOURCE.rglob("*.pyi"), SOURCE / "py.typed"]
    modules = {p.relative_to(SOURCE.parent).as_posix() for p in files}
    assert modules and modules <= names, sorted(modules - names)
    outside = [n for n in names if not n.startswith(("d2lcompute/", "d2lcompute-"))]
    assert not outside, outside


def test_wheel_carries_the_licence_metadata_and_the_script(wheel):
    dist_info = next(n.split("/")[0] for n in wheel.namelist() if ".dist-info/" in n)
    names = set(wheel.namelist())
    assert any(n.startswith(f"{dist_info}/licenses/LICENSE") for n in names)
    metadata = wheel.read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Topic :: Education" in metadata
    assert "Provides-Extra: notebooks" in metadata
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(f"{dist_info}/entry_points.txt").decode())
    assert entry_points["console_scripts"]["d2lcompute"] == "d2lcompute.cli:main"


@pytest.mark.parametrize(
    "code",
    [
        ["-c", "import d2lcompute as d2l; print(d2l.FixedHiddenMLP.__name__)"],
        ["-m", "d2lcompute", "--version"],
    ],
)
def test_runs_from_the_folder_that_holds_a_clone_named_d2lcompute(tmp_path, code):
    """./d2lcompute (the clone) is at most a namespace package there; the installed one wins.

    The editable install puts the checkout's folder on sys.path (a .pth file), where
    d2lcompute/ is a regular package: it beats a namespace portion found earlier on the path.
    """
    if not (PROJECT / "pyproject.toml").is_file():
        pytest.skip("not run from a checkout")
    (tmp_path / "d2lcompute").symlink_to(PROJECT, target_is_directory=True)
    result = subprocess.run([sys.executable, *code], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ("FixedHiddenMLP", f"d2lcompute {d2lcompute.__version__}")
