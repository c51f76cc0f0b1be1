"""d2lcompute.testing.assertions and .behaviour: pass on the package's correct objects, fail
with the intended teaching message on the classic broken ones."""

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import d2lcompute.testing as dt
from d2lcompute.blocks import ListMLP, MySequential
from d2lcompute.dropout import dropout_layer
from d2lcompute.layers import MyLinear
from d2lcompute.parameters import shared_net


class DataLinear(MyLinear):
    """The book's MyLinear: computes with .data, so autograd never sees the parameters."""

    def forward(self, X):
        return F.relu(torch.matmul(X, self.weight.data) + self.bias.data)


class AlwaysDropout(nn.Module):
    """Dropout that forgets to check self.training: it also drops at test time."""

    def forward(self, X):
        return dropout_layer(X, 0.5)


def no_rescale_dropout(X, dropout):
    return (torch.rand(X.shape) > dropout).float() * X


def test_importing_the_package_and_plugin_stays_light():
    code = (
        "import sys, d2lcompute, d2lcompute.testing, d2lcompute.testing.plugin; "
        "print(sorted(m for m in ('torch', 'hypothesis') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_testing_is_a_namespaced_submodule():
    import d2lcompute as d2l

    assert d2l.testing is dt and "testing" in dir(d2l)
    assert "check_exercise" not in d2l.__all__


def test_check_failed_is_an_assertion_error():
    assert issubclass(dt.CheckFailed, AssertionError)
    with pytest.raises(AttributeError, match="no attribute 'assert_nothing'"):
        dt.assert_nothing  # noqa: B018


# ---- assert_gradients_flow ------------------------------------------------------------


def test_gradients_flow_through_the_package_mylinear():
    torch.manual_seed(0)
    dt.assert_gradients_flow(MyLinear(4, 3), torch.rand(2, 4))


def test_gradients_flow_names_the_parameters_computed_with_data():
    torch.manual_seed(0)
    with pytest.raises(
        dt.CheckFailed,
        match=r"2 of 2 parameters get no useful gradient: "
        r"weight, bias(.|\n)*computed with `\.data`\?(.|\n)*§5\.4",
    ):
        dt.assert_gradients_flow(DataLinear(4, 3), torch.rand(2, 4))


def test_gradients_flow_fails_on_a_model_without_parameters():
    with pytest.raises(dt.CheckFailed, match="ListMLP has no parameters(.|\n)*assert_registered"):
        dt.assert_gradients_flow(ListMLP(), torch.rand(2, 20))


def test_gradients_flow_reports_a_crashing_model_as_a_failure():
    with pytest.raises(dt.CheckFailed, match="raised RuntimeError: mat1 and mat2 shapes"):
        dt.assert_gradients_flow(nn.Linear(3, 2), torch.rand(2, 5))


def test_gradients_flow_rejects_a_non_module():
    with pytest.raises(TypeError, match=r"model must be an nn.Module, got model=.* \(function\)"):
        dt.assert_gradients_flow(dropout_layer, torch.rand(2))


# ---- assert_registered, assert_param_count, assert_tied -------------------------------


def test_registered_passes_on_mysequential_and_fails_on_a_list():
    dt.assert_registered(MySequential(nn.Linear(2, 3), nn.ReLU()))
    with pytest.raises(
        dt.CheckFailed,
        match=r"ListMLP holds 3 thing\(s\) nn.Module cannot "
        r"see(.|\n)*layers\[0\] \(module\): make `layers` an nn.ModuleList",
    ):
        dt.assert_registered(ListMLP())


def test_param_count_counts_tied_parameters_once():
    dt.assert_param_count(shared_net(), 121)
    with pytest.raises(
        dt.CheckFailed,
        match=r"has 121 parameters, not 193(.|\n)*shared "
        r"\(tied\) layer counted once per use",
    ):
        dt.assert_param_count(shared_net(), 121 + 72)


@pytest.mark.parametrize(
    "model, n, cause",
    [
        (ListMLP(), 7946, "the layers are not registered"),
        (nn.Linear(20, 256), 5000, r"a layer of the wrong size; parameter_table"),
    ],
)
def test_param_count_gives_the_likely_cause(model, n, cause):
    with pytest.raises(dt.CheckFailed, match=cause):
        dt.assert_param_count(model, n)


def test_param_count_rejects_a_negative_count():
    with pytest.raises(ValueError, match="n must be >= 0, got n=-1"):
        dt.assert_param_count(nn.Linear(2, 2), -1)


def test_tied_passes_on_shared_layers_and_explains_a_copy():
    dt.assert_tied(shared_net(), "2.weight", "4.weight")
    net = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    net[1].load_state_dict(net[0].state_dict())
    with pytest.raises(
        dt.CheckFailed,
        match=r"0.weight and 1.weight are separate tensors(.|\n)"
        r"*equal values in two tensors: a copy(.|\n)*§5\.2\.3",
    ):
        dt.assert_tied(net, "0.weight", "1.weight")


def test_tied_names_a_missing_parameter_and_needs_two_names():
    with pytest.raises(dt.CheckFailed, match=r"has no parameter '9.weight'(.|\n)*0.weight"):
        dt.assert_tied(shared_net(), "0.weight", "9.weight")
    with pytest.raises(
        TypeError,
        match=r"two or more parameter names \(str\), got "
        r"names=\('0.weight',\)",
    ):
        dt.assert_tied(shared_net(), "0.weight")


# ---- assert_output_shape --------------------------------------------------------------


def test_output_shape_passes_with_sizes_and_wildcards():
    dt.assert_output_shape(nn.Linear(20, 10), (2, 20), (2, 10))
    dt.assert_output_shape(nn.Flatten(), (3, 1, 28, 28), (None, 784))


def test_output_shape_shows_expected_and_found():
    with pytest.raises(
        dt.CheckFailed,
        match=r"wrong output shape\n  expected: \(any, 5\)\n"
        r"  found:    \(2, 10\)(.|\n)*d2l.summary",
    ):
        dt.assert_output_shape(nn.Linear(20, 10), (2, 20), (None, 5))


def test_output_shape_reports_a_crash_and_rejects_bad_shapes():
    with pytest.raises(
        dt.CheckFailed,
        match=r"model\(X\) with X of shape \(2, 3\) raised "
        "RuntimeError",
    ):
        dt.assert_output_shape(nn.Linear(20, 10), (2, 3), (2, 10))
    with pytest.raises(
        TypeError,
        match=r"input_shape must be a tuple of sizes >= 0, got "
        "input_shape=20",
    ):
        dt.assert_output_shape(nn.Linear(20, 10), 20, (2, 10))


# ---- dropout in train and eval mode ---------------------------------------------------


def test_train_eval_assertions_pass_on_nn_dropout_and_restore_state():
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5))
    net[1].eval()  # a mixed state, to check that each module's own flag is restored
    X = torch.rand(3, 4)
    rng = torch.get_rng_state()
    dt.assert_train_eval_differ(net, X)
    dt.assert_eval_deterministic(net, X)
    assert net.training and not net[1].training
    assert torch.equal(torch.get_rng_state(), rng)


def test_train_eval_differ_fails_without_dropout_in_training():
    with pytest.raises(
        dt.CheckFailed,
        match=r"output equals the eval\(\) output in 5 tries"
        r"(.|\n)*forward ignores self.training",
    ):
        dt.assert_train_eval_differ(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), torch.rand(3, 4))


def test_eval_deterministic_fails_when_dropout_runs_at_test_time():
    with pytest.raises(
        dt.CheckFailed,
        match=r"two calls on the same input give different "
        r"outputs(.|\n)*only `if self.training:`",
    ):
        dt.assert_eval_deterministic(AlwaysDropout(), torch.ones(4, 4))


# ---- assert_can_overfit ---------------------------------------------------------------


def _batch():
    torch.manual_seed(0)
    return torch.randn(8, 20), torch.arange(8) % 10


def test_can_overfit_passes_and_leaves_the_model_alone():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    dt.assert_can_overfit(net, _batch(), nn.CrossEntropyLoss(reduction="none"))
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_can_overfit_names_parameters_without_gradient():
    torch.manual_seed(0)
    with pytest.raises(
        dt.CheckFailed,
        match=r"DataLinear cannot overfit: the loss depends on "
        r"none of its parameters(.|\n)*no useful gradient: weight, bias",
    ):
        dt.assert_can_overfit(DataLinear(20, 10), _batch(), nn.CrossEntropyLoss())
    # one frozen layer among trainable ones: the loss still falls, but not far enough
    net = nn.Sequential(nn.Linear(20, 4), nn.ReLU(), DataLinear(4, 10))
    with pytest.raises(
        dt.CheckFailed,
        match=r"cannot overfit one batch of 8 examples: the "
        r"loss went from \S+ to \S+ in 20 steps(.|\n)*no useful gradient: "
        r"2.weight, 2.bias",
    ):
        dt.assert_can_overfit(net, _batch(), nn.CrossEntropyLoss(), steps=20)


def test_can_overfit_explains_a_model_without_parameters():
    with pytest.raises(dt.CheckFailed, match="ListMLP has no parameters to train"):
        dt.assert_can_overfit(ListMLP(), _batch(), nn.CrossEntropyLoss())


def test_can_overfit_explains_divergence():
    torch.manual_seed(0)
    batch = torch.randn(8, 20), torch.randn(8, 1)
    with pytest.raises(
        dt.CheckFailed,
        match=r"the loss became (inf|nan) at step \d+: training "
        r"diverged(.|\n)*learning rate that is too large",
    ):
        dt.assert_can_overfit(
            nn.Linear(20, 1),
            batch,
            nn.MSELoss(),
            steps=50,
            optimizer=lambda p: torch.optim.SGD(p, lr=10.0),
        )


def test_can_overfit_rejects_an_optimizer_instance():
    net = nn.Linear(20, 10)
    with pytest.raises(TypeError, match=r"optimizer must be a function params -> optimizer"):
        dt.assert_can_overfit(
            net,
            _batch(),
            nn.CrossEntropyLoss(),
            optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
        )


# ---- assert_same_result ---------------------------------------------------------------


def test_same_result_seeds_each_call_so_random_functions_compare():
    def student_dropout(X, dropout):
        mask = (torch.rand(X.shape) > dropout).float()
        return mask * X / (1.0 - dropout)

    cases = [(torch.ones(3, 4), 0.5), (torch.randn(10), 0.2)]
    dt.assert_same_result(student_dropout, dropout_layer, cases=cases)


def test_same_result_shows_the_first_differing_case():
    cases = [(torch.ones(3), 0.0), (torch.ones(2, 2), 0.5)]
    with pytest.raises(
        dt.CheckFailed,
        match=r"case 2 of 2 differs: no_rescale_dropout\("
        r"tensor\(\[\[1.0, 1.0\], \[1.0, 1.0\]\](.|\n)*Mismatched elements",
    ):
        dt.assert_same_result(no_rescale_dropout, dropout_layer, cases=cases)


def test_same_result_reports_a_crash_and_checks_its_arguments():
    with pytest.raises(dt.CheckFailed, match=r"<lambda>\(1.5\) raised ZeroDivisionError"):
        dt.assert_same_result(lambda x: x / 0, lambda x: x, cases=[1.5])
    with pytest.raises(ValueError, match="cases must hold at least one argument tuple"):
        dt.assert_same_result(abs, abs, cases=[])
    with pytest.raises(TypeError, match="reference must be callable, got reference=3"):
        dt.assert_same_result(abs, 3, cases=[1])
