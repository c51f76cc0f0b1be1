"""Tests for d2lcompute.blocks (Book §5.1), with torch's own modules as the oracle."""

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from d2lcompute.blocks import (
    MLP,
    FixedHiddenMLP,
    ListMLP,
    MySequential,
    NestMLP,
    Parallel,
    chimera,
    repeat_block,
)


def n_params(net):
    return sum(p.numel() for p in net.parameters())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def book_layers():
    return [nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10)]


# ----------------------------------------------------------------------------- MLP


def test_mlp_matches_hand_computation():
    net, X = MLP(), torch.rand(2, 20)
    expected = F.linear(
        torch.relu(F.linear(X, net.hidden.weight, net.hidden.bias)), net.out.weight, net.out.bias
    )
    torch.testing.assert_close(net(X), expected)
    assert net(X).shape == (2, 10)
    assert n_params(net) == 20 * 256 + 256 + 256 * 10 + 10


# -------------------------------------------------------------------- MySequential


def test_mysequential_keys_are_strings_and_output_matches_nn_sequential():
    layers = book_layers()
    net, ref = MySequential(*layers), nn.Sequential(*layers)
    assert list(net._modules) == ["0", "1", "2"]
    X = torch.rand(4, 20)
    torch.testing.assert_close(net(X), ref(X))
    assert (
        list(net.state_dict())
        == list(ref.state_dict())
        == ["0.weight", "0.bias", "2.weight", "2.bias"]
    )


def test_mysequential_prints_like_nn_sequential():
    layers = book_layers()
    text = repr(MySequential(*layers))
    assert text == repr(nn.Sequential(*layers)).replace("Sequential", "MySequential", 1)
    assert "(0): Linear(in_features=20, out_features=256, bias=True)" in text


def test_mysequential_reports_and_trains_its_parameters():
    layers = book_layers()
    net = MySequential(*layers)
    assert n_params(net) == sum(n_params(layer) for layer in layers) == 7946
    before = layers[0].weight.detach().clone()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net(torch.rand(4, 20)).sum().backward()
    opt.step()
    assert layers[0].weight.grad is not None
    assert not torch.equal(layers[0].weight, before)


def test_mysequential_len_index_iter_and_slice():
    layers = book_layers()
    net = MySequential(*layers)
    assert len(net) == 3
    assert net[0] is layers[0] and net[-1] is layers[2] and net[-3] is layers[0]
    assert list(net) == layers
    head = net[:2]
    assert isinstance(head, MySequential) and list(head) == layers[:2]
    assert len(MySequential()) == 0


@pytest.mark.parametrize("idx", [3, -4, 100])
def test_mysequential_index_out_of_range(idx):
    with pytest.raises(IndexError, match=rf"index {idx} is out of range .* 3 blocks"):
        MySequential(*book_layers())[idx]


def test_mysequential_bad_index_type_and_bad_block():
    with pytest.raises(TypeError, match="idx must be an integer, got idx='0'"):
        MySequential(*book_layers())["0"]
    with pytest.raises(
        TypeError,
        match=r"MySequential takes nn.Module blocks, got argument 1 "
        r"= 'relu' \(str\)",
    ):
        MySequential(nn.Linear(2, 2), "relu")


# ------------------------------------------------------------------ FixedHiddenMLP


def test_fixed_hidden_mlp_matches_book_forward():
    net, X = FixedHiddenMLP(), torch.rand(2, 20)
    H = torch.relu(net.linear(X) @ net.rand_weight + 1)
    Y = net.linear(H)
    while Y.abs().sum() > 1:
        Y = Y / 2
    out = net(X)
    assert out.shape == ()
    torch.testing.assert_close(out, Y.sum())


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3, 1e6])
def test_fixed_hidden_mlp_output_is_bounded_and_differentiable(scale):
    net = FixedHiddenMLP()
    out = net(torch.rand(3, 20) * scale)
    assert out.abs() <= 1
    out.backward()
    assert net.linear.weight.grad is not None
    assert net.rand_weight.grad is None  # a constant: no gradient, never trained


def test_fixed_hidden_mlp_weight_is_a_persistent_buffer():
    net = FixedHiddenMLP()
    assert "rand_weight" in dict(net.named_buffers())
    assert "rand_weight" not in dict(net.named_parameters())
    assert torch.equal(net.state_dict()["rand_weight"], net.rand_weight)
    # A fresh instance draws another weight; loading the state_dict restores the function.
    clone = FixedHiddenMLP()
    X = torch.rand(2, 20)
    assert not torch.equal(clone.rand_weight, net.rand_weight)
    clone.load_state_dict(net.state_dict())
    torch.testing.assert_close(clone(X), net(X))


def test_fixed_hidden_mlp_weight_follows_to():
    net = FixedHiddenMLP()
    net.to(torch.float64)
    assert net.rand_weight.dtype == torch.float64
    net.to("meta")  # a real device move that needs no GPU
    assert net.rand_weight.device.type == "meta"


def test_fixed_hidden_mlp_rejects_infinite_input_instead_of_looping_forever():
    X = torch.rand(2, 20)
    X[0, 0] = float("inf")
    with pytest.raises(ValueError, match="not finite"):
        FixedHiddenMLP()(X)


# ------------------------------------------------------------ NestMLP and chimera


def test_nest_mlp_and_chimera():
    nest = NestMLP()
    X = torch.rand(2, 20)
    torch.testing.assert_close(nest(X), nest.linear(nest.net(X)))
    assert nest(X).shape == (2, 16)
    net = chimera()
    assert [type(m) for m in net] == [NestMLP, nn.Linear, FixedHiddenMLP]
    assert (net[1].in_features, net[1].out_features) == (16, 20)
    assert net(X).shape == ()
    nest_count = (20 * 64 + 64) + (64 * 32 + 32) + (32 * 16 + 16)
    assert n_params(net) == nest_count + (16 * 20 + 20) + (20 * 20 + 20)
    assert chimera() is not chimera()  # a fresh net on every call


# ------------------------------------------------------------------------ ListMLP


def test_list_mlp_works_but_nn_module_cannot_see_its_layers():
    net = ListMLP()
    X = torch.rand(2, 20)
    assert net(X).shape == (2, 10)
    assert list(net.parameters()) == []
    assert net.state_dict() == {}
    assert "Linear" not in repr(net)
    with pytest.raises(ValueError, match="empty parameter list"):
        torch.optim.SGD(net.parameters(), lr=0.1)
    net.to("meta")
    assert net.layers[0].weight.device.type == "cpu"  # .to() did not move it


def test_list_mlp_fixed_with_module_list_is_seen():
    net = ListMLP()
    net.layers = nn.ModuleList(net.layers)  # the fix the docstring teaches
    assert n_params(net) == 7946
    assert "0.weight" in "".join(net.state_dict())


# ----------------------------------------------------------------------- Parallel


@settings(deadline=None, max_examples=25)
@given(n=st.integers(1, 4), q1=st.integers(1, 6), q2=st.integers(1, 6))
def test_parallel_concatenates_along_features(n, q1, q2):
    net1, net2 = nn.Linear(5, q1), nn.Linear(5, q2)
    X = torch.rand(n, 5)
    Y = Parallel(net1, net2)(X)
    assert Y.shape == (n, q1 + q2)
    torch.testing.assert_close(Y, torch.cat((net1(X), net2(X)), dim=1))


@pytest.mark.parametrize("dim", [0, -2])
def test_parallel_other_dims(dim):
    net1, net2 = nn.Linear(5, 3), nn.Linear(5, 3)
    X = torch.rand(2, 5)
    Y = Parallel(net1, net2, dim=dim)(X)
    assert Y.shape == (4, 3)
    torch.testing.assert_close(Y, torch.cat((net1(X), net2(X)), dim=0))


def test_parallel_registers_both_nets_and_is_not_a_chain():
    net1, net2 = MLP(), MLP()
    net = Parallel(net1, net2)
    assert n_params(net) == 2 * 7946
    # Chaining net2(net1(X)) (the seed's mistake) would fail: MLP takes 20 features, not 10.
    assert net(torch.rand(2, 20)).shape == (2, 20)
    assert "dim=1" in repr(net)


def test_parallel_error_names_shapes():
    # Outputs (2, 3) and (2, 4, 1): different numbers of dimensions.
    net = Parallel(nn.Linear(5, 3), nn.Sequential(nn.Linear(5, 4), nn.Unflatten(1, (4, 1))))
    with pytest.raises(
        ValueError,
        match=r"net1 gave shape \(2, 3\), net2 gave shape "
        r"\(2, 4, 1\); .*different numbers of dimensions",
    ):
        net(torch.rand(2, 5))


def test_parallel_errors():
    X = torch.rand(2, 5)
    with pytest.raises(
        ValueError,
        match=r"along dim=0: net1 gave shape \(2, 3\), net2 gave "
        r"shape \(2, 4\); all dimensions except dim=0 must",
    ):
        Parallel(nn.Linear(5, 3), nn.Linear(5, 4), dim=0)(X)
    with pytest.raises(ValueError, match=r"along dim=2: .*only 2 dimensions"):
        Parallel(nn.Linear(5, 3), nn.Linear(5, 4), dim=2)(X)
    with pytest.raises(ValueError, match=r"net1 gave shape \(\), .*scalar outputs"):
        Parallel(FixedHiddenMLP(), FixedHiddenMLP())(torch.rand(2, 20))
    with pytest.raises(TypeError, match="net2 must be an nn.Module, got net2=.*function"):
        Parallel(nn.Linear(5, 3), torch.relu)
    with pytest.raises(TypeError, match="dim must be an integer, got dim=1.0"):
        Parallel(nn.Linear(5, 3), nn.Linear(5, 3), dim=1.0)


# ------------------------------------------------------------------- repeat_block


def linear8():
    return nn.Linear(8, 8)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_repeat_block_independent_copies(n):
    net = repeat_block(linear8, n)
    assert isinstance(net, nn.Sequential) and len(net) == n
    assert len({id(block) for block in net}) == n
    assert n_params(net) == n * 72
    X = torch.rand(3, 8)
    Y = X
    for block in net:
        Y = block(Y)
    torch.testing.assert_close(net(X), Y)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_repeat_block_shared(n):
    net = repeat_block(linear8, n, shared=True)
    assert len(net) == n and all(block is net[0] for block in net)
    assert n_params(net) == 72  # one parameter set, however many uses
    # Gradients of the shared block add up: equal to the sum over independent copies.
    untied = nn.Sequential(*[copy.deepcopy(net[0]) for _ in range(n)])
    X = torch.rand(3, 8)
    net(X).sum().backward()
    untied(X).sum().backward()
    torch.testing.assert_close(net[0].weight.grad, sum(b.weight.grad for b in untied))


def test_repeat_block_works_with_a_class_and_nests():
    net = repeat_block(lambda: repeat_block(MLP, 1), 2)
    assert n_params(net) == 2 * 7946


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((linear8, 0), ValueError, "n must be >= 1, got n=0"),
        ((linear8, 2.0), TypeError, "n must be an integer, got n=2.0"),
        ((linear8, True), TypeError, "n must be an integer, got n=True"),
        (
            (None, 2),
            TypeError,
            "block_factory must be a callable returning an nn.Module, got block_factory=None",
        ),
        (
            (nn.Linear(8, 8), 2),
            TypeError,
            r"block_factory must build a new block when called, .*"
            r"got the module Linear\(in_features=8",
        ),
        ((lambda: "layer", 2), TypeError, "block_factory must return an nn.Module, got 'layer'"),
    ],
)
def test_repeat_block_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        repeat_block(*args)


def test_repeat_block_refuses_silent_sharing_and_bad_shared():
    layer = linear8()
    with pytest.raises(ValueError, match="returned the same module twice.*shared=True"):
        repeat_block(lambda: layer, 3)
    assert n_params(repeat_block(lambda: layer, 3, shared=True)) == 72
    with pytest.raises(TypeError, match="shared must be True or False, got shared='yes'"):
        repeat_block(linear8, 2, shared="yes")
