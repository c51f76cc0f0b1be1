"""Classification on the class API (d2l.ai 1.0, §4.2-4.5): FashionMNIST, Classifier, Softmax."""

import pytest
import torch
from torch.nn import functional as F

import d2lcompute as d2l


def test_classifier_accuracy_and_loss_by_hand():
    model = d2l.Classifier()
    Y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    Y = torch.tensor([1, 1, 1])
    assert float(model.accuracy(Y_hat, Y)) == pytest.approx(2 / 3)
    assert model.accuracy(Y_hat, Y, averaged=False).tolist() == [1.0, 0.0, 1.0]
    torch.testing.assert_close(model.loss(Y_hat, Y), F.cross_entropy(Y_hat, Y))
    assert model.loss(Y_hat, Y, averaged=False).shape == (3,)
    with pytest.raises(
        ValueError, match=r"Y must hold one label per row of Y_hat: Y_hat has 3 rows"
    ):
        model.accuracy(Y_hat, torch.tensor([1, 1]))


def test_layer_summary_prints_each_output_shape(capsys):
    model = d2l.SoftmaxRegression(num_outputs=10, lr=0.1)
    model(torch.zeros(1, 1, 28, 28))  # lazy layers take their shapes
    model.layer_summary((2, 1, 28, 28))
    assert capsys.readouterr().out.splitlines() == [
        "Flatten output shape:\t torch.Size([2, 784])",
        "Linear output shape:\t torch.Size([2, 10])",
    ]


def test_fashion_mnist_serves_the_same_batches_as_the_chinese_edition(real_data_dir):
    data = d2l.FashionMNIST(batch_size=256, root=real_data_dir, num_workers=8)
    assert (len(data.train), len(data.val)) == (60000, 10000)
    torch.manual_seed(0)
    X, y = next(iter(data.train_dataloader()))
    torch.manual_seed(0)
    train_iter, _ = d2l.load_data_fashion_mnist(256, data_dir=real_data_dir)
    X_zh, y_zh = next(iter(train_iter))
    assert torch.equal(X, X_zh) and torch.equal(y, y_zh)
    assert X.shape == (256, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert data.text_labels([0, 9]) == ["t-shirt", "ankle boot"]


def test_fashion_mnist_resizes_and_uses_the_data_folder_variable(real_data_dir, monkeypatch):
    monkeypatch.setenv("D2LCOMPUTE_DATA_DIR", str(real_data_dir))
    data = d2l.FashionMNIST(batch_size=8, resize=(32, 32))
    X, _ = next(iter(data.val_dataloader()))
    assert X.shape == (8, 1, 32, 32)
    import matplotlib.pyplot as plt

    assert data.visualize((X, torch.arange(8)), nrows=2, ncols=4) is None
    assert [ax.get_title() for ax in plt.gcf().axes[:2]] == ["t-shirt", "trouser"]


def test_softmax_regression_learns_on_fashion_mnist(real_data_dir):
    torch.manual_seed(0)
    data = d2l.FashionMNIST(batch_size=256, root=real_data_dir)
    model = d2l.SoftmaxRegression(num_outputs=10, lr=0.1)
    d2l.Trainer(max_epochs=1).fit(model, data)
    assert list(model.board.data) == ["train_loss", "val_loss", "val_acc"]
    assert model.board.data["val_acc"][-1].y > 0.7  # the book reaches about 0.8 after 10 epochs
