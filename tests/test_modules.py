"""walk_modules (d2lcompute/_modules.py) against named_modules, without its recursion limit."""

import pytest
from torch import nn

from d2lcompute._modules import walk_modules
from d2lcompute.blocks import MLP, FixedHiddenMLP, chimera
from d2lcompute.parameters import shared_net


def deep_net(depth):
    net = nn.Linear(2, 2)
    for _ in range(depth):
        net = nn.Sequential(net)
    return net


@pytest.mark.parametrize("make", [MLP, chimera, shared_net, FixedHiddenMLP])
@pytest.mark.parametrize("remove_duplicate", [True, False])
def test_walk_modules_matches_named_modules(make, remove_duplicate):
    net = make()
    ours = [(name, id(m)) for name, m in walk_modules(net, remove_duplicate)]
    torch_s = [(name, id(m)) for name, m in net.named_modules(remove_duplicate=remove_duplicate)]
    assert ours == torch_s


def test_walk_modules_on_shared_net_names_both_uses_only_without_dedup():
    net = shared_net()
    assert "4" not in dict(walk_modules(net))
    assert dict(walk_modules(net, remove_duplicate=False))["4"] is net[2]


def test_walk_modules_is_not_limited_by_recursion_depth():
    net = deep_net(5000)
    modules = [m for _, m in walk_modules(net)]
    assert len(modules) == 5001 and isinstance(modules[-1], nn.Linear)


def test_walk_modules_survives_a_module_that_contains_itself():
    net = nn.Sequential(nn.Linear(2, 2))
    net.add_module("me", net)  # a cycle
    assert len(list(walk_modules(net))) == 2
    assert [name for name, _ in walk_modules(net, remove_duplicate=False)] == ["", "0"]


def test_walk_modules_rejects_non_module():
    with pytest.raises(
        TypeError, match="model must be an nn.Module, got model=\\[1, 2\\] \\(list\\)"
    ):
        list(walk_modules([1, 2]))
