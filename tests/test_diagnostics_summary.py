"""Tests for d2lcompute/diagnostics/summary*.py (collect, aggregate, render).

Oracles: ``count_parameters`` and ``model.parameters()`` for totals, hand-computed byte
counts, and torchsummary 1.5.1 itself for each case it gets wrong. Golden tables live in
``tests/golden/summary/*.out``;
``D2LCOMPUTE_UPDATE_GOLDEN=1 pytest tests/test_diagnostics_summary.py`` rewrites them
(review the diff). Every table, golden or not, must pass
``check_column_adds_up``: the Param # column sums to "Total params".
"""

import io
import os
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import d2lcompute as d2l
from d2lcompute.blocks import FixedHiddenMLP, ListMLP, chimera
from d2lcompute.diagnostics import find_unregistered
from d2lcompute.parameters import count_parameters, shared_net

summary = d2l.summary
GOLDEN = Path(__file__).parent / "golden" / "summary"


def table_rows(text):
    """The body rows of a rendered table, each split into (name, output, params) cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Layer (type)")) + 2
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("="))
    return [re.split(r"\s{2,}", line.strip()) for line in lines[start:end]]


def check_column_adds_up(text):
    """The leading number of each Param # cell adds up to Total params (torchinfo's check)."""
    column = 0
    for cells in table_rows(text):
        match = re.match(r"[\d,]+", cells[-1])  # "(72 shared ...)", "--": not in the totals
        column += int(match.group().replace(",", "")) if match else 0
    total = int(re.search(r"^Total params: ([\d,]+)", text, re.M).group(1).replace(",", ""))
    assert column == total, f"Param # column adds up to {column}, Total params says {total}"
    return total


def torchsummary_text(model, input_size):
    """What torchsummary 1.5.1 prints (on the CPU); its exception propagates."""
    from torchsummary import summary as torchsummary

    out = io.StringIO()
    with redirect_stdout(out):
        torchsummary(model, input_size, device="cpu")
    return out.getvalue()


def torchsummary_total(model, input_size):
    text = torchsummary_text(model, input_size)
    return int(re.search(r"Total params: ([\d,]+)", text).group(1).replace(",", ""))


# ------------------------------------------------------------------ golden tables


def _nested_net():
    torch.manual_seed(0)
    return chimera()


GOLDEN_CASES = {
    "mlp": lambda: summary(d2l.MLP(), (2, 20)),
    "tied": lambda: summary(shared_net(), (2, 4)),
    "chimera": lambda: summary(_nested_net(), (2, 20)),
    "chimera_depth1": lambda: summary(_nested_net(), (2, 20), depth=1),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_table(name):
    text = str(GOLDEN_CASES[name]())
    path = GOLDEN / f"{name}.out"
    if os.environ.get("D2LCOMPUTE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    check_column_adds_up(expected)  # a golden file cannot lock in a table that does not add up
    assert text + "\n" == expected


# ------------------------------------------------- where torchsummary 1.5.1 is wrong


def test_mlp_totals_match_torchsummary_where_it_is_right():
    net = d2l.MLP()
    result = summary(net, (2, 20))
    assert result.total_params == result.trainable_params == 7946
    assert torchsummary_total(net, (20,)) == 7946


def test_tied_net_counts_the_shared_layer_once():
    net = shared_net()  # Linear(4, 8) 40 + shared Linear(8, 8) 72, used twice + Linear(8, 1) 9
    result = summary(net, (2, 4))
    assert result.total_params == count_parameters(net) == 40 + 72 + 9 == 121
    assert torchsummary_total(net, (4,)) == 40 + 72 + 72 + 9 == 193  # its double count
    text = str(result)
    assert check_column_adds_up(text) == 121
    shared_rows = [cells for cells in table_rows(text) if "shared" in cells[-1]]
    assert shared_rows == [["4 (Linear)", "[2, 8]", "(72 shared with 2)"]]


def test_partly_tied_layer_counts_its_own_bias():
    net = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    net[1].weight = net[0].weight  # tie the weights only; each layer keeps its bias
    result = summary(net, (2, 8))
    assert result.total_params == count_parameters(net) == 64 + 8 + 8
    assert table_rows(str(result))[-1][-1] == "8 (+64 shared)"
    check_column_adds_up(str(result))


def test_scalar_output_and_reused_layer():
    net = FixedHiddenMLP()  # returns X.sum(); uses self.linear (420 parameters) twice
    result = summary(net, (2, 20))
    rows = table_rows(str(result))
    assert rows[0] == ["FixedHiddenMLP", "[]", "--"]
    assert result.total_params == count_parameters(net) == 420
    assert torchsummary_total(net, (20,)) == 840
    with pytest.raises(IndexError):  # torchsummary, scalar output of a hooked block
        torchsummary_text(nn.Sequential(FixedHiddenMLP()), (20,))
    assert summary(nn.Sequential(FixedHiddenMLP()), (2, 20)).total_params == 420


class TupleAndDict(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = PairOut()
        self.linear = nn.Linear(4, 3)

    def forward(self, X):
        Y, Z = self.pair(X)
        return {"y": self.linear(Y), "z": Z}


class PairOut(nn.Module):
    def forward(self, X):
        return X, X[:, :1]


def test_tuple_and_dict_outputs():
    result = summary(TupleAndDict(), (2, 4))
    outputs = {cells[0]: cells[1] for cells in table_rows(str(result))}
    assert outputs == {
        "TupleAndDict": "{y: [2, 3], z: [2, 1]}",
        "pair (PairOut)": "([2, 4], [2, 1])",
        "linear (Linear)": "[2, 3]",
    }
    with pytest.raises(AttributeError, match="'dict' object has no attribute 'size'"):
        torchsummary_text(nn.Sequential(TupleAndDict()), (4,))


class PlainList(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = [nn.Linear(6, 5), nn.Linear(5, 2)]  # the mistake under test

    def forward(self, X):
        for block in self.blocks:
            X = block(X)
        return X


@pytest.mark.parametrize("make, counts", [(PlainList, [35, 12]), (ListMLP, [5376, 2570])])
def test_plain_list_layers_are_shown_and_reported(make, counts):
    net = make()
    n_in = net.layers[0].in_features if make is ListMLP else 6
    with pytest.raises(AttributeError, match="'int' object has no attribute 'numpy'"):
        torchsummary_text(net, (n_in,))
    result = summary(net, (2, n_in))
    text = str(result)
    assert result.total_params == count_parameters(net) == 0
    assert [cells[-1] for cells in table_rows(text) if "unregistered" in cells[-1]] == [
        f"({n:,} unregistered)" for n in counts
    ]
    report = find_unregistered(net)
    assert report and result.unregistered == report
    assert "WARNING" in text and "nn.ModuleList" in text
    for item in report:
        assert item.name in text
    check_column_adds_up(text)


def test_model_device_is_the_default_not_cuda():
    net = nn.Sequential(nn.Linear(20, 10, device="meta"))  # runs nowhere but on "meta"
    assert summary(net, (2, 20)).total_params == 210
    with pytest.raises(RuntimeError):  # torchsummary builds its input on the CPU
        torchsummary_text(net, (20,))


# ------------------------------------------------------------------------- lazy layers


def test_lazy_model_is_summarized_on_a_copy():
    torch.manual_seed(0)
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
    result = summary(net, (2, 4))
    assert result.total_params == (4 * 8 + 8) + (8 + 1)
    assert net[0].has_uninitialized_params() and type(net[0]) is nn.LazyLinear  # untouched
    text = str(result)
    assert "0 (LazyLinear)" in text and "uninitialized in your model" in text
    check_column_adds_up(text)
    torchsummary_text(net, (4,))  # torchsummary, by contrast, initialises the user's model
    assert type(net[0]) is nn.Linear


class LazyHeadNotReached(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.head = nn.LazyLinear(3)  # forward never calls it, so it stays uninitialized

    def forward(self, X):
        return self.body(X)


def test_lazy_layer_not_reached_says_uninitialized():
    result = summary(LazyHeadNotReached(), (2, 4))
    rows = table_rows(str(result))
    assert rows[-1] == ["head (LazyLinear)", "(not called)", "uninitialized (lazy)"]
    assert result.total_params == 20
    assert "Total params: 20 + uninitialized (lazy)" in str(result)


# ---------------------------------------------------------------------- depth and rows


@pytest.mark.parametrize("depth", range(5))
def test_every_depth_adds_up_to_the_same_total(depth):
    torch.manual_seed(0)
    net = nn.Sequential(d2l.repeat_block(lambda: nn.Linear(20, 20), 3, shared=True), chimera())
    result = summary(net, (2, 20), depth=depth)
    assert result.total_params == count_parameters(net) == 420 + 4712
    assert check_column_adds_up(str(result)) == result.total_params
    assert max(row.depth for row in result.rows) == min(depth, 4)


class WithUnusedLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.used = nn.Linear(3, 3)
        self.unused = nn.Linear(3, 7)

    def forward(self, X):
        return self.used(X)


def test_registered_layer_never_called_gets_its_own_row():
    result = summary(WithUnusedLayer(), (2, 3))
    assert table_rows(str(result))[-1] == ["unused (Linear)", "(not called)", "28"]
    assert check_column_adds_up(str(result)) == 12 + 28


class IndexedList(nn.Module):
    """Calls the layers of an nn.ModuleList by index, never the list itself."""

    def __init__(self, first, rest, unused):
        super().__init__()
        self.n = len(first)
        self.first = nn.ModuleList(first + [nn.Linear(4, 4)] * unused)
        self.rest = rest

    def forward(self, X):
        for layer in self.first[: self.n]:
            X = layer(X)
        return self.rest(X)


def test_modulelist_layers_are_named_and_unused_ones_get_rows():
    net = IndexedList([nn.Linear(4, 4), nn.ReLU()], nn.Linear(4, 2), unused=True)
    rows = table_rows(str(summary(net, (2, 4))))
    assert [cells[0].strip() for cells in rows] == [
        "IndexedList",
        "first.0 (Linear)",
        "first.1 (ReLU)",
        "rest (Linear)",
        "first.2 (Linear)",
    ]
    assert rows[-1][1:] == ["(not called)", "20"]  # the list itself gets no row
    assert check_column_adds_up(str(summary(net, (2, 4)))) == count_parameters(net) == 20 + 10 + 20


@st.composite
def random_nets(draw):
    """Linear(4, 4) layers drawn with reuse (tying), nesting, ModuleLists and frozen parts."""
    pool = [nn.Linear(4, 4, bias=draw(st.booleans())) for _ in range(draw(st.integers(1, 4)))]
    if len(pool) > 1 and draw(st.booleans()):
        pool[1].weight = pool[0].weight  # tie one weight between two different layers
    if draw(st.booleans()):
        pool[-1].requires_grad_(False)
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=6))
    layers = [pool[i] for i in picks]
    cut = draw(st.integers(0, len(layers)))
    rest = nn.Sequential(nn.ReLU(), *layers[cut:])
    if draw(st.booleans()):
        net = nn.Sequential(*layers[:cut], rest)
    else:
        net = IndexedList(layers[:cut], rest, unused=draw(st.booleans()))
    return net, draw(st.integers(0, 3))


@settings(max_examples=40, deadline=None)
@given(random_nets())
def test_column_adds_up_on_random_nets(net_and_depth):
    net, depth = net_and_depth
    result = summary(net, (2, 4), depth=depth)
    unique = {id(p): p for p in net.parameters()}.values()
    assert result.total_params == count_parameters(net) == sum(p.numel() for p in unique)
    assert result.trainable_params == count_parameters(net, trainable_only=True)
    assert check_column_adds_up(str(result)) == result.total_params


# --------------------------------------------------------------------- memory estimates


def test_memory_estimates_by_hand_and_against_torchsummary():
    net = nn.Sequential(nn.Linear(1000, 2000), nn.ReLU(), nn.Linear(2000, 1000))
    result = summary(net, (1, 1000))
    params = 1000 * 2000 + 2000 + 2000 * 1000 + 1000
    assert result.param_bytes == 4 * params
    assert result.input_bytes == 4 * 1000
    assert result.activation_bytes == 2 * 4 * (2000 + 2000 + 1000)  # outputs and their grads
    assert result.total_bytes == result.param_bytes + result.input_bytes + result.activation_bytes
    ours = [line for line in str(result).splitlines() if "(MB)" in line]
    theirs = [line for line in torchsummary_text(net, (1000,)).splitlines() if "(MB)" in line]
    assert ours == theirs and "Params size (MB): 15.27" in ours


# --------------------------------------------------------------------- inputs and errors


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 3)
        self.linear = nn.Linear(3, 2)

    def forward(self, tokens, X):
        return self.linear(self.embed(tokens).mean(1) + X)


def test_several_inputs_with_dtypes_and_input_data():
    from_size = summary(TwoInputs(), [(2, 5), (2, 3)], dtypes=[torch.long, torch.float32])
    from_data = summary(
        TwoInputs(), input_data=(torch.zeros(2, 5, dtype=torch.long), torch.rand(2, 3))
    )
    assert str(from_size) == str(from_data)
    assert from_size.input_bytes == 2 * 5 * 8 + 2 * 3 * 4


def test_input_data_tensor_and_result_object():
    result = summary(d2l.MLP(), input_data=torch.rand(3, 20))
    assert repr(result) == str(result)  # a notebook cell shows the table
    assert table_rows(str(result))[0] == ["MLP", "[3, 10]", "--"]
    assert (result.total_params, result.trainable_params, result.non_trainable_params) == (
        7946,
        7946,
        0,
    )


def test_frozen_parameters_are_non_trainable():
    net = d2l.MLP()
    net.hidden.requires_grad_(False)
    result = summary(net, (2, 20))
    assert (result.trainable_params, result.non_trainable_params) == (2570, 5376)


def test_wrong_input_size_names_the_convention_and_the_first_layer():
    with pytest.raises(RuntimeError, match=r"batch dimension included") as info:
        summary(d2l.MLP(), (2, 8))
    message = str(info.value)
    assert "layer 'hidden' (Linear), which expects input of shape (*, 20)" in message
    assert "e.g. input_size=(2, 20)" in message
    assert "mat1 and mat2 shapes cannot be multiplied" in str(info.value.__cause__)


class FailsAfterTwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Sequential(nn.Linear(4, 4), Boom())

    def forward(self, X):
        return self.b(self.a(X))


class Boom(nn.Module):
    def forward(self, X):
        raise ValueError("boom")


def test_failure_in_forward_names_the_layers_that_ran():
    hooks_before = len(torch.nn.modules.module._global_forward_hooks)
    with pytest.raises(
        RuntimeError,
        match=r"raised in layer 'b\.1' \(Boom\)\. Layers that ran "
        r"before it: a \(Linear\), b\.0 \(Linear\)",
    ) as info:
        summary(FailsAfterTwoLayers(), input_data=torch.rand(2, 4))
    assert isinstance(info.value.__cause__, ValueError)
    assert "input_size" not in str(info.value)  # input_data: no convention to explain
    assert len(torch.nn.modules.module._global_forward_hooks) == hooks_before


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({}, ValueError, "exactly one of input_size .* neither was given"),
        ({"input_size": (2, 20), "input_data": torch.rand(2, 20)}, ValueError, "both were given"),
        (
            {"input_size": (2, "20")},
            TypeError,
            r"input_size must be a shape .* got input_size=\(2, '20'\)",
        ),
        ({"input_size": (2, 0)}, ValueError, r"positive sizes, got input_size=\(2, 0\)"),
        ({"input_data": {1, 2}}, TypeError, "input_data must be a tensor .* set"),
        ({"input_size": (2, 20), "depth": -1}, ValueError, "depth must be >= 0, got depth=-1"),
        ({"input_size": (2, 20), "depth": 1.5}, TypeError, "depth must be an integer"),
        (
            {"input_size": (2, 20), "dtypes": [torch.float32] * 2},
            ValueError,
            "dtypes must be a list of 1 torch.dtype",
        ),
        (
            {"input_data": torch.rand(2, 20), "dtypes": [torch.float32]},
            ValueError,
            "dtypes goes with input_size only",
        ),
        (
            {"input_size": (2, 20), "device": "nonsense"},
            ValueError,
            "device must be a torch.device",
        ),
        (
            {"input_size": (2, 20), "device": "meta"},
            ValueError,
            r"the model is on cpu, but device='meta'.*model\.to\('meta'\)",
        ),
    ],
)
def test_bad_arguments_are_rejected_before_any_work(kwargs, error, match):
    net = d2l.MLP()
    calls = []
    net.register_forward_pre_hook(lambda *args: calls.append(1))
    with pytest.raises(error, match=match):
        summary(net, **kwargs)
    assert not calls


def test_model_must_be_a_module():
    with pytest.raises(
        TypeError, match=r"model must be an nn.Module, got model=<function .*> \(function\)"
    ):
        summary(lambda X: X, (2, 3))


def test_parameterless_model_goes_to_the_given_device():
    assert summary(nn.ReLU(), (2, 3), device="meta").input_bytes == 24


# ------------------------------------------------------------------------ no side effects


class Noisy(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)
        self.frozen = nn.Linear(4, 4)

    def forward(self, X):
        return self.frozen(self.drop(self.norm(X + torch.rand_like(X))))


def test_summary_leaves_the_model_and_the_rng_as_they_were():
    net = Noisy()
    net.frozen.eval()  # mixed modes must come back exactly
    modes = {name: m.training for name, m in net.named_modules()}
    stats = net.norm.running_mean.clone()
    rng = torch.get_rng_state()
    hooks = (
        len(torch.nn.modules.module._global_forward_pre_hooks),
        len(torch.nn.modules.module._global_forward_hooks),
    )
    summary(net, (2, 4))
    assert torch.equal(torch.get_rng_state(), rng)
    assert {name: m.training for name, m in net.named_modules()} == modes
    assert torch.equal(net.norm.running_mean, stats)
    assert all(p.grad is None for p in net.parameters())
    assert hooks == (
        len(torch.nn.modules.module._global_forward_pre_hooks),
        len(torch.nn.modules.module._global_forward_hooks),
    )


def test_an_input_too_large_to_allocate_gets_a_clear_message():
    """Before: RuntimeError "[enforce fail at alloc_cpu.cpp] DefaultCPUAllocator: can't ..."."""
    net = nn.Sequential(nn.Linear(2**20, 1))
    with pytest.raises(
        ValueError,
        match=r"input_size=\(1099511627776, 1048576\) needs 4\.29e\+09 "
        r"GiB of random input, which could not be allocated on "
        r"cpu; .* e\.g\. input_size=\(2, 1048576\)",
    ):
        d2l.summary(net, input_size=(2**40, 2**20))


# --- issue 17: every model a peer's suite summarises ---------------------------------------

Point = __import__("collections").namedtuple("Point", "x y")


class TakesAPoint(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, p, scale=1.0):
        return self.fc(p.x) * scale + self.fc(p.y)


@__import__("dataclasses").dataclass
class Batch:
    X: torch.Tensor
    note: str = "kept"


class TakesABatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.seen = None

    def forward(self, batch, extra):
        self.seen = (type(batch), batch.note, type(extra))
        return self.fc(batch.X) + self.fc(extra["a"][0])


def test_structures_in_input_data_are_rebuilt_as_their_own_types():
    p = Point(torch.rand(2, 3), torch.rand(2, 3))
    result = summary(TakesAPoint(), input_data=(p,))
    assert result.total_params == 8 and check_column_adds_up(str(result)) == 8
    assert result.input_bytes == 2 * 6 * 4
    net = TakesABatch()
    result = summary(net, input_data=[Batch(torch.rand(2, 3)), {"a": [torch.rand(2, 3)]}])
    assert net.seen == (Batch, "kept", dict)
    assert result.input_bytes == 2 * 6 * 4
    # a dict is forward's keyword arguments (torchinfo's convention), so is **kwargs
    assert summary(TakesAPoint(), input_data={"p": p, "scale": 2.0}).total_params == 8
    assert summary(TakesAPoint(), input_data=(p,), scale=2.0).total_params == 8


def test_a_packed_sequence_goes_to_an_lstm_whole():
    packed = nn.utils.rnn.pack_sequence([torch.rand(3, 4), torch.rand(2, 4)])
    for input_data in (packed, (packed,)):
        result = summary(nn.LSTM(4, 5), input_data=input_data)
        assert result.total_params == 4 * 5 * (4 + 5 + 2)
        assert "PackedSequence[5, 5]" in str(result)


class OnlyParameters(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(3, 4))


@pytest.mark.parametrize(
    ("model", "total"),
    [
        (nn.ModuleList(), 0),
        (nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 1)]), 13),
        (OnlyParameters(), 12),
    ],
)
def test_a_model_without_forward_lists_its_parameters_and_says_nothing_ran(model, total):
    for kwargs in ({}, {"input_size": (1, 2)}):
        result = summary(model, **kwargs)
        assert result.total_params == total and check_column_adds_up(str(result)) == total
        assert "no forward pass was run" in " ".join(str(result).split())


def test_a_0d_input_size_is_a_valid_shape():
    result = summary(nn.Identity(), input_size=())
    assert result.rows[0].output == "[]" and result.input_bytes == 4
    with pytest.raises(ValueError, match="positive sizes"):
        summary(nn.Identity(), input_size=(2, 0))


def test_a_pruned_model_gets_no_register_buffer_warning():
    from torch.nn.utils import prune

    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    prune.l1_unstructured(net[0], "weight", 0.5)
    prune.random_unstructured(net[2], "bias", 0.5)
    prune.l1_unstructured(net[2], "bias", 0.5)  # a PruningContainer
    text = str(summary(net, input_size=(2, 3)))
    assert "register_buffer" not in text and "WARNING" not in text
    assert not find_unregistered(net)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_torchscript_submodules_show_their_type_and_that_shapes_are_hidden():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scripted = torch.jit.script(nn.Sequential(nn.Linear(3, 4), nn.ReLU()))
            self.out = nn.Linear(4, 1)

        def forward(self, X):
            return self.out(self.scripted(X))

    result = summary(Net(), input_size=(2, 3))
    text = str(result)
    assert "RecursiveScriptModule" not in text and "(not called)" not in text
    assert "scripted (Sequential)" in text and "scripted.0 (Linear)" in text
    assert "(in TorchScript: shape not visible)" in text and "not visible" in text
    assert check_column_adds_up(text) == 21


def test_a_later_layer_failing_does_not_blame_input_size():
    with pytest.raises(RuntimeError) as info:
        summary(nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 6)), input_size=(2, 3))
    message = str(info.value)
    assert "layer '1' (Linear), which expects input of shape (*, 5)" in message
    assert "input_size=" not in message and "batch dimension" not in message
    # the first layer with a known input shape, after a Flatten that ran: input_size is to blame
    with pytest.raises(RuntimeError, match=r"e.g. input_size=\(2, 784\)"):
        summary(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), input_size=(28, 28))
