"""Shared fixtures. Real data sets come from ../shared/data when it is there."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def pytest_configure(config):
    # One torch thread for the whole suite. The models here are small, and on a shared
    # 2-core machine torch's thread pool mostly waits for cores: 30 small matmuls took 1.2 s
    # with 2 threads and 0.02 s with 1; a Fashion-MNIST epoch ran 8x slower with 2.
    torch.set_num_threads(1)
    # Figures that scripts save when a run ends go to a folder of the session (doctests
    # included), not to the user's temporary folder.
    os.environ["D2LCOMPUTE_FIGURE_DIR"] = tempfile.mkdtemp(prefix="d2lcompute-test-figures-")


def pytest_unconfigure(config):
    # A figure still open at exit would be saved and announced after the summary.
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    shutil.rmtree(os.environ.pop("D2LCOMPUTE_FIGURE_DIR", ""), ignore_errors=True)


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
    if not (SHARED_DATA / "kaggle_house_pred_train.csv").is_file():
        pytest.skip(f"real data sets not found in {SHARED_DATA}")
    return SHARED_DATA
