import subprocess
import sys

import pytest

import d2lcompute as d2l


def test_import_keeps_heavy_libraries_out():
    code = (
        "import sys, d2lcompute; "
        "print(sorted(m for m in ('matplotlib', 'pandas', 'torchvision') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", d2l.__all__)
def test_every_public_name_resolves(name):
    assert getattr(d2l, name) is not None


def test_unknown_name_is_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        getattr(d2l, "not_a_name")  # noqa: B009 (the attribute access is what is tested)


def test_chapter_modules_stay_namespaced():
    assert callable(d2l.hub.data_dir)
    assert "train" not in d2l.__all__  # the book reuses `train` for different jobs


def test_no_submodule_shares_a_public_name():
    # Importing d2lcompute.<name> sets the package attribute <name> to the submodule, so a
    # module named like a function (plot.py next to d2l.plot) would make the function vanish.
    assert not set(d2l._SUBMODULES) & set(d2l.__all__)


def test_public_names_survive_importing_every_submodule():
    code = (
        "import importlib, d2lcompute as d2l\n"
        "mods = {m: importlib.import_module('d2lcompute.' + m) for m in d2l._SUBMODULES}\n"
        "print([n for n in d2l.__all__\n"
        "       if getattr(d2l, n) is not getattr(mods[d2l._NAME_TO_MODULE[n]], n)])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_library_aliases_the_book_uses_load_on_first_use():
    code = (
        "import sys, d2lcompute as d2l\n"
        "assert 'matplotlib.pyplot' not in sys.modules and 'pandas' not in sys.modules\n"
        "import matplotlib; matplotlib.use('Agg')\n"
        "d2l.plt.figure(figsize=(2, 2)); d2l.plt.plot([1, 2]); d2l.plt.close('all')\n"
        "import numpy, pandas, torch, IPython.display\n"
        "assert (d2l.np, d2l.pd, d2l.torch, d2l.nn, d2l.F, d2l.display) == (numpy, pandas, torch,"
        " torch.nn, torch.nn.functional, IPython.display)\n"
        "assert 'plt' in dir(d2l)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_earlier_module_names_reach_what_they_held():
    assert d2l.regularization.train is d2l.weight_decay.train
    assert d2l.regularization.dropout_layer is d2l.dropout.dropout_layer
    assert d2l.stability is d2l.numerical_stability


def test_the_mlp_module_name_no_longer_hides_behind_the_mlp_block():
    assert isinstance(d2l.MLP, type)  # §5.1's block
    with pytest.raises(
        AttributeError,
        match=r"'mlp': the §4.1-4.3 module is "
        r"d2l.multilayer_perceptrons \(d2l.MLP is §5.1's",
    ):
        getattr(d2l, "mlp")  # noqa: B009 (the attribute access is what is tested)
