"""The public face: ``import d2lcompute as d2l`` and the names listed in ``__init__.pyi``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import d2lcompute as d2l
from d2lcompute._lazy import _read_stub

STUB = Path(d2l.__file__).with_suffix(".pyi")
NAMES, MODULES, LIBRARIES = _read_stub("d2lcompute", STUB)


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
    package = STUB.parent
    submodules = {p.stem for p in package.glob("*.py")} | {
        p.parent.name for p in package.glob("*/__init__.py")
    }
    assert not submodules & set(d2l.__all__)


def test_the_stub_lists_each_name_once_and_every_listed_module_exists():
    lines = [
        line for line in STUB.read_text().splitlines() if line.startswith(("from ", "import "))
    ]
    listed = [line.split(" as ")[-1] for line in lines]
    assert len(listed) == len(set(listed)), sorted(n for n in listed if listed.count(n) > 1)
    assert d2l.__all__ == sorted(NAMES)
    for name, module in MODULES.items():
        assert getattr(d2l, name).__name__ == module


def test_dir_lists_names_modules_and_library_aliases():
    assert {"Trainer", "weight_decay", "plt", "__version__"} <= set(dir(d2l))


def test_public_names_survive_importing_every_submodule():
    code = (
        "import importlib, d2lcompute as d2l\n"
        "from d2lcompute._lazy import _read_stub\n"
        "names, _, _ = _read_stub('d2lcompute', d2l.__file__[:-3] + '.pyi')\n"
        "mods = {m: importlib.import_module(m) for m, _ in names.values()}\n"
        "print([n for n, (m, a) in names.items() if getattr(d2l, n) is not getattr(mods[m], a)])"
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


def test_the_mlp_module_name_no_longer_hides_behind_the_mlp_block():
    assert isinstance(d2l.MLP, type)  # §5.1's block
    with pytest.raises(
        AttributeError,
        match=r"'mlp': the §4.1-4.3 module is "
        r"d2l.multilayer_perceptrons \(d2l.MLP is §5.1's",
    ):
        getattr(d2l, "mlp")  # noqa: B009 (the attribute access is what is tested)


def test_type_checkers_resolve_the_lazy_names_to_their_classes_and_functions(tmp_path):
    """What an editor shows for d2l.Trainer: the class, from the stub, not __getattr__'s Any."""
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    project = STUB.parent.parent
    config = (
        []
        if not (project / "pyproject.toml").is_file()
        else ["--config-file", str(project / "pyproject.toml")]
    )
    uses = tmp_path / "uses.py"
    uses.write_text(
        "import d2lcompute as d2l\n"
        "import d2lcompute.testing as dt\n"
        "reveal_type(d2l.Trainer(max_epochs=1))\n"
        "reveal_type(d2l.train_ch3)\n"
        "reveal_type(d2l.summary)\n"
        "reveal_type(d2l.weight_decay.train)\n"
        "reveal_type(d2l.plt)\n"
        "reveal_type(dt.check_file)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            *config,
            "--no-incremental",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(uses),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(project)},
    )
    revealed = [
        line.split("Revealed type is ", 1)[1]
        for line in result.stdout.splitlines()
        if "Revealed type is" in line
    ]
    assert len(revealed) == 6, result.stdout + result.stderr
    assert revealed[0] == '"d2lcompute.trainer.Trainer"'
    assert revealed[1].startswith('"def (net: Any, train_iter: Any, test_iter: Any, loss: Any')
    assert revealed[2].startswith('"def (model: Any, input_size: Any =')
    assert revealed[3].startswith('"def (lambd: Any, num_epochs: Any =')
    assert revealed[4] in ('"types.ModuleType"', '"Any"')  # matplotlib's types are not read
    assert revealed[5].startswith('"def (path: Any')
    assert result.returncode == 0, result.stdout


def test_a_stub_line_the_loader_cannot_read_is_an_error(tmp_path):
    """A parenthesized import would be silently skipped by a lazy reader: it is refused."""
    stub = tmp_path / "__init__.pyi"
    stub.write_text("from .trainer import Trainer as Trainer\nfrom .blocks import (MLP,\n")
    with pytest.raises(ImportError, match=r"line 2: not a face's line: from .blocks import \(MLP,"):
        _read_stub("d2lcompute", stub)
