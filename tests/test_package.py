import subprocess
import sys

import pytest

import d2lcompute as d2l


def test_import_keeps_heavy_libraries_out():
    code = ("import sys, d2lcompute; "
            "print(sorted(m for m in ('matplotlib', 'pandas', 'torchvision') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", d2l.__all__)
def test_every_public_name_resolves(name):
    assert getattr(d2l, name) is not None


def test_unknown_name_is_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        d2l.not_a_name


def test_chapter_modules_stay_namespaced():
    assert callable(d2l.hub.data_dir)
    assert "train" not in d2l.__all__  # the book reuses `train` for different jobs


def test_no_submodule_shares_a_public_name():
    # Importing d2lcompute.<name> sets the package attribute <name> to the submodule, so a
    # module named like a function (plot.py next to d2l.plot) would make the function vanish.
    assert not set(d2l._SUBMODULES) & set(d2l.__all__)


def test_public_names_survive_importing_every_submodule():
    code = ("import importlib, d2lcompute as d2l\n"
            "mods = {m: importlib.import_module('d2lcompute.' + m) for m in d2l._SUBMODULES}\n"
            "print([n for n in d2l.__all__\n"
            "       if getattr(d2l, n) is not getattr(mods[d2l._NAME_TO_MODULE[n]], n)])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
