"""Careless inputs: the wrong type where a tensor, a frame, a model or a device goes.

The policy (``_checks.py``'s docstring, CONTRIBUTING.md): every public function ends such a
call in a ``TypeError``/``ValueError`` that names the argument, never in an error from deep
inside torch or pandas. Each case below is a call a student could make by mistake.
"""

import re

import pandas as pd
import pytest
import torch
from torch import nn

import d2lcompute as d2l
from d2lcompute import house_prices as hp
from d2lcompute import numerical_stability as stability
from d2lcompute.dropout import dropout_layer
from d2lcompute.multilayer_perceptrons import relu
from d2lcompute.weight_decay import l2_penalty

X = torch.rand(4, 3)
y = torch.rand(4, 1)
w, b = torch.zeros(3, 1), torch.zeros(1)
labels = torch.tensor([0, 1, 1, 0])


def _net():
    return nn.Sequential(nn.Linear(3, 1))


def _iter():
    return [(X, labels)]


# (id, the argument the message must name, the call)
CASES = [
    # a str where a tensor goes
    ("linreg X", "X", lambda: d2l.linreg("X", w, b)),
    ("linreg w", "w", lambda: d2l.linreg(X, [1, 2, 3], b)),
    ("squared_loss y_hat", "y_hat", lambda: d2l.squared_loss("y", y)),
    ("squared_loss y", "y", lambda: d2l.squared_loss(y, "y")),
    ("sgd params", "params", lambda: d2l.sgd("w", 0.1, 4)),
    ("sgd params items", "params", lambda: d2l.sgd(["w"], 0.1, 4)),
    ("synthetic_data w", "w", lambda: d2l.synthetic_data("w", 4.2, 10)),
    ("synthetic_data b", "b", lambda: d2l.synthetic_data(torch.tensor([2.0, -3.4]), "b", 10)),
    ("load_array", "data_arrays", lambda: d2l.load_array("abc", 2)),
    ("load_array items", "data_arrays", lambda: d2l.load_array((X, "y"), 2)),
    ("accuracy y_hat", "y_hat", lambda: d2l.accuracy("y_hat", labels)),
    ("accuracy y", "y", lambda: d2l.accuracy(torch.rand(4, 2), "y")),
    ("dropout_layer X", "X", lambda: dropout_layer("X", 0.5)),
    ("relu X", "X", lambda: relu("X")),
    ("l2_penalty w", "w", lambda: l2_penalty("w")),
    ("log_rmse_of preds", "preds", lambda: hp.log_rmse_of("p", y)),
    ("log_rmse_of labels", "labels", lambda: hp.log_rmse_of(y, "l")),
    ("log_rmse features", "features", lambda: hp.log_rmse(_net(), "X", y)),
    ("get_k_fold_data X", "X", lambda: hp.get_k_fold_data(2, 0, "X", y)),
    ("get_k_fold_data y", "y", lambda: hp.get_k_fold_data(2, 0, X, "y")),
    (
        "hp.train features",
        "train_features",
        lambda: hp.train(_net(), "X", y, None, None, 1, 0.1, 0, 2),
    ),
    ("sigmoid_gradient x", "x", lambda: stability.sigmoid_gradient("x")),
    # a str or a function where a model goes
    ("evaluate_accuracy net", "net", lambda: d2l.evaluate_accuracy("net", _iter())),
    ("evaluate_loss net", "net", lambda: d2l.evaluate_loss("net", _iter(), nn.MSELoss())),
    ("count_parameters", "model", lambda: d2l.count_parameters("net")),
    ("parameter_table", "model", lambda: d2l.parameter_table("net")),
    ("summary model", "model", lambda: d2l.summary("net", (2, 3))),
    ("init_normal", "m", lambda: d2l.init_normal("m")),
    ("load_state_dict model", "model", lambda: d2l.load_state_dict("net", {})),
    ("is_initialized", "model", lambda: d2l.is_initialized("net")),
    ("log_rmse net", "net", lambda: hp.log_rmse("net", X, y)),
    # wrong dtypes
    ("summary float64 input", "input_data", lambda: d2l.summary(_net(), input_data=X.double())),
    ("log_rmse float64", "features", lambda: hp.log_rmse(_net(), X.double(), y)),
    ("linreg float64 w", "w", lambda: d2l.linreg(X, w.double(), b)),
    (
        "evaluate_loss float64",
        "X",
        lambda: d2l.evaluate_loss(_net(), [(X.double(), y)], nn.MSELoss()),
    ),
    # bad devices
    ("try_gpu i", "i", lambda: d2l.try_gpu("a")),
    ("summary device foo", "device", lambda: d2l.summary(_net(), (2, 3), device="foo")),
    ("summary device 5", "device", lambda: d2l.summary(nn.ReLU(), (2, 3), device="cuda:5")),
    ("summary device type", "device", lambda: d2l.summary(nn.ReLU(), (2, 3), device=3.5)),
    ("load map_location", "map_location", lambda: d2l.load(__file__, map_location="foo")),
    (
        "train_ch3 device",
        "device",
        lambda: d2l.train_ch3(
            _net(),
            _iter(),
            _iter(),
            nn.MSELoss(),
            1,
            torch.optim.SGD(_net().parameters(), 0.1),
            device="foo",
        ),
    ),
    ("Trainer num_gpus", "num_gpus", lambda: d2l.Trainer(max_epochs=1, num_gpus="1")),
    # not a frame where a frame goes
    ("preprocess train_data", "train_data", lambda: hp.preprocess("train.csv", "test.csv")),
    (
        "check_data test_data",
        "test_data",
        lambda: hp.check_data(pd.DataFrame({"Id": [1], "SalePrice": [1.0]}), [1, 2]),
    ),
    ("encode_features", "features", lambda: hp.encode_features([[1, 2]])),
    (
        "write_submission ids",
        "ids",
        lambda: hp.write_submission(5, [1.0, 2.0], "/nonexistent/x.csv"),
    ),
    # the wrong kind of container or number
    ("get_fashion_mnist_labels", "labels", lambda: d2l.get_fashion_mnist_labels(3)),
    ("show_images imgs", "imgs", lambda: d2l.show_images("imgs", 1, 1)),
    ("Accumulator n", "n", lambda: d2l.Accumulator("2")),
    ("set_seed", "seed", lambda: d2l.set_seed("0")),
]


@pytest.mark.parametrize(("argument", "call"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_careless_call_ends_in_a_clear_error_naming_the_argument(argument, call):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    message = str(info.value)
    assert re.search(rf"\b{re.escape(argument)}\b", message), (
        f"{type(info.value).__name__}: {message}"
    )
    # raised by the package's own check, not deep inside torch or pandas
    assert "d2lcompute" in str(info.traceback[-1].path), info.traceback[-1]


def test_a_device_that_is_not_here_lists_the_devices_there_are():
    with pytest.raises(
        ValueError, match=r"device='cuda:5': no CUDA device 5; this machine has cpu"
    ):
        d2l.summary(nn.ReLU(), (2, 3), device="cuda:5")
    with pytest.raises(ValueError, match=r"device must be a torch.device .* got device='foo'"):
        d2l.summary(nn.ReLU(), (2, 3), device="foo")


def test_a_float64_input_to_a_float32_model_says_so():
    with pytest.raises(TypeError, match=r"input_data has dtype torch.float64 but the model's"):
        d2l.summary(_net(), input_data=X.double())
    with pytest.raises(TypeError, match=r"features has dtype torch.float64 .* features.float\(\)"):
        hp.log_rmse(_net(), X.double(), y)
    with pytest.raises(TypeError, match=r"X has dtype torch.float64 but the model's"):
        d2l.evaluate_accuracy(_net(), [(X.double(), labels)])
    # integer inputs are the model's business (token ids for an embedding)
    assert d2l.summary(nn.Embedding(5, 2), input_data=torch.tensor([[1, 2]])).total_params == 10
