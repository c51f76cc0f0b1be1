"""Tests for d2lcompute.registration: what nn.Module can see."""

import pytest
import torch
from torch import nn

from d2lcompute.blocks import MLP, FixedHiddenMLP, ListMLP, MySequential, chimera
from d2lcompute.diagnostics.registration import (
    UnregisteredReport,
    find_unregistered,
    module_internals,
)
from d2lcompute.parameters import shared_net


def deep_net(depth, inner=None):
    net = inner if inner is not None else nn.Linear(2, 2)
    for _ in range(depth):
        net = nn.Sequential(net)
    return net


# ---------------------------------------------------------------- find_unregistered


class Holder(nn.Module):
    """A module that stores whatever it is given as plain attributes (via __dict__ too)."""

    def __init__(self, **attrs):
        super().__init__()
        self.linear = nn.Linear(3, 3)
        for name, value in attrs.items():
            setattr(self, name, value)

    def forward(self, X):
        return self.linear(X)


@pytest.mark.parametrize(
    "make",
    [
        MLP,
        chimera,
        shared_net,
        FixedHiddenMLP,
        lambda: nn.LSTM(4, 8, 2),
        lambda: nn.MultiheadAttention(8, 2),
        lambda: nn.BatchNorm2d(3),
        lambda: nn.LazyLinear(3),
        lambda: MySequential(nn.Linear(2, 2), nn.ReLU()),
    ],
)
def test_clean_models_report_nothing(make):
    report = find_unregistered(make())
    assert isinstance(report, UnregisteredReport) and isinstance(report, list)
    assert report == [] and not report
    assert str(report) == (
        "No unregistered modules, parameters or tensors: nn.Module sees everything."
    )


@pytest.mark.filterwarnings("ignore:.*torch.nn.utils.weight_norm:FutureWarning")
def test_weight_norm_hook_attribute_is_not_flagged():
    net = nn.utils.weight_norm(nn.Linear(3, 3))
    net(torch.rand(1, 3))
    assert "weight" in vars(net)  # the hook stores the recomputed weight as a plain tensor
    assert not find_unregistered(net)


def test_harmless_attributes_and_aliases_are_not_flagged():
    net = Holder(n=3, name="x", act=torch.relu, opts={"a": 1, "b": [1, 2.0, None]}, nothing=None)
    net.aliases = [net.linear, net.linear.weight]  # registered elsewhere: PyTorch sees them
    assert not find_unregistered(net)


def test_list_mlp_is_flagged_with_the_module_list_fix():
    report = find_unregistered(ListMLP())
    assert [item.name for item in report] == ["layers[0]", "layers[1]", "layers[2]"]
    assert {item.kind for item in report} == {"module"}
    assert all("nn.ModuleList" in item.fix for item in report)
    assert (
        str(report).splitlines()[0].startswith("layers[0] (module): make `layers` an nn.ModuleList")
    )
    assert len(str(report).splitlines()) == 3


def test_applying_the_suggested_fix_makes_everything_visible():
    net = ListMLP()
    net.layers = nn.ModuleList(net.layers)
    assert not find_unregistered(net)
    assert sum(p.numel() for p in net.parameters()) == 7946


def test_dicts_tuples_and_plain_tensors():
    w = nn.Parameter(torch.ones(2))
    net = Holder(
        cache={"w": w, "t": torch.zeros(2), "m": nn.ReLU()},
        pair=(nn.Linear(2, 2), torch.ones(1)),
        const=torch.eye(2),
    )
    by_name = {item.name: item for item in find_unregistered(net)}
    assert list(by_name) == [
        "cache['w']",
        "cache['t']",
        "cache['m']",
        "pair[0]",
        "pair[1]",
        "const",
    ]
    assert [by_name[n].kind for n in by_name] == [
        "parameter",
        "tensor",
        "module",
        "module",
        "tensor",
        "tensor",
    ]
    assert "nn.ParameterDict" in by_name["cache['w']"].fix
    assert "register_buffer" in by_name["cache['t']"].fix
    assert "nn.ModuleDict" in by_name["cache['m']"].fix
    assert "add_module" in by_name["cache['m']"].fix
    assert "nn.ModuleList" in by_name["pair[0]"].fix
    assert "self.register_buffer('const', tensor)" in by_name["const"].fix
    assert "nn.Parameter" in by_name["const"].fix


def test_parameters_in_a_list_and_nested_containers():
    net = Holder(
        params=[nn.Parameter(torch.ones(2))],
        stages=[[nn.Linear(2, 2), nn.ReLU()], {"head": nn.Linear(2, 1)}],
    )
    report = find_unregistered(net)
    assert [(i.name, i.kind) for i in report] == [
        ("params[0]", "parameter"),
        ("stages[0][0]", "module"),
        ("stages[0][1]", "module"),
        ("stages[1]['head']", "module"),
    ]
    assert "nn.ParameterList" in report[0].fix
    assert "make `stages` an nn.ModuleList" in report[1].fix and "nest" in report[1].fix


def test_paths_inside_submodules_and_deep_nets():
    inner = Holder(cache={"w": torch.ones(1)})
    net = nn.Sequential(nn.Linear(3, 3), nn.Sequential(inner))
    assert [i.name for i in find_unregistered(net)] == ["1.0.cache['w']"]
    deep = deep_net(3000, inner=ListMLP())  # deeper than the recursion limit
    report = find_unregistered(deep)
    assert len(report) == 3 and report[0].name == "0." * 3000 + "layers[0]"


def test_bracket_in_a_dict_key_is_not_nesting():
    (item,) = find_unregistered(Holder(heads={"a[0]": nn.Linear(2, 2)}))
    assert item.name == "heads['a[0]']" and "nest" not in item.fix


def test_attribute_set_behind_setattrs_back_is_flagged():
    net = Holder()
    net.__dict__["sneaky"] = nn.Linear(2, 2)  # bypasses nn.Module.__setattr__
    net.__dict__["p"] = nn.Parameter(torch.ones(1))
    report = find_unregistered(net)
    assert [(i.name, i.kind) for i in report] == [("sneaky", "module"), ("p", "parameter")]
    assert "self.add_module('sneaky', module)" in report[0].fix
    assert "self.register_parameter('p', param)" in report[1].fix


def test_container_cycles_terminate():
    loop = [nn.Linear(2, 2)]
    loop.append(loop)
    assert [i.name for i in find_unregistered(Holder(loop=loop))] == ["loop[0]"]


def test_find_unregistered_rejects_non_module():
    with pytest.raises(TypeError, match="model must be an nn.Module, got model=None"):
        find_unregistered(None)


# ----------------------------------------------------------------- module_internals


def test_module_internals_of_linear():
    layer = nn.Linear(20, 256)
    internals = module_internals(layer)
    assert list(internals.parameters) == ["weight", "bias"]
    assert internals.parameters["weight"] is layer.weight
    assert internals.buffers == {} and internals.modules == {}
    assert str(internals) == (
        "Linear\n"
        "  _parameters:\n"
        "    weight  Parameter [256, 20] float32 requires_grad=True\n"
        "    bias    Parameter [256] float32 requires_grad=True\n"
        "  _buffers: (empty)\n"
        "  _modules: (empty)"
    )


def test_module_internals_shows_where_setattr_files_things():
    net = Holder()
    net.w = nn.Parameter(torch.ones(2, 3))  # -> _parameters
    net.plain = torch.ones(2)  # -> nowhere: a plain attribute
    net.register_buffer("c", torch.zeros(4))
    net.register_buffer("scratch", torch.zeros(1), persistent=False)
    net.bias = None
    internals = module_internals(net)
    assert list(internals.parameters) == ["w"]
    assert list(internals.buffers) == ["c", "scratch"]
    assert list(internals.modules) == ["linear"]
    text = str(internals)
    assert "plain" not in text
    assert "c        Tensor [4] float32 persistent" in text
    assert "scratch  Tensor [1] float32 non-persistent" in text
    assert "linear  Linear(in_features=3, out_features=3, bias=True)" in text
    assert repr(internals) == text


def test_module_internals_of_sequential_and_fixed_hidden_mlp():
    assert module_internals(nn.Sequential(nn.Linear(2, 2))).parameters == {}
    text = str(module_internals(FixedHiddenMLP()))
    assert "rand_weight  Tensor [20, 20] float32 persistent" in text
    with pytest.raises(TypeError, match="module must be an nn.Module, got module='net'"):
        module_internals("net")
