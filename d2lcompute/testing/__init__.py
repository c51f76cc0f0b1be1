"""Coursework checks: assertions that teach, exercise checks against the package's own
implementations, a pytest plugin and ``python -m d2lcompute check FILE.py`` (or a FOLDER:
a whole class, graded on warm isolated workers into a gradebook).

Names (listed in ``__init__.pyi``) load on first use, like the package's: ``import
d2lcompute.testing`` imports neither torch nor Hypothesis, so the pytest plugin (which
imports this package) costs nothing in a test run that does not use it.

Example::

    import d2lcompute.testing as dt
    from solution import MyLinear

    def test_my_linear():
        dt.check_exercise("MyLinear", MyLinear).assert_passed()
"""

from d2lcompute._lazy import attach_stub

__getattr__, __dir__, __all__ = attach_stub(__name__, __file__)
