"""Exercise checks for the functions a student writes: ``dropout_layer`` and ``l2_penalty``
(§4.5-4.6), ``get_k_fold_data`` (§4.10) and ``save``/``load`` (§5.5).

The references are the package's own: :mod:`d2lcompute.dropout`, :mod:`d2lcompute.weight_decay`,
:mod:`d2lcompute.house_prices` and :mod:`d2lcompute.io`.
"""

import math
import tempfile
from pathlib import Path

import torch
from hypothesis import strategies as st

from d2lcompute import house_prices, weight_decay
from d2lcompute.blocks import MLP
from d2lcompute.testing._properties import Exercise, assert_close, grad_of, prop, tensors
from d2lcompute.testing.failures import call, describe, fail, note

probabilities = st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9])

# ---- dropout_layer (§4.6.2) ------------------------------------------------------------


def _dropout_edges(fn):
    X = torch.randn(4, 5)
    assert_close(call("dropout_layer(X, 0.0)", fn, X, 0.0), X, "dropout_layer(X, 0.0)")
    Y = call("dropout_layer(X, 1.0)", fn, X, 1.0)
    if isinstance(Y, torch.Tensor) and Y.isnan().any():
        fail(
            "dropout_layer(X, 1.0) returns NaN",
            expected="all zeros",
            found="NaN values",
            cause="mask * X / (1 - dropout) divides 0 by 0; return torch.zeros_like(X) "
            "when dropout == 1",
            book="§4.6.2",
        )
    assert_close(Y, torch.zeros_like(X), "dropout_layer(X, 1.0)")


@prop(tensors(), probabilities)
def _dropout_elements(fn, X, p):
    Y = call(f"dropout_layer(X, {p}) for X of shape {tuple(X.shape)}", fn, X, p)
    if not isinstance(Y, torch.Tensor) or Y.shape != X.shape:
        fail(
            f"dropout_layer(X, {p}) changes the shape",
            expected=tuple(X.shape),
            found=tuple(Y.shape) if isinstance(Y, torch.Tensor) else type(Y).__name__,
        )
    kept = X / (1 - p)
    wrong = ~((Y == 0) | torch.isclose(Y, kept, rtol=1e-4, atol=1e-5))
    if wrong.any():
        i = tuple(wrong.nonzero()[0].tolist())
        fail(
            f"dropout_layer(X, {p}) gives {Y[i].item():.6g} at index {i} where "
            f"X = {X[i].item():.6g}",
            expected=f"0 or X / (1 - p) = {kept[i].item():.6g}",
            cause="each element is either dropped (0) or kept and scaled by 1 / (1 - p)",
            book="§4.6.2",
        )


def _dropout_statistics(fn):
    n = 100_000
    for p in (0.2, 0.5, 0.8):
        Y = call(f"dropout_layer(torch.ones({n}), {p})", fn, torch.ones(n), p)
        dropped, mean = (Y == 0).float().mean().item(), Y.float().mean().item()
        if abs(dropped - p) > 5 * math.sqrt(p * (1 - p) / n):
            fail(
                f"dropout_layer(X, {p}) drops a fraction {dropped:.3f} of the elements",
                expected=f"about {p}",
                found=f"{dropped:.3f}",
                cause="keep an element when torch.rand(X.shape) > dropout (probability "
                "1 - dropout)",
                book="§4.6.2",
            )
        if abs(mean - 1) > 5 * math.sqrt(p / (1 - p) / n):
            fail(
                f"the mean of dropout_layer(torch.ones({n}), {p}) is {mean:.3f}",
                expected="about 1: dropout keeps the expectation, E[h'] = h",
                found=f"{mean:.3f}",
                cause="divide the kept elements by (1 - dropout)",
                book="§4.6.2",
            )


def _dropout_gradient(fn):
    X = torch.randn(3, 4).abs().add(0.1).requires_grad_(True)
    before = X.detach().clone()
    Y = call("dropout_layer(X, 0.5)", fn, X, 0.5)
    if not torch.equal(X.detach(), before):
        fail(
            "dropout_layer(X, 0.5) changes X in place",
            expected="X left as it was",
            cause="build a new tensor (mask * X / (1 - dropout)) instead of writing into X",
        )
    expected = (Y != 0).float() * 2.0  # d(mask * X / 0.5) / dX
    assert_close(
        grad_of(Y, X, torch.ones(X.shape)),
        expected,
        "the gradient of the sum of dropout_layer(X, 0.5) with respect to X",
    )


def _dropout_masks_independent(fn):
    """Masks independent across rows, columns and calls: the shared-mask and reseeding bugs."""
    X = torch.ones(64, 100)
    first = call("dropout_layer(X, 0.5) for X of shape (64, 100)", fn, X, 0.5)
    second = call("dropout_layer(X, 0.5) called again", fn, X, 0.5)
    if not all(isinstance(Y, torch.Tensor) and Y.shape == X.shape for Y in (first, second)):
        fail("dropout_layer(X, 0.5) does not return a tensor of X's shape (64, 100)")
    dropped = first == 0
    if (dropped == dropped[:1]).all():
        fail(
            "every row of the batch gets the same mask",
            expected="each element dropped independently, so rows differ",
            found=f"all 64 rows equal to row 0: {dropped[0, :8].int().tolist()}...",
            cause="the mask has shape X.shape[-1] (one row) and is broadcast over the "
            "batch; draw it with torch.rand(X.shape)",
            book="§4.6.2",
        )
    if (dropped == dropped[:, :1]).all():
        fail(
            "every column gets the same mask: whole examples are dropped",
            expected="each element dropped independently, so columns differ",
            cause="the mask has shape (N, 1); draw it with torch.rand(X.shape)",
            book="§4.6.2",
        )
    if torch.equal(dropped, second == 0):
        fail(
            "two calls drop exactly the same elements",
            expected="a fresh random mask at every call",
            found="the same mask twice",
            cause="the function reseeds the generator (torch.manual_seed inside it) or "
            "reuses a mask drawn once; draw torch.rand(X.shape) at every call and seed "
            "once, outside",
            book="§4.6.2",
        )


# ---- l2_penalty (§4.5.2) ---------------------------------------------------------------


def _l2_hint(fn):
    """The likely mistake, read off the student's value at w = [3, 4] (the answer is 12.5)."""
    try:
        value = float(fn(torch.tensor([3.0, 4.0])))
    except Exception:  # noqa: BLE001 - no hint then; the check itself reports the error
        return None
    return {
        25.0: "the / 2 is missing: sum(w ** 2) / 2",
        5.0: "that is the norm ||w||; the penalty is half its square, sum(w ** 2) / 2",
    }.get(round(value, 4))


@prop(tensors(max_dims=2))
def _l2_values(fn, w):
    what = f"l2_penalty(w) for w = {w.tolist()}"
    found = call(what, fn, w)
    assert_close(found, weight_decay.l2_penalty(w), what, rtol=1e-4, atol=1e-4, cause=_l2_hint(fn))


@prop(tensors(max_dims=2))
def _l2_gradient(fn, w):
    w.requires_grad_(True)
    penalty = call(f"l2_penalty(w) for w of shape {tuple(w.shape)}", fn, w)
    assert_close(
        grad_of(penalty, w, None),
        w.detach(),
        "the gradient of l2_penalty(w) (it is w itself)",
        rtol=1e-4,
        atol=1e-4,
    )


# ---- get_k_fold_data (§4.10) -----------------------------------------------------------


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


# ---- save / load (§5.5) ----------------------------------------------------------------

_saveable = st.one_of(
    tensors(),
    tensors().map(lambda t: (t * 10).long()),
    st.lists(tensors(), max_size=3),
    st.dictionaries(st.sampled_from(["x", "y", "weight"]), tensors(), max_size=3),
)


def _round_trip(pair, obj):
    save, load = pair
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "x-file")
        call("save(obj, path)", save, obj, path)
        return call("load(path)", load, path)


@prop(_saveable)
def _round_trip_values(pair, obj):
    assert_close(
        _round_trip(pair, obj),
        obj,
        f"load(path) after save({type(obj).__name__}, path)",
        rtol=0,
        atol=0,
    )


def _round_trip_model(pair):
    net, clone = MLP(), MLP()
    state = _round_trip(pair, net.state_dict())
    call("clone.load_state_dict(load(path))", clone.load_state_dict, state)
    X = torch.rand(2, 20)
    assert_close(clone(X), net(X), "the output of a net reloaded from its saved state_dict")


def _overwrite(pair):
    save, load = pair
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "x-file")
        call("save(first, path)", save, torch.zeros(3), path)
        call("save(second, path)", save, torch.ones(3), path)
        assert_close(
            call("load(path)", load, path),
            torch.ones(3),
            "load(path) after saving twice to one path",
        )


def _two_paths(pair):
    save, load = pair
    with tempfile.TemporaryDirectory() as folder:
        first, second = str(Path(folder) / "first.params"), str(Path(folder) / "second.params")
        call("save(torch.zeros(3), first)", save, torch.zeros(3), first)
        call("save(torch.ones(3), second)", save, torch.ones(3), second)
        ignored = "save and load ignore their path argument (a fixed name such as 'x-file'?)"
        if not Path(first).exists():
            fail(
                "save(obj, path) wrote no file at path",
                expected=f"a file at {Path(first).name}",
                cause=ignored,
                book="§5.5",
            )
        for path, value in ((first, torch.zeros(3)), (second, torch.ones(3))):
            found = call(f"load({Path(path).name})", load, path)
            if not (isinstance(found, torch.Tensor) and torch.equal(found, value)):
                fail(
                    f"load({Path(path).name}) does not give what was saved to that path",
                    expected=describe(value),
                    found=describe(found),
                    cause=ignored,
                    book="§5.5",
                )


EXERCISES = [
    Exercise(
        "dropout_layer",
        ("dropout_layer",),
        "function",
        (
            ("p = 0 keeps X, p = 1 gives zeros", _dropout_edges),
            ("each element is 0 or X / (1 - p)", _dropout_elements),
            ("drops a fraction p and keeps the mean", _dropout_statistics),
            ("leaves X alone and passes gradients", _dropout_gradient),
            ("masks independent across rows and calls", _dropout_masks_independent),
        ),
        "§4.6.2",
    ),
    Exercise(
        "l2_penalty",
        ("l2_penalty",),
        "function",
        (
            ("equals sum(w ** 2) / 2", _l2_values),
            ("has gradient w", _l2_gradient),
        ),
        "§4.5.2",
    ),
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
    Exercise(
        "save_load",
        ("save", "load"),
        "pair",
        (
            ("round trip keeps tensors, lists and dicts", _round_trip_values),
            ("a reloaded state_dict gives the same net", _round_trip_model),
            ("saving again replaces the file", _overwrite),
            ("each path keeps its own object", _two_paths),
        ),
        "§5.5",
    ),
]
