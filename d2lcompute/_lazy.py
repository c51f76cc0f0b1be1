"""A package's public names, listed once in its ``__init__.pyi`` and imported on first use.

The face's stub lists what it gives, as imports (the convention of SPEC 1 and
``lazy_loader``): ``from .trainer import Trainer as Trainer`` is a public name,
``from . import hub as hub`` a module reached by name, and ``import numpy as _np`` then
``np = _np`` a library alias (in that form type checkers see it as exported). Editors and
type checkers read the stub; ``attach_stub`` reads the same lines at run time, so ``import``
of the face costs nothing and a name's module is imported the first time the name is used
(after which the face keeps it).
"""

import importlib
import os


def attach_stub(package, init_file):
    """``(__getattr__, __dir__, __all__)`` for ``package`` from the stub beside ``init_file``."""
    stub = os.path.splitext(init_file)[0] + ".pyi"
    names, modules, libraries = _read_stub(package, stub)
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
    """``{name: (module, attribute)}``, ``{name: module}`` and ``{alias: library}`` of ``stub``.

    Read line by line rather than with ``ast``, whose import alone would triple the cost of
    ``import d2lcompute``; a line of another form is an error, never silently skipped.
    """
    names, modules, libraries, imported = {}, {}, {}, {}
    with open(stub, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            match line.split("#", 1)[0].split():
                case []:
                    pass
                case ["from", ".", "import", module, "as", alias]:
                    modules[alias] = f"{package}.{module}"
                case ["from", module, "import", name, "as", alias] if module.startswith("."):
                    names[alias] = (f"{package}{module}", name)
                case ["import", library, "as", alias]:
                    imported[alias] = library
                case [alias, "=", name] if name in imported:
                    libraries[alias] = imported[name]
                case [annotation, _] if annotation.endswith(":"):
                    pass  # e.g. ``__version__: str``, for type checkers
                case _:
                    raise ImportError(f"{stub}, line {number}: not a face's line: {line.strip()}")
    return names, modules, libraries
