"""Check a student's version of a build-it-yourself piece against the package's own.

:func:`check_exercise` runs the exercise's checks (property-based, seeded Hypothesis runs
comparing shapes, values, gradients and edge cases with the reference implementation) and
returns an :class:`ExerciseReport`: one line per check, and for each failure a message
that says what was expected, what was found and the likely cause. The checks judge
behaviour: a convention correctness does not need is a *note* beside the verdict, never a
failure, unless the check runs ``strict`` (``check_exercise(..., strict=True)``, the
command's ``--strict`` or the plugin's ``--d2l-strict``, which set ``$D2LCOMPUTE_STRICT``).

Book: §4.5-4.6, §4.10, §5.1-5.2, §5.4-5.5.
"""

import os
from dataclasses import dataclass

from d2lcompute._seeding import seeded
from d2lcompute.testing import (
    _fold_checks,
    _function_checks,
    _init_checks,
    _module_checks,
    _save_load_checks,
)
from d2lcompute.testing.failures import CheckFailed, take_notes

STRICT_ENV = "D2LCOMPUTE_STRICT"  # "all", or exercise names separated by commas

EXERCISES = {
    exercise.name: exercise
    for exercise in (
        *_module_checks.EXERCISES,
        *_function_checks.EXERCISES,
        *_fold_checks.EXERCISES,
        *_save_load_checks.EXERCISES,
        *_init_checks.EXERCISES,
    )
}


@dataclass(frozen=True)
class CheckResult:
    """One check: its title, whether it passed, the teaching message if it did not, and
    the notes: conventions the code does not follow that correctness does not need."""

    check: str
    passed: bool
    message: str = ""
    notes: tuple = ()


class ExerciseReport:
    """The results of :func:`check_exercise`; ``str()`` gives one line per check.

    Attributes:
        exercise: the exercise name.
        results: the :class:`CheckResult` s, in order.
        book: the book section of the exercise, e.g. ``"§5.1.2"``.
    """

    def __init__(self, exercise, results, book=""):
        self.exercise, self.results, self.book = exercise, list(results), book

    @property
    def passed(self):
        """True when every check passed."""
        return all(result.passed for result in self.results)

    @property
    def num_passed(self):
        return sum(result.passed for result in self.results)

    @property
    def failures(self):
        return [result for result in self.results if not result.passed]

    @property
    def notes(self):
        """Every note of the passed checks, in order, each once."""
        notes = [text for result in self.results if result.passed for text in result.notes]
        return list(dict.fromkeys(notes))

    def assert_passed(self):
        """Raise :class:`CheckFailed` with the whole report unless every check passed."""
        if not self.passed:
            raise CheckFailed(str(self))

    def to_dict(self):
        """A JSON-ready dict: exercise, passed, num_passed, total and every check."""
        return {
            "exercise": self.exercise,
            "book": self.book,
            "passed": self.passed,
            "num_passed": self.num_passed,
            "total": len(self.results),
            "notes": self.notes,
            "checks": [{**vars(result), "notes": list(result.notes)} for result in self.results],
        }

    def __str__(self):
        book = f" (book {self.book})" if self.book else ""
        lines = [f"{self.exercise}: {self.num_passed}/{len(self.results)} checks passed{book}"]
        for result in self.results:
            lines.append(f"  {'ok  ' if result.passed else 'FAIL'} {result.check}")
            lines += [f"       {line}" for line in result.message.splitlines()]
            lines += [f"       note: {text}" for text in result.notes if result.passed]
        return "\n".join(lines)

    def __repr__(self):
        return f"<ExerciseReport {self.exercise}: {self.num_passed}/{len(self.results)} passed>"


def check_exercise(name, student_obj, *, strict=None):
    """Check a student's ``student_obj`` for the exercise ``name`` against the reference.

    Args:
        name: one of :data:`EXERCISES`, e.g. ``"MySequential"``, ``"Parallel"``,
            ``"CenteredLayer"``, ``"MyLinear"``, ``"dropout_layer"``, ``"l2_penalty"``,
            ``"get_k_fold_data"``, ``"init_weights"`` (and the other initialisers of §5.2),
            ``"save_load"``.
        student_obj: the student's class (not an instance) or function; for
            ``"save_load"`` the pair ``(save, load)``.
        strict: True makes every note a failure; default: ``$D2LCOMPUTE_STRICT``
            (``"all"`` or a comma-separated list of exercise names), else False.

    Returns:
        An :class:`ExerciseReport`; ``report.passed`` is True when every check passed,
        and ``report.assert_passed()`` fails a test with the whole report.

    Example::

        >>> from d2lcompute.dropout import dropout_layer
        >>> check_exercise("dropout_layer", dropout_layer).passed
        True
    """
    exercise = _exercise(name)
    _check_student_obj(exercise, student_obj)
    strict = is_strict(name) if strict is None else bool(strict)
    results = [_run(title, check, student_obj, strict) for title, check in exercise.checks]
    return ExerciseReport(name, results, exercise.book)


def is_strict(name):
    """Whether ``$D2LCOMPUTE_STRICT`` makes the notes of exercise ``name`` count."""
    names = {part.strip() for part in os.environ.get(STRICT_ENV, "").split(",")}
    return "all" in names or name in names


def _exercise(name):
    if name not in EXERCISES:
        raise ValueError(f"name must be one of {', '.join(EXERCISES)}; got name={name!r}")
    return EXERCISES[name]


def _check_student_obj(exercise, obj):
    name = exercise.name
    if exercise.kind == "pair":
        if not (isinstance(obj, tuple) and len(obj) == 2 and all(map(callable, obj))):
            raise TypeError(
                f"student_obj for {name!r} must be the pair of functions "
                f"({', '.join(exercise.needs)}), got {obj!r}"
            )
    elif exercise.kind == "class" and not isinstance(obj, type):
        raise TypeError(
            f"student_obj for {name!r} must be the class itself "
            f"({name}, not {name}(...)), got {type(obj).__name__}"
        )
    elif not callable(obj):
        raise TypeError(f"student_obj for {name!r} must be a function, got {type(obj).__name__}")


def _run(title, check, student_obj, strict):
    """Run one check from a fixed seed; any exception is a failure with a message, and so is
    a note when ``strict``."""
    take_notes()
    try:
        with seeded(0):
            check(student_obj)
    except AssertionError as e:
        take_notes()
        return CheckResult(title, False, str(e))
    except Exception as e:  # noqa: BLE001 - the student's code, or Hypothesis about it
        take_notes()
        return CheckResult(title, False, f"raised {type(e).__name__}: {e}")
    notes = tuple(take_notes())
    if strict and notes:
        return CheckResult(title, False, f"(strict) {notes[0]}", notes)
    return CheckResult(title, True, notes=notes)
