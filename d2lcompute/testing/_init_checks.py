"""Exercise checks for ``init_weights``-style initialisers used as ``net.apply(f)`` (§4.3, §5.2.2).

Random initialisers cannot match the reference value for value, so the check compares
*distributions*: a two-sample Kolmogorov-Smirnov distance between the student's weights and
the reference's on a 256 x 256 layer. It also checks which tensors are touched (the book's
functions change only ``nn.Linear`` weights, some also the biases) and that the parameters
stay the same trainable tensors of the same shapes and dtypes, and that a random initialiser
draws new values at every call.
"""

import math

import torch
from hypothesis import strategies as st
from torch import nn

from d2lcompute import multilayer_perceptrons, parameters
from d2lcompute._seeding import seeded
from d2lcompute.testing._properties import Exercise, prop, sizes
from d2lcompute.testing.failures import call, fail, note


def _ks_distance(a, b):
    """The largest gap between the empirical distribution functions of ``a`` and ``b``."""
    a, b = a.flatten().sort().values, b.flatten().sort().values
    points = torch.cat([a, b])
    cdf_a = torch.searchsorted(a, points, right=True) / len(a)
    cdf_b = torch.searchsorted(b, points, right=True) / len(b)
    return (cdf_a - cdf_b).abs().max().item()


def _ks_limit(n, m):
    # The distance two samples of one distribution exceed with probability about 1e-6.
    return 2.7 * math.sqrt((n + m) / (n * m))


def _stats(t):
    return (
        f"mean {t.mean().item():.4g}, std {t.std().item():.4g}, "
        f"range [{t.min().item():.4g}, {t.max().item():.4g}]"
    )


def _test_net():
    return nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.LayerNorm(256))


def _initialised(init_fn, what):
    with seeded(1):
        net = _test_net()
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    with seeded(2):
        call(f"net.apply({what})", net.apply, init_fn)
    return before, dict(net.named_parameters())


def _distribution_check(reference):
    def check(fn):
        before, ref = _initialised(reference, reference.__name__)
        _, found = _initialised(fn, "your function")
        for name, expected in ref.items():
            kind = "LayerNorm" if name.startswith("2.") else "nn.Linear"
            if torch.equal(expected, before[name]):
                if not torch.equal(found[name], before[name]):
                    fail(
                        f"net.apply(your function) changes {name} ({kind}), which "
                        f"{reference.__name__} leaves alone",
                        cause="act only on nn.Linear layers (isinstance(m, nn.Linear)), and "
                        "only on the tensors the book's function sets",
                        book="§5.2.2",
                    )
                continue
            distance = _ks_distance(found[name].detach(), expected.detach())
            if distance > _ks_limit(expected.numel(), expected.numel()):
                fail(
                    f"the values of {name} ({kind} {list(expected.shape)}) do not look like "
                    f"{reference.__name__}'s",
                    expected=_stats(expected.detach()),
                    found=_stats(found[name].detach()),
                    cause="the wrong distribution, mean, std or constant, or the tensor "
                    "left unchanged",
                    book="§5.2.2",
                )

    return check


@prop(sizes, sizes, st.booleans())
def _any_linear(fn, n_in, n_out, bias):
    net = nn.Sequential(nn.Linear(n_in, n_out, bias=bias), nn.ReLU())
    what = f"net.apply(your function) on nn.Linear({n_in}, {n_out}, bias={bias})"
    if bias:
        call(what, net.apply, fn)
        return
    try:
        net.apply(fn)
    except Exception as e:  # noqa: BLE001 - the book's own functions do this
        note(
            f"{what} raises {type(e).__name__}: m.bias is None there, a layer the book "
            "never builds (the book's own function does the same); guard with "
            "`if m.bias is not None`"
        )


def _shapes_kept(fn):
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    before = {name: (tuple(p.shape), p.dtype) for name, p in net.named_parameters()}
    call("net.apply(your function)", net.apply, fn)
    for name, param in net.named_parameters():
        found = (tuple(param.shape), param.dtype)
        if found != before[name]:
            fail(
                f"{name} changes shape or dtype under net.apply(your function)",
                expected=f"shape {before[name][0]}, {before[name][1]}",
                found=f"shape {found[0]}, {found[1]}",
                cause="a new tensor assigned to m.weight.data (torch.tensor(42.0) is 0-d); "
                "fill it in place: nn.init.constant_(m.weight, 42)",
                book="§5.2.2",
            )


def _fresh_each_call(fn):
    first, second = _test_net(), _test_net()
    second.load_state_dict(first.state_dict())
    call("net.apply(your function)", first.apply, fn)
    call("net.apply(your function) on a second net", second.apply, fn)
    if torch.equal(first[0].weight, second[0].weight):
        fail(
            "two nets initialised one after the other get the same weights",
            expected="new random draws at every call",
            found="identical 0.weight",
            cause="the function reseeds the generator (torch.manual_seed inside it); "
            "seed once, outside",
            book="§5.2.2",
        )


def _in_place(fn):
    net = nn.Sequential(nn.Linear(4, 3))
    before = dict(net.named_parameters())
    call("net.apply(your function)", net.apply, fn)
    for name, param in net.named_parameters():
        if param is not before[name]:
            fail(
                f"{name} is a new tensor after net.apply(your function)",
                expected="the same nn.Parameter, changed in place",
                found="a replacement: an optimizer built earlier keeps training the old one",
                cause="assignment to m.weight; use nn.init.normal_(m.weight, ...) or "
                "change it under torch.no_grad()",
                book="§5.2.2",
            )
        if not (param.is_leaf and param.requires_grad):
            fail(
                f"{name} is no longer a trainable leaf tensor",
                cause="the change was recorded by autograd or switched off requires_grad",
            )


def _initialiser(reference, book, *, random=True):
    checks = (
        (f"draws values like {reference.__name__}", _distribution_check(reference)),
        ("works on any nn.Linear, with or without bias", _any_linear),
        ("changes the parameters in place", _in_place),
        ("keeps every parameter's shape and dtype", _shapes_kept),
    )
    fresh = (("draws new values at every call", _fresh_each_call),) if random else ()
    return Exercise(reference.__name__, (reference.__name__,), "function", checks + fresh, book)


EXERCISES = [
    _initialiser(multilayer_perceptrons.init_weights, "§4.3"),
    _initialiser(parameters.init_normal, "§5.2.2"),
    _initialiser(parameters.init_constant, "§5.2.2", random=False),
    _initialiser(parameters.xavier, "§5.2.2"),
    _initialiser(parameters.init_42, "§5.2.2", random=False),
    _initialiser(parameters.my_init, "§5.2.2"),
]
