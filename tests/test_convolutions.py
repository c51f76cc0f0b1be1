"""The convolution chapter's saved functions (zh ch. 6, en ch. 7): corr2d to train_ch6."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lcompute as d2l
from d2lcompute import trainer


def test_corr2d_is_the_books_cross_correlation():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert d2l.corr2d(X, K).tolist() == [[19.0, 25.0], [37.0, 43.0]]  # the book's figure


def test_corr2d_matches_conv2d_and_passes_gradients():
    X = torch.randn(7, 9, requires_grad=True)
    K = torch.randn(3, 2, requires_grad=True)
    Y = d2l.corr2d(X, K)
    torch.testing.assert_close(Y, F.conv2d(X[None, None], K[None, None])[0, 0])
    Y.sum().backward()
    assert X.grad is not None and K.grad is not None
    # the book's edge detector: [1, -1] marks where a row changes from 1 to 0 and back
    edges = torch.ones(6, 8)
    edges[:, 2:6] = 0
    assert d2l.corr2d(edges, torch.tensor([[1.0, -1.0]]))[0].tolist() == [0, 1, 0, 0, 0, -1, 0]


def test_the_channels_sections_cell_runs_on_corr2d():
    def corr2d_multi_in(X, K):  # the book's cell, as written
        return sum(d2l.corr2d(x, k) for x, k in zip(X, K))

    X = torch.stack([torch.arange(9.0), torch.arange(1.0, 10.0)]).reshape(2, 3, 3)  # the book's
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    assert corr2d_multi_in(X, K).tolist() == [[56.0, 72.0], [104.0, 120.0]]


@pytest.mark.parametrize(
    "X, K, message",
    [
        (torch.ones(2, 2, 2), torch.ones(1, 1), r"X must be a 2-D tensor \(height, width\), got"),
        (torch.ones(3, 3), [[1.0]], r"K must be a 2-D tensor \(height, width\), got list"),
        (torch.ones(2, 3), torch.ones(3, 1), r"K must be non-empty and fit in X: X has shape"),
    ],
)
def test_corr2d_says_what_shapes_it_takes(X, K, message):
    with pytest.raises(ValueError, match=message):
        d2l.corr2d(X, K)


def test_init_cnn_sets_xavier_weights_of_linear_and_conv_layers_only():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.Flatten(), nn.Linear(96, 10))
    for p in net.parameters():
        nn.init.constant_(p, 7.0)
    net.apply(d2l.init_cnn)
    conv, norm, _, linear = net
    for layer, fan_in, fan_out in [(conv, 25, 150), (linear, 96, 10)]:
        bound = (6 / (fan_in + fan_out)) ** 0.5
        assert layer.weight.abs().max() <= bound and layer.weight.std() > bound / 4
        assert torch.all(layer.bias == 7.0)  # the book leaves the biases alone
    assert torch.all(norm.weight == 7.0)


def test_lenet_has_the_books_shapes(capsys):
    model = d2l.LeNet()
    model.apply_init([torch.zeros(2, 1, 28, 28)], d2l.init_cnn)
    model.layer_summary((1, 1, 28, 28))
    shapes = [line.split("\t ")[1] for line in capsys.readouterr().out.splitlines()]
    assert shapes[0] == "torch.Size([1, 6, 28, 28])" and shapes[3] == "torch.Size([1, 16, 10, 10])"
    assert shapes[6] == "torch.Size([1, 400])" and shapes[-1] == "torch.Size([1, 10])"
    assert sum(p.numel() for p in model.parameters()) == 61_706
    with pytest.raises(ValueError, match="lr"):
        d2l.LeNet(lr=-1)


def _halves(n, seed):
    """Images whose class says which half is bright: learnable in a few epochs."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    X = torch.rand(n, 1, 8, 8, generator=g) * 0.2
    X[y == 0, :, :, :4] += 1
    X[y == 1, :, :, 4:] += 1
    return X, y


def test_evaluate_accuracy_gpu_counts_right_answers_on_the_nets_device():
    X, y = _halves(50, seed=1)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    expected = float((net(X).argmax(1) == y).float().mean())
    loader = d2l.load_array((X, y), 16, is_train=False)
    assert d2l.evaluate_accuracy_gpu(net, loader) == pytest.approx(expected)


def test_train_ch6_trains_on_the_one_loop(monkeypatch, capsys):
    fits = []
    fit = trainer.Trainer.fit
    monkeypatch.setattr(trainer.Trainer, "fit", lambda self, *a: fits.append(1) or fit(self, *a))
    torch.manual_seed(0)
    train_iter = d2l.load_array(_halves(256, seed=2), 32)
    test_iter = d2l.load_array(_halves(128, seed=3), 64, is_train=False)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 2))
    history = d2l.train_ch6(net, train_iter, test_iter, 3, 0.5, device="cpu")
    out = capsys.readouterr().out.splitlines()
    assert fits == [1] and history["epoch"] == [1, 2, 3]
    assert history["test_acc"][-1] > 0.95
    assert out[0] == "training on cpu"
    assert out[1] == (
        f"loss {history['train_loss'][-1]:.3f}, train acc {history['train_acc'][-1]:.3f}, "
        f"test acc {history['test_acc'][-1]:.3f}"
    )
    assert out[2].endswith("examples/sec on cpu")
    with pytest.raises(TypeError, match="net must be"):
        d2l.train_ch6(lambda X: X, train_iter, test_iter, 1, 0.5)
