"""The Chinese edition's loop (d2lcompute.classic_loop): train_ch3 and co. on Trainer.fit."""

import pytest
import torch
from torch import nn
from torch.utils import data
from training_helpers import DeviceSpy, assert_same_params, batches, classification_data, small_net

import d2lcompute as d2l


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
    X, y = classification_data()
    net, ref = small_net(), small_net()
    loss = nn.CrossEntropyLoss(reduction="none")
    got = d2l.train_epoch_ch3(
        net, batches(X, y), loss, torch.optim.SGD(net.parameters(), lr=0.3), device="cpu"
    )
    expected = _reference_epoch(ref, batches(X, y), loss, torch.optim.SGD(ref.parameters(), lr=0.3))
    assert got == pytest.approx(expected, rel=1e-6)
    assert_same_params(net, ref)


def test_train_epoch_with_custom_updater_matches_optimizer():
    X, y = classification_data()
    net, ref = small_net(), small_net()
    loss = nn.CrossEntropyLoss(reduction="none")
    calls = []

    def updater(batch_size):
        calls.append(batch_size)
        d2l.sgd(net.parameters(), 0.3, batch_size)

    got = d2l.train_epoch_ch3(net, batches(X, y, 40), loss, updater, device="cpu")
    expected = _reference_epoch(
        ref, batches(X, y, 40), loss, torch.optim.SGD(ref.parameters(), lr=0.3)
    )
    assert calls == [40, 40, 16]
    assert got == pytest.approx(expected, rel=1e-5)
    assert_same_params(net, ref)


@pytest.mark.parametrize("kind", ["optimizer", "updater"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_train_epoch_with_batch_reduced_loss_matches_per_example_loss(kind, reduction):
    # the book's 4.6 passes nn.CrossEntropyLoss() (reduction='mean'): the reported loss
    # must be the per-example mean, not the batch mean divided by the batch size again
    X, y = classification_data()
    net, ref = small_net(), small_net()

    def make_updater(model):
        if kind == "optimizer":
            return torch.optim.SGD(model.parameters(), lr=0.2)
        return lambda batch_size: d2l.sgd(model.parameters(), 0.2, batch_size)

    got = d2l.train_epoch_ch3(
        net,
        batches(X, y),
        nn.CrossEntropyLoss(reduction=reduction),
        make_updater(net),
        device="cpu",
    )
    expected = d2l.train_epoch_ch3(
        ref, batches(X, y), nn.CrossEntropyLoss(reduction="none"), make_updater(ref), device="cpu"
    )
    assert got == pytest.approx(expected, rel=1e-5)
    assert_same_params(net, ref)


def test_train_epoch_scratch_function_net_with_sgd_lowers_the_loss():
    X, y = classification_data()
    W = torch.zeros(8, 3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    net = lambda X: X @ W + b  # noqa: E731 -- the book's scratch style
    loss = nn.CrossEntropyLoss(reduction="none")
    first = d2l.train_epoch_ch3(net, batches(X, y), loss, lambda n: d2l.sgd([W, b], 0.5, n))
    for _ in range(5):
        last = d2l.train_epoch_ch3(net, batches(X, y), loss, lambda n: d2l.sgd([W, b], 0.5, n))
    assert last[0] < first[0] and last[1] > 0.6


def test_train_epoch_rejects_bad_updater():
    with pytest.raises(TypeError, match="updater must be a torch.optim.Optimizer"):
        d2l.train_epoch_ch3(small_net(), [], nn.CrossEntropyLoss(), updater=0.1)


def test_train_ch3_is_headless_and_returns_the_history(capsys):
    X, y = classification_data()
    net = small_net()
    history = d2l.train_ch3(
        net,
        batches(X, y),
        batches(X, y),
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
    assert history["test_acc"][-1] == pytest.approx(d2l.evaluate_accuracy(net, batches(X, y)))
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
    net = small_net()
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
    X, y = classification_data(n=200)
    net = small_net(dropout=0.5, seed=None)
    # initial weights, a shuffling DataLoader and dropout all draw from the seeded generators
    train_iter = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True)
    history = d2l.train_ch3(
        net,
        train_iter,
        batches(X, y),
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


def test_training_defaults_to_try_gpu_for_modules(monkeypatch):
    chosen = []

    def fake_try_gpu(i=0):  # what a GPU machine would answer, played by the CPU
        chosen.append(i)
        return torch.device("cpu")

    from d2lcompute import classic_loop

    monkeypatch.setattr(classic_loop, "try_gpu", fake_try_gpu)
    X, y = classification_data()
    net = DeviceSpy()
    d2l.train_epoch_ch3(
        net,
        batches(X, y),
        nn.CrossEntropyLoss(reduction="none"),
        torch.optim.SGD(net.parameters(), lr=0.1),
    )
    assert chosen == [0] and net.moved_to == [torch.device("cpu")]
    assert net.batch_devices == {torch.device("cpu")}

    # an explicit device wins; a plain function is never moved (it has nothing to move)
    chosen.clear()
    d2l.train_epoch_ch3(
        net,
        batches(X, y),
        nn.CrossEntropyLoss(reduction="none"),
        torch.optim.SGD(net.parameters(), lr=0.1),
        device="cpu",
    )
    W = torch.zeros(8, 3, requires_grad=True)
    d2l.train_epoch_ch3(
        lambda X: X @ W,
        batches(X, y),
        nn.CrossEntropyLoss(reduction="none"),
        lambda n: d2l.sgd([W], 0.1, n),
    )
    assert chosen == []


def test_try_gpu_default_is_the_real_one():
    from d2lcompute import classic_loop, devices

    assert classic_loop.try_gpu is devices.try_gpu


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


def _train_ch3_two_epochs():
    """train_ch3 for 2 epochs of the small 3-class problem (3 batches each), on the CPU."""
    X, y = classification_data()
    net = small_net()
    return d2l.train_ch3(
        net,
        batches(X, y),
        batches(X, y),
        nn.CrossEntropyLoss(),
        2,
        torch.optim.SGD(net.parameters(), lr=0.5),
        device="cpu",
    )


def test_train_ch3_stops_when_the_loss_diverges():
    X, y = classification_data()
    net = small_net()
    with pytest.raises(
        d2l.errors.DivergenceError, match=r"training diverged at epoch \d, batch \d"
    ) as info:
        d2l.train_ch3(
            net,
            batches(X, y),
            batches(X, y),
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
    from d2lcompute.live import figure

    positions = []
    monkeypatch.setattr(figure, "output_mode", lambda: "terminal")
    original = figure.LiveFigure.update
    monkeypatch.setattr(
        figure.LiveFigure,
        "update",
        lambda self, x, *args: positions.append(x) or original(self, x, *args),
    )
    _train_ch3_two_epochs()  # 3 batches per epoch
    assert positions[:2] == [pytest.approx(1 / 3), pytest.approx(2 / 3)]


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
    X, y = classification_data()
    loss = nn.CrossEntropyLoss()

    def run(num_epochs, path):
        net = small_net(dropout=0.3)  # dropout: the restored random state matters
        updater = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
        loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32, shuffle=True)
        history = d2l.train_ch3(
            net, loader, batches(X, y), loss, num_epochs, updater, "cpu", checkpoint=path
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
    X, y = classification_data()
    net, loss = small_net(), nn.CrossEntropyLoss()
    updater = torch.optim.SGD(net.parameters(), lr=0.1)
    d2l.train_epoch_ch3(net, batches(X, y), loss, updater, "cpu")
    (_, model, trainer) = vars(net)["_d2l_train_epoch_ch3"]
    d2l.train_epoch_ch3(net, batches(X, y), loss, updater, "cpu")
    assert vars(net)["_d2l_train_epoch_ch3"][1:] == (model, trainer)  # not rebuilt
    assert "_d2l_train_epoch_ch3" not in net.state_dict() and len(net.state_dict()) == 4
    d2l.train_epoch_ch3(net, batches(X, y), nn.CrossEntropyLoss(), updater, "cpu")
    assert vars(net)["_d2l_train_epoch_ch3"][1] is not model  # another loss: another adapter
