"""Exercise checks for the blocks and layers a student writes (Book: §5.1, §5.2, §5.4).

Each check builds the student's class and the package's own (:mod:`d2lcompute.blocks`,
:mod:`d2lcompute.layers`) on the same seeded inputs and compares outputs, parameters and
gradients; edge cases (an empty container, one-unit layers) come from Hypothesis. The
student's parameters are found by their role (shape and use), not their names: other key
names or a transposed weight are notes, not failures.
"""

import itertools

import torch
from hypothesis import strategies as st
from torch import nn

from d2lcompute import blocks, layers
from d2lcompute.parameters import count_parameters
from d2lcompute.testing._properties import Exercise, assert_close, grad_of, prop, sizes, tensors
from d2lcompute.testing.assertions import (
    assert_gradients_flow,
    assert_param_count,
    assert_registered,
)
from d2lcompute.testing.failures import call, fail, note


def _mlp_blocks(widths):
    """Linear layers of the given widths with a ReLU between two of them."""
    stack = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
        stack += [nn.ReLU()] if i else []
        stack.append(nn.Linear(n_in, n_out))
    return stack


# ---- MySequential (§5.1.2) ------------------------------------------------------------


@prop(st.lists(sizes, min_size=1, max_size=4), sizes)
def _sequential_runs_in_order(cls, widths, batch):
    stack = _mlp_blocks(widths)
    net = call(f"MySequential(*{len(stack)} blocks)", cls, *stack)
    X = torch.randn(batch, widths[0])
    Y = call(f"net(X) for X of shape {tuple(X.shape)}", net, X)
    assert_close(
        Y,
        blocks.MySequential(*stack)(X),
        f"MySequential({', '.join(map(repr, stack))})(X)",
    )


def _sequential_registers(cls):
    stack = _mlp_blocks([3, 4, 2])
    net = call("MySequential(Linear(3, 4), ReLU(), Linear(4, 2))", cls, *stack)
    assert_registered(net)
    assert_param_count(net, count_parameters(blocks.MySequential(*stack)))


def _sequential_state_dict_keys(cls):
    stack = _mlp_blocks([3, 4, 2])
    net = call("MySequential(Linear(3, 4), ReLU(), Linear(4, 2))", cls, *stack)
    found = list(call("net.state_dict()", net.state_dict))
    expected = list(nn.Sequential(*stack).state_dict())
    if found != expected:
        note(
            f"state_dict keys {found[:2]}... differ from nn.Sequential's {expected[:2]}...: "
            "a checkpoint of one does not load into the other (outputs and gradients do not "
            "depend on it); the book stores block i under the string key str(i): "
            "self._modules[str(idx)] = block (§5.1.2)"
        )


def _sequential_gradients(cls):
    net = call("MySequential(Linear(3, 4), ReLU(), Linear(4, 2))", cls, *_mlp_blocks([3, 4, 2]))
    assert_gradients_flow(net, torch.rand(5, 3))


# ---- Parallel (§5.1, exercise 2) -------------------------------------------------------


@prop(sizes, sizes, sizes, sizes)
def _parallel_concatenates(cls, n_in, q1, q2, batch):
    net1, net2 = nn.Linear(n_in, q1), nn.Linear(n_in, q2)
    net = call(f"Parallel(Linear({n_in}, {q1}), Linear({n_in}, {q2}))", cls, net1, net2)
    X = torch.randn(batch, n_in)
    Y = call(f"net(X) for X of shape {tuple(X.shape)}", net, X)
    assert_close(
        Y,
        blocks.Parallel(net1, net2)(X),
        f"Parallel(Linear({n_in}, {q1}), Linear({n_in}, {q2}))(X), of shape "
        f"(N, q1 + q2) = ({batch}, {q1 + q2}),",
    )


def _parallel_registers(cls):
    net1, net2 = nn.Linear(4, 3), nn.Linear(4, 5)
    net = call("Parallel(Linear(4, 3), Linear(4, 5))", cls, net1, net2)
    assert_registered(net)
    assert_param_count(net, count_parameters(blocks.Parallel(net1, net2)))


def _parallel_gradients(cls):
    net = call("Parallel(Linear(4, 3), Linear(4, 5))", cls, nn.Linear(4, 3), nn.Linear(4, 5))
    assert_gradients_flow(net, torch.rand(2, 4))


# ---- CenteredLayer (§5.4.1) ------------------------------------------------------------


@prop(tensors())
def _centered_values(cls, X):
    layer = call("CenteredLayer()", cls)
    Y = call(f"layer(X) for X of shape {tuple(X.shape)}", layer, X)
    assert_close(
        Y,
        layers.CenteredLayer()(X),
        f"CenteredLayer()(X) for X = {X.tolist()}",
        rtol=1e-4,
        atol=1e-4,
    )


def _centered_no_parameters(cls):
    assert_param_count(call("CenteredLayer()", cls), 0)


@prop(tensors())
def _centered_gradient(cls, X):
    X.requires_grad_(True)
    upstream = torch.randn(X.shape)
    output = call(f"layer(X) for X of shape {tuple(X.shape)}", call("CenteredLayer()", cls), X)
    expected = grad_of(layers.CenteredLayer()(X), X, upstream)
    assert_close(
        grad_of(output, X, upstream),
        expected,
        f"the gradient with respect to X (shape {tuple(X.shape)})",
        rtol=1e-4,
        atol=1e-4,
    )


# ---- MyLinear (§5.4.2) -----------------------------------------------------------------


def _roles(layer, in_units, units):
    """The student's ``(weight, bias)`` parameters, found by shape, or a failure."""
    params = dict(layer.named_parameters())
    matrices = [n for n, p in params.items() if p.dim() == 2 and p.numel() == in_units * units]
    vectors = [n for n, p in params.items() if p.dim() == 1 and p.numel() == units]
    if len(params) != 2 or len(matrices) != 1 or len(vectors) != 1:
        fail(
            f"MyLinear({in_units}, {units}) has the wrong parameters",
            expected=f"a weight ({in_units}, {units}) and a bias ({units},), any names",
            found={name: tuple(p.shape) for name, p in params.items()},
            cause="weight = nn.Parameter(torch.randn(in_units, units)) and bias "
            "= nn.Parameter(torch.randn(units,)); a plain tensor is no parameter",
            book="§5.4.2",
        )
    return params[matrices[0]], params[vectors[0]], (matrices[0], vectors[0])


@prop(sizes, sizes)
def _linear_parameters(cls, in_units, units):
    layer = call(f"MyLinear({in_units}, {units})", cls, in_units, units)
    weight, _, names = _roles(layer, in_units, units)
    if names != ("weight", "bias"):
        note(
            f"the parameters are named {' and '.join(names)}, not weight and bias: the "
            "book's state_dict keys do not load into them by name (the checks matched "
            "them by shape)"
        )
    if weight.shape != (in_units, units):
        note(
            f"the weight is stored (units, in_units) = {tuple(weight.shape)}, like "
            f"nn.Linear's, where the book stores (in_units, units) (§5.4.2)"
        )


def _linear_with_weights(cls, in_units, units, reference):
    """The student's MyLinear holding ``reference``'s values, however it names or lays out
    its weight: a square weight is loaded the way that makes it compute like the reference."""
    layer = call(f"MyLinear({in_units}, {units})", cls, in_units, units)
    weight, bias, _ = _roles(layer, in_units, units)
    W = reference.weight.detach()
    layouts = [W] if weight.shape == W.shape else []
    layouts += [W.T] if weight.shape == W.T.shape else []
    X = torch.randn(3, in_units)
    for value in layouts:
        with torch.no_grad():
            weight.copy_(value)
            bias.copy_(reference.bias.detach())
            Y, expected = call("layer(X)", layer, X), reference(X)
        if isinstance(Y, torch.Tensor) and Y.shape == expected.shape:
            if torch.allclose(Y, expected, rtol=1e-4, atol=1e-5):
                break
    return layer


@prop(sizes, sizes, sizes)
def _linear_values(cls, in_units, units, batch):
    reference = layers.MyLinear(in_units, units)
    layer = _linear_with_weights(cls, in_units, units, reference)
    X = torch.randn(batch, in_units)
    Y = call(f"layer(X) for X of shape {tuple(X.shape)}", layer, X)
    assert_close(Y, reference(X), f"relu(X @ weight + bias) for X of shape {tuple(X.shape)}")


def _linear_gradients(cls):
    # Positive weights, bias and inputs: no ReLU is dead, so every gradient is non-zero.
    reference = layers.MyLinear(3, 4)
    with torch.no_grad():
        for p in reference.parameters():
            p.abs_().add_(0.1)
    assert_gradients_flow(_linear_with_weights(cls, 3, 4, reference), torch.rand(5, 3))


def _linear_registers(cls):
    assert_registered(call("MyLinear(3, 4)", cls, 3, 4))


EXERCISES = [
    Exercise(
        "MySequential",
        ("MySequential",),
        "class",
        (
            ("runs its blocks in order, like nn.Sequential", _sequential_runs_in_order),
            ("registers its blocks", _sequential_registers),
            ("state_dict keys like nn.Sequential's (a note)", _sequential_state_dict_keys),
            ("gradients reach every block", _sequential_gradients),
        ),
        "§5.1.2",
    ),
    Exercise(
        "Parallel",
        ("Parallel",),
        "class",
        (
            ("concatenates net1(X) and net2(X) along dim 1", _parallel_concatenates),
            ("registers both nets", _parallel_registers),
            ("gradients reach both nets", _parallel_gradients),
        ),
        "§5.1, exercise 2",
    ),
    Exercise(
        "CenteredLayer",
        ("CenteredLayer",),
        "class",
        (
            ("returns X - X.mean()", _centered_values),
            ("has no parameters", _centered_no_parameters),
            ("passes the right gradient to X", _centered_gradient),
        ),
        "§5.4.1",
    ),
    Exercise(
        "MyLinear",
        ("MyLinear",),
        "class",
        (
            ("has a weight (in_units, units) and a bias (units,)", _linear_parameters),
            ("computes relu(X @ weight + bias)", _linear_values),
            ("gradients reach weight and bias", _linear_gradients),
            ("registers its parameters", _linear_registers),
        ),
        "§5.4.2",
    ),
]
