"""Coursework checks: assertions that teach, exercise checks against the package's own
implementations, a pytest plugin and ``python -m d2lcompute check FILE.py`` (or a FOLDER:
a whole class, graded on warm isolated workers into a gradebook).

Names load on first use, like the package's: ``import d2lcompute.testing`` imports neither
torch nor Hypothesis, so the pytest plugin (which imports this package) costs nothing in a
test run that does not use it.

Example::

    import d2lcompute.testing as dt
    from solution import MyLinear

    def test_my_linear():
        dt.check_exercise("MyLinear", MyLinear).assert_passed()
"""

from d2lcompute._lazy import LazyExports

_EXPORTS = {
    "failures": ["CheckFailed"],
    "assertions": [
        "assert_gradients_flow",
        "assert_registered",
        "assert_param_count",
        "assert_tied",
    ],
    "behaviour": [
        "assert_output_shape",
        "assert_train_eval_differ",
        "assert_eval_deterministic",
        "assert_can_overfit",
        "assert_same_result",
    ],
    "exercises": ["check_exercise", "ExerciseReport", "CheckResult", "EXERCISES"],
    "runner": ["check_file"],
    "grading": ["grade_files", "write_gradebook"],
}
_lazy = LazyExports(__name__, _EXPORTS)
__all__ = [name for names in _EXPORTS.values() for name in names]
__getattr__ = _lazy.getattr_for(globals())


def __dir__():
    return sorted({*globals(), *__all__})
