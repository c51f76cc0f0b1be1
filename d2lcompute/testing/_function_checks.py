"""Exercise checks for the functions a student writes: ``dropout_layer`` and ``l2_penalty``
(§4.5-4.6).

The references are the package's own: :mod:`d2lcompute.dropout` and
:mod:`d2lcompute.weight_decay`. ``get_k_fold_data`` is checked in ``_fold_checks``,
``save``/``load`` in ``_save_load_checks``.
"""

import math

import torch
from hypothesis import strategies as st

from d2lcompute import weight_decay
from d2lcompute.testing._properties import Exercise, assert_close, grad_of, prop, tensors
from d2lcompute.testing.failures import call, fail

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
]
