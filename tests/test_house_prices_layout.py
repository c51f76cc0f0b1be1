"""The house_prices subpackage's layout: each module's interface is its ``__all__``.

A module uses of a sibling only the names in the sibling's ``__all__`` (or the face's), and only
siblings listed above it in the face's docstring; the face exports only declared names. Checked from
the source (``ast``), so that the layout cannot drift (module sizes: tests/test_layout.py).
"""

import ast
import importlib
import re
from pathlib import Path

import pytest

from d2lcompute import house_prices
from d2lcompute._lazy import _read_stub

PACKAGE = "d2lcompute.house_prices"
FOLDER = Path(house_prices.__file__).parent
MODULES = sorted(p.stem for p in FOLDER.glob("*.py") if p.stem != "__init__")


def interfaces():
    """``{module: set(__all__)}`` for every module of the subpackage."""
    return {name: set(importlib.import_module(f"{PACKAGE}.{name}").__all__) for name in MODULES}


def order():
    """The modules in the order the face's docstring lists them (each may use those above)."""
    listed = []
    for line in house_prices.__doc__.splitlines():
        if line.startswith("- "):
            listed += [m for m in re.findall(r"``(\w+)``", line) if m in MODULES]
    return listed


def violations(module, source, interfaces, face, order):
    """What ``source`` (module ``module``) uses of its siblings that it may not: messages."""
    tree = ast.parse(source)
    above = set(order[: order.index(module)])
    bound = {}  # local name -> sibling module it stands for ("" for the face)
    found = []

    def use(sibling, names, line):
        if not sibling:  # the face: its exports, or a submodule through it
            for name in names:
                if name in interfaces:
                    use(name, [], line)
                elif name not in face:
                    found.append(f"line {line}: {name} is not in the face's __init__.pyi")
            return
        if sibling not in above:
            found.append(f"line {line}: imports {sibling}, not listed above {module}")
        found.extend(
            f"line {line}: {sibling}.{name} is not in {sibling}.__all__"
            for name in names
            if name not in interfaces[sibling]
        )

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = ("house_prices." * bool(node.level) + (node.module or "")).rstrip(".")
            if target == "d2lcompute":  # from d2lcompute import house_prices [as hp]
                bound.update(
                    {a.asname or a.name: "" for a in node.names if a.name == "house_prices"}
                )
                continue
            target = target.removeprefix("d2lcompute.")
            if target != "house_prices" and not target.startswith("house_prices."):
                continue
            sibling = target.removeprefix("house_prices").lstrip(".")
            for alias in node.names:
                if alias.name == "*":
                    found.append(f"line {node.lineno}: a star import from {target}")
                elif sibling:
                    use(sibling, [alias.name], node.lineno)
                else:  # from the face: one of its exports, or a submodule
                    use("", [alias.name], node.lineno)
                    if alias.name in interfaces:
                        bound[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(f"{PACKAGE}."):
                    sibling = alias.name.removeprefix(f"{PACKAGE}.")
                    if alias.asname is None:
                        found.append(f"line {node.lineno}: import {alias.name} needs an alias")
                    else:
                        use(sibling, [], node.lineno)
                        bound[alias.asname] = sibling
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
        ):
            use(bound[node.value.id], [node.attr], node.lineno)
    return found


@pytest.mark.parametrize("module", MODULES)
def test_module_declares_its_interface(module):
    names = importlib.import_module(f"{PACKAGE}.{module}").__all__
    assert isinstance(names, list) and names, f"{module} has no __all__ list"
    assert not [n for n in names if n.startswith("_")]
    assert len(set(names)) == len(names)
    assert all(hasattr(importlib.import_module(f"{PACKAGE}.{module}"), n) for n in names)


@pytest.mark.parametrize("module", MODULES)
def test_module_uses_only_declared_names_of_siblings_above_it(module):
    source = (FOLDER / f"{module}.py").read_text(encoding="utf-8")
    assert violations(module, source, interfaces(), set(house_prices.__all__), order()) == []


def test_face_lists_every_module_and_exports_only_declared_names():
    assert sorted(order()) == MODULES  # each module once in the docstring's list
    declared = interfaces()
    names, reached, _ = _read_stub(PACKAGE, FOLDER / "__init__.pyi")
    exported = {}
    for module, name in names.values():
        exported.setdefault(module.rpartition(".")[2], set()).add(name)
    for module, names in exported.items():
        assert names <= declared[module], module
    assert set(MODULES) == set(exported) | set(reached)


def test_the_check_catches_an_undeclared_name_and_an_upward_import():
    declared = {"data": {"read_csv"}, "folds": {"k_folds"}, "book": {"train"}}
    order = ["data", "folds", "book"]
    good = "from d2lcompute.house_prices.data import read_csv\nfrom . import data\ndata.read_csv\n"
    assert violations("folds", good, declared, set(), order) == []
    bad = (
        "from d2lcompute.house_prices.data import _show\n"  # not in data's __all__
        "from d2lcompute.house_prices import data as d, book\n"  # book is below folds
        "d.features(x)\n"
        "from d2lcompute.house_prices import write_submission\n"  # not in the face
        "from d2lcompute import house_prices as hp\n"
        "hp.read_csv, hp.book, hp.prices\n"
    )
    assert violations("folds", bad, declared, {"read_csv"}, order) == [
        "line 1: data._show is not in data.__all__",
        "line 2: imports book, not listed above folds",
        "line 4: write_submission is not in the face's __init__.pyi",
        "line 3: data.features is not in data.__all__",
        "line 6: imports book, not listed above folds",
        "line 6: prices is not in the face's __init__.pyi",
    ]
