"""The package's shape: its import graph runs one way, with every in-package import visible."""

import ast
import re
from pathlib import Path

import pytest

import d2lcompute

PACKAGE = Path(d2lcompute.__file__).parent


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
MAX_LINES = 360  # about 350: past it, a module says why at its top
LONG_REASON = re.compile(r"^Kept whole \(~\d+ lines\): \S", re.MULTILINE)
BENCHMARKS = sorted((PACKAGE.parent / "benchmarks").glob("*.py"))


def _imports(name, path):
    """The package's modules that ``name`` imports, anywhere in it (deferred imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x, from .m import y
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]).strip(".")
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle():
    """One import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(GRAPH):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle():
    assert _cycle() is None, " -> ".join(_cycle())


def test_in_package_modules_are_imported_by_import_statements():
    """importlib hides an import from whoever reads the graph; only the faces' loader uses it."""
    users = {
        name
        for name, path in MODULES.items()
        if "importlib.import_module" in path.read_text(encoding="utf-8")
    }
    assert users <= {"d2lcompute._lazy", "d2lcompute.commands.info"}, sorted(users)


@pytest.mark.parametrize("path", [*MODULES.values(), *BENCHMARKS], ids=lambda p: p.name)
def test_a_module_is_short_or_says_why_at_its_top(path):
    source = path.read_text(encoding="utf-8")
    lines = len(source.splitlines())
    docstring = ast.get_docstring(ast.parse(source)) or ""
    assert lines <= MAX_LINES or LONG_REASON.search(docstring), (
        f"{path.name} has {lines} lines: split it, or say why in its docstring "
        f"('Kept whole (~{lines} lines): ...')"
    )
