"""Counting and evaluation (d2lcompute.metrics): Accumulator, Timer, accuracy, the evaluators."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from training_helpers import DeviceSpy, batches, classification_data, small_net

import d2lcompute as d2l
from d2lcompute import metrics


def test_accumulator_adds_resets_and_indexes():
    metric = d2l.Accumulator(3)
    metric.add(1, torch.tensor(2.0, requires_grad=True) * 1, 3.5)  # no warning: detached
    metric.add(1, 1, 0.5)
    assert metric.data == [2.0, 3.0, 4.0] and metric[1] == 3.0 and metric[-1] == 4.0
    assert isinstance(metric[1], float)
    metric.reset()
    assert metric[:] == [0.0, 0.0, 0.0]


def test_accumulator_rejects_wrong_arity_and_size():
    with pytest.raises(ValueError, match="expects 2 numbers, got 3"):
        d2l.Accumulator(2).add(1, 2, 3)
    with pytest.raises(ValueError, match="n must be >= 1, got n=0"):
        d2l.Accumulator(0)


def test_accuracy_by_hand():
    y_hat = torch.tensor([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1], [0.3, 0.4, 0.3], [0.0, 0.0, 1.0]])
    y = torch.tensor([2, 0, 0, 1])
    assert d2l.accuracy(y_hat, y) == 2.0
    assert d2l.accuracy(torch.tensor([2, 0, 1, 1]), y) == 3.0  # labels need no arg-max
    # (n, 1) predictions are compared row by row, not broadcast against (n,) labels
    assert d2l.accuracy(torch.tensor([[2], [0], [1], [1]]), y) == 3.0


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_accuracy_counts_argmax_matches(n, k, seed):
    g = torch.Generator().manual_seed(seed)
    y_hat, y = torch.randn(n, k, generator=g), torch.randint(0, k, (n,), generator=g)
    expected = sum(int(y_hat[i].argmax()) == int(y[i]) for i in range(n))
    assert d2l.accuracy(y_hat, y) == expected
    assert 0 <= d2l.accuracy(y_hat, y) <= n


def test_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"got y_hat \(3,\), y \(4,\)"):
        d2l.accuracy(torch.randn(3, 5), torch.zeros(4, dtype=torch.long))


def test_timer_records_sum_avg_and_cumsum(monkeypatch):
    clock = iter([10.0, 10.5, 11.0, 12.5])
    monkeypatch.setattr(metrics.time, "perf_counter", lambda: next(clock))
    timer = d2l.Timer()  # starts at 10.0
    assert timer.stop() == 0.5  # 10.5
    timer.start()  # 11.0
    assert timer.stop() == 1.5  # 12.5
    assert timer.sum() == 2.0 and timer.avg() == 1.0 and timer.cumsum() == [0.5, 2.0]


def test_timer_avg_without_times_is_a_clear_error():
    with pytest.raises(ValueError, match="no time recorded yet"):
        d2l.Timer().avg()


def test_evaluate_accuracy_uses_eval_mode_and_restores_it():
    X, y = classification_data()
    net = small_net(dropout=0.9)
    net.train()
    with torch.no_grad():
        net.eval()
        expected = float((net(X).argmax(dim=1) == y).float().mean())
        net.train()
    assert d2l.evaluate_accuracy(net, batches(X, y)) == pytest.approx(expected)
    assert net.training  # the previous mode is back


def test_evaluate_accuracy_of_a_plain_function():
    X, y = classification_data()
    W = torch.randn(8, 3)
    expected = float(((X @ W).argmax(dim=1) == y).float().mean())
    assert d2l.evaluate_accuracy(lambda X: X @ W, batches(X, y, 25)) == pytest.approx(expected)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_evaluate_loss_is_the_mean_whatever_the_reduction(reduction):
    X, y = classification_data(n=90)
    net = small_net()
    with torch.no_grad():
        expected = float(nn.functional.cross_entropy(net(X), y))
    got = d2l.evaluate_loss(net, batches(X, y, 32), nn.CrossEntropyLoss(reduction=reduction))
    assert got == pytest.approx(expected, rel=1e-5)  # 32 + 32 + 26: unequal batches


def test_evaluate_loss_with_squared_loss_reshapes_labels():
    X, y = torch.randn(20, 2), torch.randn(20)
    w, b = torch.randn(2, 1), torch.zeros(1)
    expected = float(((X @ w + b - y.reshape(-1, 1)) ** 2 / 2).mean())
    got = d2l.evaluate_loss(lambda X: d2l.linreg(X, w, b), batches(X, y, 8), d2l.squared_loss)
    assert got == pytest.approx(expected, rel=1e-5)


def test_evaluators_reject_empty_data():
    with pytest.raises(ValueError, match="yielded no examples"):
        d2l.evaluate_accuracy(small_net(), [])


def test_predict_ch3_titles_true_and_predicted_labels():
    import matplotlib.pyplot as plt

    X = torch.rand(8, 1, 28, 28)
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    net = lambda X: nn.functional.one_hot(torch.full((len(X),), 9), 10).float()  # noqa: E731
    try:
        axes = d2l.predict_ch3(net, [(X, y)], n=3)
        assert [ax.get_title() for ax in axes] == [
            "t-shirt\nankle boot",
            "trouser\nankle boot",
            "pullover\nankle boot",
        ]
        torch.testing.assert_close(torch.as_tensor(axes[1].get_images()[0].get_array()), X[1, 0])
    finally:
        plt.close("all")


def test_predict_ch3_puts_a_module_in_eval_mode():
    import matplotlib.pyplot as plt

    X, y = torch.rand(4, 1, 28, 28), torch.zeros(4, dtype=torch.long)
    net = nn.Sequential(nn.Flatten(), nn.Dropout(0.999), nn.Linear(784, 10))
    with torch.no_grad():
        net[2].weight.zero_()
        net[2].bias.copy_(torch.arange(10.0))  # with dropout off every prediction is 9
    try:
        axes = d2l.predict_ch3(net, [(X, y)], n=4)
        assert all(ax.get_title().endswith("\nankle boot") for ax in axes)
        assert net.training
    finally:
        plt.close("all")


def test_evaluation_follows_the_module_device():
    X, y = classification_data()
    net = DeviceSpy()
    d2l.evaluate_accuracy(net, batches(X, y))
    assert net.moved_to == []  # evaluating never relocates the model
    assert net.batch_devices == {torch.device("cpu")}
