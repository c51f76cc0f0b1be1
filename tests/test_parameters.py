"""Tests for d2lcompute.parameters (Book §5.2): access, initialisation, tying."""

import copy
import math
import re

import pytest
import torch
from torch import nn

from d2lcompute.blocks import MLP, chimera, repeat_block
from d2lcompute.parameters import (
    INIT_METHODS,
    count_parameters,
    init_42,
    init_constant,
    init_layers,
    init_normal,
    my_init,
    parameter_table,
    shared_net,
    xavier,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def book_net():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))


def deep_net(depth):
    net = nn.Linear(3, 3)
    for _ in range(depth):
        net = nn.Sequential(net)
    return net


def count_column_total(text):
    """Sum the count column of a printed table: the invariant behind the golden strings."""
    lines = text.splitlines()
    start = lines[0].index("shape")
    end = lines[0].index("count") + len("count")
    rows = [line for line in lines[2:] if not line.startswith(("Total", "("))]
    return sum(int(line[start:end].split()[-1].replace(",", "")) for line in rows)


def printed_total(text):
    return int(re.search(r"Total params: ([\d,]+)", text).group(1).replace(",", ""))


# ----------------------------------------------------------------- parameter_table

BOOK_NET_TABLE = """\
name      shape   count  dtype    device  requires_grad  tied with
--------  ------  -----  -------  ------  -------------  ---------
0.weight  [8, 4]     32  float32  cpu     True
0.bias    [8]         8  float32  cpu     True
2.weight  [1, 8]      8  float32  cpu     True
2.bias    [1]         1  float32  cpu     True
Total params: 49 (trainable: 49, non-trainable: 0)"""

SHARED_NET_TABLE = """\
name      shape   count  dtype    device  requires_grad  tied with
--------  ------  -----  -------  ------  -------------  ---------
0.weight  [8, 4]     32  float32  cpu     True
0.bias    [8]         8  float32  cpu     True
2.weight  [8, 8]     64  float32  cpu     True           4.weight
2.bias    [8]         8  float32  cpu     True           4.bias
6.weight  [1, 8]      8  float32  cpu     True
6.bias    [1]         1  float32  cpu     True
Total params: 121 (trainable: 121, non-trainable: 0)"""


@pytest.mark.parametrize(
    "make, golden", [(book_net, BOOK_NET_TABLE), (shared_net, SHARED_NET_TABLE)]
)
def test_parameter_table_golden(make, golden):
    net = make()
    text = str(parameter_table(net))
    assert text == golden
    # The golden text cannot lock in a wrong table: its counts must add up to torch's total.
    oracle = sum(p.numel() for p in net.parameters())
    assert count_column_total(text) == printed_total(text) == oracle


def test_parameter_table_rows_follow_named_parameters():
    net = shared_net()
    table = parameter_table(net)
    assert [row.name for row in table.rows] == [name for name, _ in net.named_parameters()]
    all_names = [name for name, _ in net.named_parameters(remove_duplicate=False)]
    assert sorted(n for row in table.rows for n in (row.name, *row.tied)) == sorted(all_names)
    row = table.rows[2]
    assert (row.name, row.shape, row.count, row.tied) == ("2.weight", (8, 8), 64, ("4.weight",))
    assert repr(table) == str(table)


def test_parameter_table_columns_frozen_and_other_dtype():
    net = MLP().double()
    net.hidden.requires_grad_(False)
    table = parameter_table(net)
    assert {row.dtype for row in table.rows} == {"float64"}
    assert [row.requires_grad for row in table.rows] == [False, False, True, True]
    assert table.trainable == 2570 and table.total == 7946
    text = str(table)
    assert "5,120" in text  # thousands separators
    assert text.endswith("Total params: 7,946 (trainable: 2,570, non-trainable: 5,376)")
    assert count_column_total(text) == 7946


def test_parameter_table_empty_and_bad_input():
    text = str(parameter_table(nn.ReLU()))
    assert "(no parameters)" in text and text.endswith(
        "Total params: 0 (trainable: 0, non-trainable: 0)"
    )
    with pytest.raises(TypeError, match="model must be an nn.Module, got model='net'"):
        parameter_table("net")


# ---------------------------------------------------------------- count_parameters


@pytest.mark.parametrize(
    "make",
    [
        book_net,
        shared_net,
        MLP,
        chimera,
        lambda: repeat_block(lambda: nn.Linear(8, 8), 3, shared=True),
    ],
)
def test_count_parameters_matches_torch(make):
    net = make()
    assert count_parameters(net) == sum(p.numel() for p in net.parameters())


def test_tied_tensor_counted_once():
    layer = nn.Linear(8, 8)
    assert count_parameters(nn.Sequential(layer, nn.ReLU(), layer)) == 72  # not 144
    assert count_parameters(shared_net()) == 121
    untied = shared_net()
    untied[4] = copy.deepcopy(untied[2])
    assert count_parameters(untied) == 121 + 72


def test_count_parameters_trainable_only():
    net = MLP()
    net.hidden.weight.requires_grad_(False)
    assert count_parameters(net, trainable_only=True) == 7946 - 5120
    assert count_parameters(net) == 7946


def test_count_parameters_bad_input_and_lazy():
    with pytest.raises(
        TypeError, match="trainable_only must be True or False, got trainable_only=1"
    ):
        count_parameters(MLP(), trainable_only=1)
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        count_parameters([nn.Linear(2, 2)])
    lazy = nn.Sequential(nn.LazyLinear(3))
    with pytest.raises(ValueError, match="parameter '0.weight' is not initialised yet.*forward"):
        count_parameters(lazy)
    lazy(torch.rand(2, 5))
    assert count_parameters(lazy) == 5 * 3 + 3


def test_count_parameters_on_a_very_deep_net():
    assert count_parameters(deep_net(5000)) == 12


# ------------------------------------------------------------ book init functions


def test_init_normal():
    net = nn.Sequential(nn.Linear(500, 400), nn.ReLU(), nn.Linear(400, 10, bias=False))
    net.apply(init_normal)
    w = net[0].weight
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.01) < 5e-4
    assert torch.count_nonzero(net[0].bias) == 0


def test_init_constant():
    net = book_net().apply(init_constant)
    for layer in (net[0], net[2]):
        assert torch.all(layer.weight == 1) and torch.all(layer.bias == 0)


def test_xavier_and_init_42_on_single_blocks():
    net = book_net()
    bias0, rest = net[0].bias.detach().clone(), copy.deepcopy(net[2])
    net[0].apply(xavier)
    bound = math.sqrt(6 / (4 + 8))
    assert net[0].weight.abs().max() <= bound
    assert torch.equal(net[0].bias, bias0)  # biases untouched
    assert torch.equal(net[2].weight, rest.weight)  # other block untouched
    net[2].apply(init_42)
    assert torch.all(net[2].weight == 42) and torch.equal(net[2].bias, rest.bias)


def test_my_init_distribution_and_autograd():
    layer = nn.Linear(400, 500)
    my_init(layer)
    w = layer.weight
    zero = w == 0
    assert torch.all(zero | ((w.abs() >= 5) & (w.abs() <= 10)))
    assert abs(zero.float().mean().item() - 0.5) < 0.01
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    layer(torch.rand(2, 400)).sum().backward()
    assert w.grad is not None


def test_init_functions_ignore_other_modules():
    relu = nn.ReLU()
    for init in (init_normal, init_constant, xavier, init_42, my_init):
        init(relu)  # no error: apply() visits every module


# --------------------------------------------------------------------- init_layers


def test_init_layers_matches_nn_init_in_order():
    net, ref = chimera(), chimera()
    ref.load_state_dict(net.state_dict())
    torch.manual_seed(1)
    init_layers(net, "normal_", std=0.01)
    torch.manual_seed(1)
    for m in ref.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
    for (name, a), (_, b) in zip(net.state_dict().items(), ref.state_dict().items()):
        assert torch.equal(a, b), name


def test_init_layers_selects_layer_types_and_returns_net():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2))
    linear_w = net[2].weight.detach().clone()
    assert init_layers(net, "constant_", layer_types=nn.Conv2d, val=3.0) is net
    assert torch.all(net[0].weight == 3) and torch.all(net[0].bias == 0)
    assert torch.equal(net[2].weight, linear_w)
    init_layers(net, "ones_", layer_types=(nn.Conv2d, nn.Linear))
    assert torch.all(net[2].weight == 1)


def test_init_layers_on_a_very_deep_net():
    net = init_layers(deep_net(5000), "constant_", val=3.0)
    inner = net
    while isinstance(inner, nn.Sequential):
        inner = inner[0]
    assert torch.all(inner.weight == 3) and torch.all(inner.bias == 0)


def test_init_layers_unknown_method_lists_valid_names():
    with pytest.raises(
        ValueError,
        match=r"got method='normal' \(did you mean 'normal_'\?\); "
        r"valid names: constant_, dirac_, ",
    ):
        init_layers(book_net(), "normal")
    with pytest.raises(ValueError, match="got method='gauss'; valid names: .*xavier_uniform_"):
        init_layers(book_net(), "gauss")
    assert "kaiming_normal_" in INIT_METHODS and "calculate_gain" not in INIT_METHODS


@pytest.mark.parametrize("layer_types", ["Linear", 3, (nn.Linear, int), (), [nn.Linear]])
def test_init_layers_bad_layer_types(layer_types):
    with pytest.raises(
        TypeError, match="layer_types must be an nn.Module subclass or a non-empty tuple"
    ):
        init_layers(book_net(), "zeros_", layer_types=layer_types)


def test_init_layers_bad_kwargs_change_nothing():
    net = book_net()
    before = copy.deepcopy(net.state_dict())
    with pytest.raises(TypeError, match=r"nn.init.normal_ does not accept \{'sigma': 0.01\}"):
        init_layers(net, "normal_", sigma=0.01)
    with pytest.raises(TypeError, match="nn.init.constant_ does not accept {}.*val"):
        init_layers(net, "constant_")
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_init_layers_other_errors():
    with pytest.raises(TypeError, match=r"net must be an nn.Module, got net=\[.*\] \(list\)"):
        init_layers([nn.Linear(2, 2)], "zeros_")
    with pytest.raises(ValueError, match="net has no layer of type Conv2d with a weight"):
        init_layers(book_net(), "zeros_", layer_types=nn.Conv2d)
    with pytest.raises(ValueError, match="layer '0' is a lazy layer.*forward pass"):
        init_layers(nn.Sequential(nn.LazyLinear(3)), "zeros_")
    with pytest.raises(
        ValueError,
        match=r"nn.init.xavier_uniform_ failed on the weight of "
        r"layer '1' \(shape \(4,\)\): .*fewer than 2",
    ):
        init_layers(
            nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4)),
            "xavier_uniform_",
            layer_types=(nn.Linear, nn.LayerNorm),
        )


# -------------------------------------------------------------------------- tying


def test_shared_net_layers_are_one_object():
    net = shared_net()
    assert net(torch.rand(2, 4)).shape == (2, 1)
    assert net[2] is net[4] and net[2].weight is net[4].weight
    with torch.no_grad():
        net[2].weight[0, 0] = 100
    assert net[4].weight[0, 0] == 100  # changing one changes the other


def test_tied_gradients_add_up_seed_example():
    # Linear(1, 1, bias=False) used four times, weight 3, input 1: y = 3^4 = 81 and
    # dy/dw = 4 * 3^3 = 108: each use contributes 3^3 = 27 to the one shared .grad.
    linear = nn.Linear(1, 1, bias=False)
    nn.init.constant_(linear.weight, 3)
    net = nn.Sequential(linear, linear, linear, linear)
    y = net(torch.ones(1, 1)).sum()
    y.backward()
    assert y.item() == 81 and linear.weight.grad.item() == 108 == 4 * 3**3
    untied = nn.Sequential(*[copy.deepcopy(linear) for _ in range(4)])
    for layer in untied:
        layer.weight.grad = None
    untied(torch.ones(1, 1)).sum().backward()
    assert [layer.weight.grad.item() for layer in untied] == [27.0] * 4
    assert count_parameters(net) == 1 and count_parameters(untied) == 4


def test_shared_net_gradient_is_sum_over_an_untied_copy():
    net = shared_net()
    untied = nn.Sequential(
        net[0],
        nn.ReLU(),
        copy.deepcopy(net[2]),
        nn.ReLU(),
        copy.deepcopy(net[4]),
        nn.ReLU(),
        net[6],
    )
    X = torch.rand(5, 4)
    torch.testing.assert_close(net(X), untied(X))
    net(X).sum().backward()
    shared_grad = net[2].weight.grad.clone()
    net.zero_grad()
    untied(X).sum().backward()
    torch.testing.assert_close(shared_grad, untied[2].weight.grad + untied[4].weight.grad)


def test_one_parameter_registered_in_two_layers_is_tied():
    a, b = nn.Linear(5, 5), nn.Linear(5, 5)
    b.weight = a.weight  # tie two different layers through one Parameter
    net = nn.Sequential(a, b)
    table = parameter_table(net)
    assert [(row.name, row.tied) for row in table.rows] == [
        ("0.weight", ("1.weight",)),
        ("0.bias", ()),
        ("1.bias", ()),
    ]
    assert count_parameters(net) == table.total == 25 + 5 + 5
