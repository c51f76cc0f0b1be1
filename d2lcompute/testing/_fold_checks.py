"""Exercise checks for the student's ``get_k_fold_data`` (§4.10).

The reference is :mod:`d2lcompute.house_prices`' folds: every sample used once, fold sizes
balanced, and the book's folds when k divides n.
"""

import torch
from hypothesis import strategies as st

from d2lcompute import house_prices
from d2lcompute.testing._properties import Exercise, assert_close, prop
from d2lcompute.testing.failures import call, fail, note


@st.composite
def _folds(draw):
    n = draw(st.integers(2, 30))
    return n, draw(st.integers(2, n))


def _fold(fn, n, k, i):
    """The four tensors for fold ``i``; row j of X is (j, 2j), y is j, so rows can be traced."""
    ids = torch.arange(n, dtype=torch.float32)
    X, y = torch.stack([ids, 2 * ids], dim=1), ids.reshape(-1, 1)
    result = call(f"get_k_fold_data({k}, {i}, X, y) for {n} samples", fn, k, i, X, y)
    if not (isinstance(result, (tuple, list)) and len(result) == 4):
        fail(
            "get_k_fold_data returns the wrong thing",
            expected="(X_train, y_train, X_valid, y_valid)",
            found=type(result).__name__,
        )
    return result


def _layouts(n, k):
    """The validation folds of correct splits: balanced (the reference's), the book's
    ``fold_size = n // k`` that drops the last ``n % k`` samples, and the last fold taking
    the leftover samples."""
    size = n // k
    book = [list(range(j * size, (j + 1) * size)) for j in range(k)]
    leftover = [*book[:-1], list(range((k - 1) * size, n))]
    balanced = [list(range(j * n // k, (j + 1) * n // k)) for j in range(k)]
    return balanced, book, leftover


_BOOK_DROPS = (
    "the book's fold_size = n // k drops the last n % k samples (its known flaw); the "
    "folds are right otherwise. Fold j spanning j * n // k to (j + 1) * n // k uses every "
    "sample (§4.10)"
)
_LEFTOVER = (
    "the last fold takes the n % k leftover samples, so fold sizes differ by more than "
    "one; j * n // k to (j + 1) * n // k balances them (§4.10)"
)


def _split(fn, n, k):
    """Every fold's ``(train ids, valid ids)``, after checking that rows stay together."""
    folds = []
    for i in range(k):
        X_train, y_train, X_valid, y_valid = _fold(fn, n, k, i)
        for X, y, part in ((X_train, y_train, "training"), (X_valid, y_valid, "validation")):
            if not torch.equal(X[:, 0], y.flatten()):
                fail(
                    f"the {part} rows of X and y no longer match (fold i={i}, k={k}, n={n})",
                    cause="X and y must be sliced with the same indices",
                    book="§4.10",
                )
        folds.append((y_train.flatten().long().tolist(), y_valid.flatten().long().tolist()))
    return folds


@prop(_folds())
def _folds_cover_every_sample(fn, case):
    n, k = case
    folds = _split(fn, n, k)
    valids = [valid for _, valid in folds]
    used = sorted(j for valid in valids for j in valid)
    if valids == _layouts(n, k)[1] and used != list(range(n)):
        note(_BOOK_DROPS)
    elif used != list(range(n)):
        missing = sorted(set(range(n)) - set(used))
        fail(
            f"the k={k} validation folds of {n} samples do not use every sample exactly once",
            expected=f"samples 0..{n - 1}, each in exactly one validation fold",
            found=f"missing {missing}" if missing else f"repeated: {used}",
            cause="fold i must be a different slice for each i (does i pick the slice?)",
            book="§4.10",
        )
    for i, (train, _) in enumerate(folds):
        others = sorted(j for v in valids[:i] + valids[i + 1 :] for j in v)
        if sorted(train) != others:
            fail(
                f"the training part of fold i={i} (k={k}, n={n}) is not the other folds",
                expected=f"the {len(others)} samples of the other folds",
                found=f"{len(train)} samples: {sorted(train)[:12]}",
                cause="X_train must concatenate every fold j != i, and only those",
                book="§4.10",
            )


@prop(st.integers(2, 30), st.integers(2, 30))
def _folds_balanced(fn, n, k):
    k = min(k, n)
    valids = [valid for _, valid in _split(fn, n, k)]
    sizes = [len(valid) for valid in valids]
    if sum(sizes) == n and max(sizes) - min(sizes) <= 1:
        return
    _, book, leftover = _layouts(n, k)
    if valids in (book, leftover):
        note(_BOOK_DROPS if valids == book else _LEFTOVER)
        return
    fail(
        f"the k={k} validation folds of {n} samples have sizes {sizes}",
        expected=f"sizes adding up to {n}, differing by at most one",
        found=sizes,
        book="§4.10",
    )


@prop(st.integers(2, 5), st.integers(1, 5), st.integers(0, 4))
def _folds_match_book(fn, k, per_fold, i):
    n, i = k * per_fold, i % k
    ids = torch.arange(n, dtype=torch.float32)
    X, y = torch.stack([ids, 2 * ids], dim=1), ids.reshape(-1, 1)
    assert_close(
        tuple(_fold(fn, n, k, i)),
        house_prices.get_k_fold_data(k, i, X, y),
        f"get_k_fold_data({k}, {i}, X, y) for {n} samples (k divides n)",
    )


EXERCISES = [
    Exercise(
        "get_k_fold_data",
        ("get_k_fold_data",),
        "function",
        (
            ("uses every sample exactly once, rows kept together", _folds_cover_every_sample),
            ("fold sizes differ by at most one", _folds_balanced),
            ("equals the book's folds when k divides n", _folds_match_book),
        ),
        "§4.10",
    ),
]
