import itertools
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from d2lcompute import fashion_mnist_improved as improved


def test_the_model_maps_images_to_ten_logits_with_the_documented_layers():
    net = improved.ImprovedMLP()
    assert net(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert net.eval()(torch.rand(1, 1, 28, 28)).shape == (1, 10)  # eval: one image is fine
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (784, 512),
        (512, 256),
        (256, 10),
    ]
    assert [m.bias is None for m in linears] == [True, True, False]  # batch norm shifts
    assert [m.p for m in net if isinstance(m, nn.Dropout)] == [0.2, 0.2]
    # weights, batch-norm scale and shift, the output layer's weight and bias
    expected = 784 * 512 + 2 * 512 + 512 * 256 + 2 * 256 + 256 * 10 + 10
    assert sum(p.numel() for p in net.parameters()) == expected


def test_the_model_takes_its_widths_and_dropout():
    net = improved.ImprovedMLP(num_hiddens=(64,), dropout=0.5)
    assert net(torch.rand(4, 1, 28, 28)).shape == (4, 10)
    assert [m.out_features for m in net if isinstance(m, nn.Linear)] == [64, 10]
    assert [m.p for m in net if isinstance(m, nn.Dropout)] == [0.5]
    assert improved.ImprovedMLP(num_hiddens=64)[1].out_features == 64  # one int: one layer
    net = improved.ImprovedMLP(num_hiddens=())  # no hidden layer: softmax regression
    assert [m.in_features for m in net if isinstance(m, nn.Linear)] == [784]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"dropout": 1.5}, ValueError, "dropout must be a probability in [0, 1], got dropout=1.5"),
        ({"num_hiddens": (256, 0)}, ValueError, "num_hiddens must be >= 1, got num_hiddens=0"),
        ({"num_hiddens": (256, 1.5)}, TypeError, "num_hiddens must be an integer"),
    ],
)
def test_the_model_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]")):
        improved.ImprovedMLP(**kwargs)


def test_the_loss_is_cross_entropy_with_label_smoothing_per_example():
    torch.manual_seed(0)
    y_hat, y = torch.randn(5, 10), torch.randint(0, 10, (5,))
    l = improved.make_loss()(y_hat, y)
    assert l.shape == (5,)
    log_p = F.log_softmax(y_hat, dim=1)
    # oracle: 0.9 of the usual loss plus 0.1 of the loss against a uniform target
    expected = 0.9 * -log_p[torch.arange(5), y] + 0.1 * -log_p.mean(dim=1)
    torch.testing.assert_close(l, expected)


def _lrs(optimizer, steps):
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # the hook steps the schedule
    return lrs


def test_the_schedule_warms_up_then_decays_and_follows_optimizer_steps():
    net = nn.Linear(2, 2)
    net.weight.grad, net.bias.grad = torch.zeros(2, 2), torch.zeros(2)
    optimizer, scheduler = improved.make_optimizer(net, 0.01, num_epochs=2, steps_per_epoch=50)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.param_groups[0]["weight_decay"] == improved.WEIGHT_DECAY
    assert optimizer.param_groups[0]["betas"][0] == 0.95  # beta1 cycles against the lr
    lrs = _lrs(optimizer, 19)
    assert math.isclose(optimizer.param_groups[0]["betas"][0], 0.85)  # at the peak lr
    lrs += _lrs(optimizer, 81)
    assert math.isclose(lrs[0], 0.01 / 25)
    peak = max(range(100), key=lrs.__getitem__)
    assert peak == 19 and math.isclose(lrs[peak], 0.01)  # at the end of the warm-up fifth
    assert all(a < b for a, b in itertools.pairwise(lrs[: peak + 1]))
    assert all(a > b for a, b in itertools.pairwise(lrs[peak:]))
    assert lrs[-1] < 1e-6
    assert scheduler.last_epoch == 99
    # a loop that trains past the schedule keeps its last rate instead of failing
    assert _lrs(optimizer, 3) == [lrs[-1]] * 3


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"lr": 0}, ValueError, "lr must be > 0, got lr=0"),
        ({"num_epochs": 0}, ValueError, "num_epochs must be >= 1, got num_epochs=0"),
        ({"steps_per_epoch": 2.5}, TypeError, "steps_per_epoch must be an integer"),
        ({"weight_decay": -1}, ValueError, "weight_decay must be >= 0, got weight_decay=-1"),
        ({"warmup": 0}, ValueError, "warmup must be > 0, got warmup=0"),
    ],
)
def test_make_optimizer_refuses_bad_arguments(kwargs, error, message):
    arguments = {"num_epochs": 1, "steps_per_epoch": 10} | kwargs
    with pytest.raises(error, match=message):
        improved.make_optimizer(nn.Linear(2, 2), **arguments)
