"""A package's public names, listed once in its ``__init__.pyi`` and imported on first use.

The face's stub lists what it gives, as imports (the convention of SPEC 1 and
``lazy_loader``): ``from .trainer import Trainer as Trainer`` is a public name,
``from . import hub as hub`` a module reached by name, and ``import numpy as _np`` then
``np = _np`` a library alias (in that form type checkers see it as exported). Editors and
type checkers read the stub; ``attach_stub`` reads the same lines at run time, so ``import``
of the face costs nothing and a name's module is imported the first time the name is used
(after which the face keeps it).
"""

import ast
import importlib
from pathlib import Path


def attach_stub(package, init_file):
    """``(__getattr__, __dir__, __all__)`` for ``package`` from the stub beside ``init_file``."""
    names, modules, libraries = _read_stub(package, Path(init_file).with_suffix(".pyi"))
    namespace = vars(importlib.import_module(package))

    def __getattr__(name):
        if name in names:
            module, attribute = names[name]
            value = getattr(importlib.import_module(module), attribute)
        elif name in modules or name in libraries:
            value = importlib.import_module(modules.get(name) or libraries[name])
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__():
        return sorted({*namespace, *names, *modules, *libraries})

    return __getattr__, __dir__, sorted(names)


def _read_stub(package, stub):
    """``{name: (module, attribute)}``, ``{name: module}`` and ``{alias: library}`` of ``stub``."""
    names, modules, libraries, imported = {}, {}, {}, {}
    for node in ast.parse(Path(stub).read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = (f"{package}.{node.module}", alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                modules[alias.asname or alias.name] = f"{package}.{alias.name}"
        elif isinstance(node, ast.Import):
            imported.update({alias.asname or alias.name: alias.name for alias in node.names})
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            libraries.update({target.id: imported[node.value.id] for target in node.targets})
    return names, modules, libraries
