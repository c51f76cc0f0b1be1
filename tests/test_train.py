import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils import data

import d2lcompute as d2l
from d2lcompute import train

# ---- tiny fixtures: a 3-class problem small enough to train in milliseconds ----------------


def _classification_data(n=96, num_inputs=8, num_classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, num_inputs, generator=g)
    y = (X[:, :num_classes].argmax(dim=1)).long()  # learnable labels
    return X, y


def _batches(X, y, batch_size=32):
    """A fixed, re-iterable list of batches: the oracle loops see exactly the same ones."""
    return [(X[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(X), batch_size)]


def _small_net(dropout=0.0, seed=0):
    """Two nets made with the same seed start equal; seed=None draws from the global RNG."""
    if seed is not None:
        torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))


def _assert_same_params(net_a, net_b):
    for (name, a), b in zip(net_a.named_parameters(), net_b.parameters()):
        torch.testing.assert_close(a, b, msg=name)


# ---- linear regression pieces ----------------------------------------------------------------


def test_linreg_is_matmul_plus_bias():
    X, w, b = torch.randn(5, 3), torch.randn(3, 1), torch.tensor([0.5])
    expected = torch.stack([sum(X[i, j] * w[j, 0] for j in range(3)) + 0.5 for i in range(5)])
    torch.testing.assert_close(d2l.linreg(X, w, b), expected.reshape(5, 1))


def test_squared_loss_by_hand_and_against_mse():
    y_hat = torch.tensor([[1.0], [3.0], [-2.0]])
    y = torch.tensor([2.0, 3.0, 0.0])  # (n,) labels are reshaped to (n, 1)
    torch.testing.assert_close(d2l.squared_loss(y_hat, y), torch.tensor([[0.5], [0.0], [2.0]]))
    a, b = torch.randn(7, 1), torch.randn(7)
    torch.testing.assert_close(
        d2l.squared_loss(a, b), nn.functional.mse_loss(a, b.reshape(7, 1), reduction="none") / 2
    )


@pytest.mark.parametrize("lr", [0.03, 0.5])
def test_sgd_step_equals_torch_sgd(lr):
    X, y = torch.randn(10, 4), torch.randn(10)
    w = torch.randn(4, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    w_ref, b_ref = w.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()

    d2l.squared_loss(d2l.linreg(X, w, b), y).sum().backward()
    d2l.sgd([w, b], lr, batch_size=10)

    optimizer = torch.optim.SGD([w_ref, b_ref], lr=lr)
    d2l.squared_loss(d2l.linreg(X, w_ref, b_ref), y).mean().backward()
    optimizer.step()

    torch.testing.assert_close(w, w_ref)
    torch.testing.assert_close(b, b_ref)
    assert torch.all(w.grad == 0) and torch.all(b.grad == 0)  # ready for the next batch


def test_sgd_rejects_parameter_without_gradient_and_bad_batch_size():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"params\[0\] .* has no gradient"):
        d2l.sgd([w], 0.1, 4)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got batch_size=0"):
        d2l.sgd([w], 0.1, 0)


# ---- counting helpers ------------------------------------------------------------------------


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
    monkeypatch.setattr(train.time, "perf_counter", lambda: next(clock))
    timer = d2l.Timer()  # starts at 10.0
    assert timer.stop() == 0.5  # 10.5
    timer.start()  # 11.0
    assert timer.stop() == 1.5  # 12.5
    assert timer.sum() == 2.0 and timer.avg() == 1.0 and timer.cumsum() == [0.5, 2.0]


def test_timer_avg_without_times_is_a_clear_error():
    with pytest.raises(ValueError, match="no time recorded yet"):
        d2l.Timer().avg()


# ---- evaluation ------------------------------------------------------------------------------


def test_evaluate_accuracy_uses_eval_mode_and_restores_it():
    X, y = _classification_data()
    net = _small_net(dropout=0.9)
    net.train()
    with torch.no_grad():
        net.eval()
        expected = float((net(X).argmax(dim=1) == y).float().mean())
        net.train()
    assert d2l.evaluate_accuracy(net, _batches(X, y)) == pytest.approx(expected)
    assert net.training  # the previous mode is back


def test_evaluate_accuracy_of_a_plain_function():
    X, y = _classification_data()
    W = torch.randn(8, 3)
    expected = float(((X @ W).argmax(dim=1) == y).float().mean())
    assert d2l.evaluate_accuracy(lambda X: X @ W, _batches(X, y, 25)) == pytest.approx(expected)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_evaluate_loss_is_the_mean_whatever_the_reduction(reduction):
    X, y = _classification_data(n=90)
    net = _small_net()
    with torch.no_grad():
        expected = float(nn.functional.cross_entropy(net(X), y))
    got = d2l.evaluate_loss(net, _batches(X, y, 32), nn.CrossEntropyLoss(reduction=reduction))
    assert got == pytest.approx(expected, rel=1e-5)  # 32 + 32 + 26: unequal batches


def test_evaluate_loss_with_squared_loss_reshapes_labels():
    X, y = torch.randn(20, 2), torch.randn(20)
    w, b = torch.randn(2, 1), torch.zeros(1)
    expected = float(((X @ w + b - y.reshape(-1, 1)) ** 2 / 2).mean())
    got = d2l.evaluate_loss(lambda X: d2l.linreg(X, w, b), _batches(X, y, 8), d2l.squared_loss)
    assert got == pytest.approx(expected, rel=1e-5)


def test_evaluators_reject_empty_data():
    with pytest.raises(ValueError, match="yielded no examples"):
        d2l.evaluate_accuracy(_small_net(), [])


# ---- training --------------------------------------------------------------------------------


def _reference_epoch(net, batches, loss, optimizer):
    """The book's loop written out by hand: the oracle for train_epoch_ch3."""
    net.train()
    total, correct, n = 0.0, 0, 0
    for X, y in batches:
        y_hat = net(X)
        l = loss(y_hat, y)
        optimizer.zero_grad()
        l.mean().backward()
        optimizer.step()
        total += float(l.detach().sum())
        correct += int((y_hat.argmax(dim=1) == y).sum())
        n += len(y)
    return total / n, correct / n


def test_train_epoch_with_optimizer_matches_hand_written_loop():
    X, y = _classification_data()
    net, ref = _small_net(), _small_net()
    loss = nn.CrossEntropyLoss(reduction="none")
    got = d2l.train_epoch_ch3(
        net, _batches(X, y), loss, torch.optim.SGD(net.parameters(), lr=0.3), device="cpu"
    )
    expected = _reference_epoch(
        ref, _batches(X, y), loss, torch.optim.SGD(ref.parameters(), lr=0.3)
    )
    assert got == pytest.approx(expected, rel=1e-6)
    _assert_same_params(net, ref)


def test_train_epoch_with_custom_updater_matches_optimizer():
    X, y = _classification_data()
    net, ref = _small_net(), _small_net()
    loss = nn.CrossEntropyLoss(reduction="none")
    calls = []

    def updater(batch_size):
        calls.append(batch_size)
        d2l.sgd(net.parameters(), 0.3, batch_size)

    got = d2l.train_epoch_ch3(net, _batches(X, y, 40), loss, updater, device="cpu")
    expected = _reference_epoch(
        ref, _batches(X, y, 40), loss, torch.optim.SGD(ref.parameters(), lr=0.3)
    )
    assert calls == [40, 40, 16]
    assert got == pytest.approx(expected, rel=1e-5)
    _assert_same_params(net, ref)


@pytest.mark.parametrize("kind", ["optimizer", "updater"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_train_epoch_with_batch_reduced_loss_matches_per_example_loss(kind, reduction):
    # the book's 4.6 passes nn.CrossEntropyLoss() (reduction='mean'): the reported loss
    # must be the per-example mean, not the batch mean divided by the batch size again
    X, y = _classification_data()
    net, ref = _small_net(), _small_net()

    def make_updater(model):
        if kind == "optimizer":
            return torch.optim.SGD(model.parameters(), lr=0.2)
        return lambda batch_size: d2l.sgd(model.parameters(), 0.2, batch_size)

    got = d2l.train_epoch_ch3(
        net,
        _batches(X, y),
        nn.CrossEntropyLoss(reduction=reduction),
        make_updater(net),
        device="cpu",
    )
    expected = d2l.train_epoch_ch3(
        ref, _batches(X, y), nn.CrossEntropyLoss(reduction="none"), make_updater(ref), device="cpu"
    )
    assert got == pytest.approx(expected, rel=1e-5)
    _assert_same_params(net, ref)


def test_train_epoch_scratch_function_net_with_sgd_lowers_the_loss():
    X, y = _classification_data()
    W = torch.zeros(8, 3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    net = lambda X: X @ W + b  # noqa: E731 -- the book's scratch style
    loss = nn.CrossEntropyLoss(reduction="none")
    first = d2l.train_epoch_ch3(net, _batches(X, y), loss, lambda n: d2l.sgd([W, b], 0.5, n))
    for _ in range(5):
        last = d2l.train_epoch_ch3(net, _batches(X, y), loss, lambda n: d2l.sgd([W, b], 0.5, n))
    assert last[0] < first[0] and last[1] > 0.6


def test_train_epoch_rejects_bad_updater():
    with pytest.raises(TypeError, match="updater must be a torch.optim.Optimizer"):
        d2l.train_epoch_ch3(_small_net(), [], nn.CrossEntropyLoss(), updater=0.1)


def test_train_ch3_is_headless_and_returns_the_history(capsys):
    X, y = _classification_data()
    net = _small_net()
    history = d2l.train_ch3(
        net,
        _batches(X, y),
        _batches(X, y),
        nn.CrossEntropyLoss(reduction="none"),
        3,
        torch.optim.SGD(net.parameters(), lr=0.5),
        device="cpu",
    )
    assert capsys.readouterr().out == ""
    assert history["epoch"] == [1, 2, 3]
    assert set(history) == {"epoch", "train_loss", "train_acc", "test_acc", "seconds"}
    assert all(len(v) == 3 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_acc"][-1] == pytest.approx(d2l.evaluate_accuracy(net, _batches(X, y)))
    assert all(s > 0 for s in history["seconds"])


@pytest.mark.parametrize(
    "num_epochs, error, message",
    [
        (0, ValueError, "num_epochs must be >= 1, got num_epochs=0"),
        (-2, ValueError, "num_epochs must be >= 1, got num_epochs=-2"),
        (2.5, TypeError, "num_epochs must be an integer, got num_epochs=2.5"),
    ],
)
def test_train_ch3_rejects_bad_num_epochs(num_epochs, error, message):
    net = _small_net()
    with pytest.raises(error, match=message):
        d2l.train_ch3(
            net,
            [],
            [],
            nn.CrossEntropyLoss(),
            num_epochs,
            torch.optim.SGD(net.parameters(), lr=0.1),
        )


def _seeded_history(seed):
    d2l.set_seed(seed)
    X, y = _classification_data(n=200)
    net = _small_net(dropout=0.5, seed=None)
    # initial weights, a shuffling DataLoader and dropout all draw from the seeded generators
    train_iter = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True)
    history = d2l.train_ch3(
        net,
        train_iter,
        _batches(X, y),
        nn.CrossEntropyLoss(reduction="none"),
        2,
        torch.optim.SGD(net.parameters(), lr=0.5),
        device="cpu",
    )
    return history["train_loss"], [p.detach().clone() for p in net.parameters()]


def test_set_seed_makes_training_reproducible():
    loss_a, params_a = _seeded_history(3)
    loss_b, params_b = _seeded_history(3)
    loss_c, _ = _seeded_history(4)
    assert loss_a == loss_b
    for a, b in zip(params_a, params_b):
        assert torch.equal(a, b)
    assert loss_a != loss_c  # the seed matters: the test can fail


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (2**32, ValueError), ("1", TypeError)])
def test_set_seed_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        d2l.set_seed(seed)


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


# ---- devices ---------------------------------------------------------------------------------


class _DeviceSpy(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 3)
        self.moved_to, self.batch_devices = [], set()

    def to(self, *args, **kwargs):
        self.moved_to.append(torch.device(args[0]))
        return super().to(*args, **kwargs)

    def forward(self, X):
        self.batch_devices.add(X.device)
        return self.linear(X)


def test_training_defaults_to_try_gpu_for_modules(monkeypatch):
    chosen = []

    def fake_try_gpu(i=0):  # what a GPU machine would answer, played by the CPU
        chosen.append(i)
        return torch.device("cpu")

    from d2lcompute import classic_loop

    monkeypatch.setattr(classic_loop, "try_gpu", fake_try_gpu)
    X, y = _classification_data()
    net = _DeviceSpy()
    d2l.train_epoch_ch3(
        net,
        _batches(X, y),
        nn.CrossEntropyLoss(reduction="none"),
        torch.optim.SGD(net.parameters(), lr=0.1),
    )
    assert chosen == [0] and net.moved_to == [torch.device("cpu")]
    assert net.batch_devices == {torch.device("cpu")}

    # an explicit device wins; a plain function is never moved (it has nothing to move)
    chosen.clear()
    d2l.train_epoch_ch3(
        net,
        _batches(X, y),
        nn.CrossEntropyLoss(reduction="none"),
        torch.optim.SGD(net.parameters(), lr=0.1),
        device="cpu",
    )
    W = torch.zeros(8, 3, requires_grad=True)
    d2l.train_epoch_ch3(
        lambda X: X @ W,
        _batches(X, y),
        nn.CrossEntropyLoss(reduction="none"),
        lambda n: d2l.sgd([W], 0.1, n),
    )
    assert chosen == []


def test_try_gpu_default_is_the_real_one():
    from d2lcompute import classic_loop, devices

    assert classic_loop.try_gpu is devices.try_gpu


def test_evaluation_follows_the_module_device():
    X, y = _classification_data()
    net = _DeviceSpy()
    d2l.evaluate_accuracy(net, _batches(X, y))
    assert net.moved_to == []  # evaluating never relocates the model
    assert net.batch_devices == {torch.device("cpu")}


# ---- real data -------------------------------------------------------------------------------


def test_train_ch3_one_epoch_on_fashion_mnist(real_data_dir):
    from d2lcompute import multilayer_perceptrons as mlp

    d2l.set_seed(0)
    train_iter, test_iter = d2l.load_data_fashion_mnist(256, data_dir=real_data_dir)
    net = mlp.mlp_concise()
    history = d2l.train_ch3(
        net,
        train_iter,
        test_iter,
        nn.CrossEntropyLoss(reduction="none"),
        1,
        torch.optim.SGD(net.parameters(), lr=0.1),
        device="cpu",
    )
    # one epoch of the 4.3 MLP: well above chance (0.1), still far from converged
    assert 0.6 < history["test_acc"][0] < 0.9
    assert 0.5 < history["train_loss"][0] < 1.5


@pytest.mark.slow
def test_dropout_mlp_reaches_book_accuracy(real_data_dir):
    from d2lcompute import dropout

    d2l.set_seed(0)
    train_iter, test_iter = d2l.load_data_fashion_mnist(256, data_dir=real_data_dir)
    net = dropout.dropout_mlp_concise()
    history = d2l.train_ch3(
        net,
        train_iter,
        test_iter,
        nn.CrossEntropyLoss(reduction="none"),
        10,
        torch.optim.SGD(net.parameters(), lr=0.5),
        device="cpu",
    )
    # the book's own bounds (train_ch3 asserted them), tested here instead
    assert history["train_loss"][-1] < 0.5 and 0.7 < history["train_acc"][-1] <= 1
    assert history["test_acc"][-1] > 0.83  # book: about 0.85 after 10 epochs


# ---- train_ch3 on the shared Trainer: divergence, history, display ----------------------------


def _train_ch3_two_epochs():
    """train_ch3 for 2 epochs of the small 3-class problem (3 batches each), on the CPU."""
    X, y = _classification_data()
    net = _small_net()
    return d2l.train_ch3(
        net,
        _batches(X, y),
        _batches(X, y),
        nn.CrossEntropyLoss(),
        2,
        torch.optim.SGD(net.parameters(), lr=0.5),
        device="cpu",
    )


def test_train_ch3_stops_when_the_loss_diverges():
    X, y = _classification_data()
    net = _small_net()
    with pytest.raises(
        d2l.errors.DivergenceError, match=r"training diverged at epoch \d, batch \d"
    ) as info:
        d2l.train_ch3(
            net,
            _batches(X, y),
            _batches(X, y),
            nn.CrossEntropyLoss(reduction="none"),
            3,
            torch.optim.SGD(net.parameters(), lr=1e9),
            device="cpu",
        )
    assert info.value.last_finite_loss is not None


def test_train_ch3_history_is_a_dict_with_a_one_line_repr():
    history = _train_ch3_two_epochs()
    assert isinstance(history, dict) and len(history["test_acc"]) == 2
    text = repr(history)
    assert "\n" not in text and text.startswith("History(2 epochs: train_loss ")
    assert f"test_acc {history['test_acc'][-1]:.4g}" in text


def test_train_ch3_in_a_log_prints_one_line_per_epoch_and_saves_the_figure(capsys):
    _train_ch3_two_epochs()
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and "\r" not in err and len(lines) == 4
    assert lines[0].startswith("epoch 1/2: train loss=") and "test acc=" in lines[0]
    assert lines[2].startswith("figure saved to ")
    assert lines[3].startswith("train_ch3: 2 epochs in ") and "test acc=" in lines[3]


def test_train_ch3_moves_a_terminal_bar_within_the_epoch(monkeypatch):
    from d2lcompute import live

    positions = []
    monkeypatch.setattr(live, "output_mode", lambda: "terminal")
    original = live.LiveFigure.update
    monkeypatch.setattr(
        live.LiveFigure,
        "update",
        lambda self, x, *args: positions.append(x) or original(self, x, *args),
    )
    _train_ch3_two_epochs()  # 3 batches per epoch
    assert positions[:2] == [pytest.approx(1 / 3), pytest.approx(2 / 3)]


@pytest.mark.parametrize("lr", [0, -0.1, float("inf")])
def test_sgd_refuses_a_learning_rate_that_is_not_positive_and_finite(lr):
    w = torch.ones(2, requires_grad=True)
    w.sum().backward()
    with pytest.raises(ValueError, match=r"lr must be (> 0|finite), got lr="):
        d2l.sgd([w], lr, 1)


def test_train_ch3_in_a_script_whose_output_is_a_log(tmp_path):
    """As `python train.py > log 2>&1` runs it: plain lines, a summary, the figure's path."""
    import os
    import subprocess
    import sys

    script = tmp_path / "train.py"
    script.write_text(
        "import torch\nfrom torch import nn\nimport d2lcompute as d2l\n"
        "torch.manual_seed(0)\n"
        "X, y = torch.randn(96, 8), torch.randint(0, 3, (96,))\n"
        "train_iter = d2l.load_array((X, y), 32)\n"
        "net = nn.Sequential(nn.Linear(8, 3))\n"
        "d2l.train_ch3(net, train_iter, train_iter, nn.CrossEntropyLoss(), 2,\n"
        "              torch.optim.SGD(net.parameters(), lr=0.1), device='cpu')\n"
        "print('next print')\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "D2LCOMPUTE_FIGURE_DIR": str(tmp_path / "figs")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "next print\n" and "\r" not in result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["epoch 1/2", "epoch 2/2"]
    assert lines[2].startswith("figure saved to ") and (tmp_path / "figs").is_dir()
    assert lines[3].startswith("train_ch3: 2 epochs in ") and "test acc=" in lines[3]


def test_train_ch3_resumes_from_its_checkpoint_to_the_uninterrupted_result(tmp_path):
    X, y = _classification_data()
    loss = nn.CrossEntropyLoss()

    def run(num_epochs, path):
        net = _small_net(dropout=0.3)  # dropout: the restored random state matters
        updater = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
        loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True)
        history = d2l.train_ch3(
            net, loader, _batches(X, y), loss, num_epochs, updater, "cpu", checkpoint=path
        )
        return net, history

    straight, expected = run(3, tmp_path / "a.pt")
    run(1, tmp_path / "b.pt")
    torch.manual_seed(99)  # another process would start from another state
    resumed, history = run(3, tmp_path / "b.pt")
    for (name, a), b in zip(straight.named_parameters(), resumed.parameters()):
        assert torch.equal(a, b), name
    for key in ("epoch", "train_loss", "train_acc", "test_acc"):
        assert history[key] == expected[key]


def test_train_epoch_ch3_builds_its_adapter_once_per_net_loss_and_updater():
    X, y = _classification_data()
    net, loss = _small_net(), nn.CrossEntropyLoss()
    updater = torch.optim.SGD(net.parameters(), lr=0.1)
    d2l.train_epoch_ch3(net, _batches(X, y), loss, updater, "cpu")
    (_, model, trainer) = vars(net)["_d2l_train_epoch_ch3"]
    d2l.train_epoch_ch3(net, _batches(X, y), loss, updater, "cpu")
    assert vars(net)["_d2l_train_epoch_ch3"][1:] == (model, trainer)  # not rebuilt
    assert "_d2l_train_epoch_ch3" not in net.state_dict() and len(net.state_dict()) == 4
    d2l.train_epoch_ch3(net, _batches(X, y), nn.CrossEntropyLoss(), updater, "cpu")
    assert vars(net)["_d2l_train_epoch_ch3"][1] is not model  # another loss: another adapter
