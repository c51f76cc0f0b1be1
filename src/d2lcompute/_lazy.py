"""Public names imported on first use (PEP 562), for the package's faces.

``d2lcompute``, ``d2lcompute.house_prices`` and ``d2lcompute.testing`` each declare a table
``{module: [names]}``; ``import`` of the face then costs nothing, and a name's module is
imported the first time the name is used (after which the face keeps it).
"""

import importlib


class LazyExports:
    """The names of ``exports`` (``{module: [names]}``) and ``submodules`` of ``package``."""

    def __init__(self, package, exports, submodules=()):
        self.package = package
        self.name_to_module = {name: module for module, names in exports.items() for name in names}
        self.submodules = {*exports, *submodules}
        self.names = sorted(self.name_to_module)

    def find(self, name, namespace):
        """The public ``name`` (kept in ``namespace``, the face's globals), else None."""
        if name in self.name_to_module:
            module = importlib.import_module(f"{self.package}.{self.name_to_module[name]}")
            namespace[name] = value = getattr(module, name)
            return value
        if name in self.submodules:
            return importlib.import_module(f"{self.package}.{name}")
        return None

    def missing(self, name):
        return AttributeError(f"module {self.package!r} has no attribute {name!r}")

    def getattr_for(self, namespace):
        """A module ``__getattr__`` for a face that has no names of its own to add."""

        def __getattr__(name):
            value = self.find(name, namespace)
            if value is None:
                raise self.missing(name)
            return value

        return __getattr__
