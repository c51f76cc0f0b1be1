"""Execute every notebook top to bottom, as a student would, in quick mode.

``notebooks/*.ipynb`` follow the Chinese edition, ``notebooks/en/*.ipynb`` the English
edition (d2l.ai 1.0); their ids are ``dropout`` and ``en/dropout``.

Each notebook reads ``D2LCOMPUTE_QUICK`` in its first code cell: set to 1 here, it runs
few epochs on small data; unset (a student's run), it uses the book's full settings.
"""

import re

import pytest
from conftest import NO_REAL_DATA, REAL_DATA, ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted([*NOTEBOOK_DIR.glob("*.ipynb"), *NOTEBOOK_DIR.glob("en/*.ipynb")])
# what a notebook calls when it reads the real data sets (or downloads them)
READS_DATA = re.compile(r"load_data_fashion_mnist|FashionMNIST|read_data|KaggleHouse|download")


@pytest.mark.parametrize(
    "path",
    NOTEBOOKS,
    ids=[p.relative_to(NOTEBOOK_DIR).with_suffix("").as_posix() for p in NOTEBOOKS],
)
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{path.name} is committed with outputs; strip them"
    )
    monkeypatch.setenv("D2LCOMPUTE_QUICK", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernel's torch, as conftest pins ours
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend, as in Jupyter
    if REAL_DATA is not None:
        monkeypatch.setenv("D2LCOMPUTE_DATA_DIR", str(REAL_DATA))
    elif any(READS_DATA.search(c.source) for c in nb.cells if c.cell_type == "code"):
        pytest.skip(f"{path.name} reads the real data sets: {NO_REAL_DATA}")
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
