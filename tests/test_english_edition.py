"""The English edition (d2l.ai 1.0) as readers run it: book cells with ``import d2lcompute as d2l``.

Two parts. ``BOOK_NAMES`` is the inventory of every ``d2l.<name>`` that the PyTorch cells of
chapters 3-6 (linear regression, classification, multilayer perceptrons, builders' guide)
call, section by section; each must exist. Then short cell sequences written as the chapters
write them (subclass ``d2l.Module``, replace methods with ``d2l.add_to_class``, fit with
``d2l.Trainer``) run end to end on tiny data, and their results are checked.

Book cells mutate the package's classes (``@d2l.add_to_class(d2l.Trainer)`` replaces
``fit_epoch`` for everyone); the autouse fixture ``restore_book_classes`` undoes that after
each test, so the order of the tests does not matter.
"""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import d2lcompute as d2l

# section -> the d2l.<name>s its PyTorch cells use (d2l-en, release 1.0; `%%tab pytorch` and
# `%%tab all` cells). Names a cell defines for itself (e.g. §6.7's cpu/gpu) are not listed
# unless a later cell calls them through d2l.
BOOK_NAMES = {
    "3.1 linear regression": "ones zeros plot",
    "3.2 object-oriented design": (
        "add_to_class HyperParameters ProgressBoard nn_Module Module DataModule "
        "Trainer numpy to cpu"
    ),
    "3.3 synthetic regression data": "DataModule randn matmul reshape tensor add_to_class",
    "3.4 linear regression from scratch": (
        "Module normal zeros add_to_class matmul reduce_mean HyperParameters "
        "Trainer SyntheticRegressionData tensor reshape"
    ),
    "3.5 concise linear regression": (
        "Module add_to_class SyntheticRegressionData Trainer tensor reshape"
    ),
    "3.7 weight decay": (
        "DataModule randn ones matmul reduce_sum LinearRegressionScratch LinearRegression Trainer"
    ),
    "4.2 image classification dataset": "use_svg_display DataModule add_to_class show_images",
    "4.3 base classification model": (
        "Module add_to_class reshape astype argmax float32 reduce_mean SGD"
    ),
    "4.4 softmax regression from scratch": (
        "tensor reduce_sum exp rand Classifier add_to_class reshape matmul "
        "reduce_mean log FashionMNIST Trainer argmax astype"
    ),
    "4.5 concise softmax regression": "Classifier add_to_class reshape FashionMNIST Trainer",
    "5.1 multilayer perceptrons": "plot",
    "5.2 MLP implementation": "Classifier add_to_class reshape matmul FashionMNIST Trainer",
    "5.4 numerical stability": "plot",
    "5.6 dropout": "Classifier FashionMNIST Trainer",
    # d2l.extract, also called here, is issue 8's download/extract part (not in this list yet)
    "5.7 Kaggle house prices": (
        "DataModule download DATA_URL add_to_class tensor float32 reshape log "
        "LinearRegression Trainer reduce_mean exp concat numpy"
    ),
    "6.4 lazy initialization": "add_to_class Module",
    "6.5 custom layers": "tensor rand",
    "6.7 GPUs": "add_to_class Trainer gpu num_gpus to",
}
# 6.1-6.3 and 6.6 (layers and modules, parameters, initialization, file I/O) call plain torch.

INVENTORY = sorted({name for names in BOOK_NAMES.values() for name in names.split()})


@pytest.mark.parametrize("name", INVENTORY)
def test_every_name_the_chapters_call_exists(name):
    assert name in d2l.__all__
    assert getattr(d2l, name) is not None


# ---- fixtures ------------------------------------------------------------------------------------

BOOK_CLASSES = (
    "HyperParameters",
    "ProgressBoard",
    "Module",
    "DataModule",
    "Trainer",
    "SyntheticRegressionData",
    "LinearRegressionScratch",
    "LinearRegression",
    "SGD",
    "Classifier",
    "SoftmaxRegression",
    "FashionMNIST",
)


@pytest.fixture(autouse=True)
def restore_book_classes():
    """Undo what ``@d2l.add_to_class(d2l.<Class>)`` cells did to the package's classes."""
    saved = {name: dict(vars(getattr(d2l, name))) for name in BOOK_CLASSES}
    yield
    for name, attrs in saved.items():
        cls = getattr(d2l, name)
        for attr in set(vars(cls)) - set(attrs):
            delattr(cls, attr)
        for attr, value in attrs.items():
            if vars(cls).get(attr) is not value:
                setattr(cls, attr, value)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


class Images(d2l.DataModule):
    """Tiny synthetic 'Fashion-MNIST': class k is noise plus a bright row k (1 x 10 x 10)."""

    def __init__(self, num_train=512, num_val=256, batch_size=64):
        super().__init__()
        self.save_hyperparameters()
        n = num_train + num_val
        self.y = torch.arange(n) % 10
        self.X = torch.rand(n, 1, 10, 10) * 0.5
        self.X[torch.arange(n), 0, self.y] += 1.0

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


def last(model, key):
    """The last plotted value of curve ``key``, as the book reads it in §5.7."""
    return float(model.board.data[key][-1].y)


# ---- book aliases, called as the cells call them -------------------------------------------------


def test_aliases_as_the_cells_call_them():
    Y_hat = d2l.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5], [0.9, 0.05, 0.05]])
    Y = d2l.tensor([2, 1, 0])
    preds = d2l.astype(d2l.argmax(Y_hat, axis=1), Y.dtype)  # §4.3 accuracy
    compare = d2l.astype(preds == d2l.reshape(Y, -1), d2l.float32)
    assert compare.tolist() == [1.0, 0.0, 1.0]
    assert d2l.reduce_mean(compare).item() == pytest.approx(2 / 3)
    X = d2l.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # §4.4
    assert d2l.reduce_sum(X, 0, keepdims=True).tolist() == [[5.0, 7.0, 9.0]]
    assert d2l.reduce_sum(X, 1, keepdims=True).shape == (2, 1)
    assert d2l.rand((2, 5)).shape == d2l.rand(2, 5).shape == (2, 5)
    w = d2l.normal(0, 0.01, (3, 1), requires_grad=True)  # §3.4
    b = d2l.zeros(1, requires_grad=True)
    assert w.requires_grad and b.requires_grad and w.shape == (3, 1)
    loss = d2l.tensor(0.25, requires_grad=True) * 2  # §3.2's Module.plot: to the CPU, then numpy
    assert d2l.numpy(d2l.to(loss, d2l.cpu())) == pytest.approx(0.5)
    get_tensor = d2l.tensor([[1, 2]], dtype=d2l.float32)  # §5.7
    assert d2l.reshape(d2l.log(d2l.exp(get_tensor)), (-1, 1)).tolist() == [[1.0], [2.0]]
    assert d2l.concat([get_tensor, get_tensor], 1).shape == (1, 4)


# ---- §3.2 object-oriented design -----------------------------------------------------------------


def test_object_oriented_design_cells(capsys):
    class A:
        def __init__(self):
            self.b = 1

    a = A()

    @d2l.add_to_class(A)
    def do(self):
        print('Class attribute "b" is', self.b)

    a.do()  # added after `a` was made

    class B(d2l.HyperParameters):
        def __init__(self, a, b, c):
            self.save_hyperparameters(ignore=["c"])
            print("self.a =", self.a, "self.b =", self.b)
            print("There is no self.c =", not hasattr(self, "c"))

    B(a=1, b=2, c=3)
    assert capsys.readouterr().out.splitlines() == [
        'Class attribute "b" is 1',
        "self.a = 1 self.b = 2",
        "There is no self.c = True",
    ]

    board = d2l.ProgressBoard("x", display=False)
    for x in torch.arange(0, 10, 0.1).tolist():
        board.draw(x, math.sin(x), "sin", every_n=2)
        board.draw(x, math.cos(x), "cos", every_n=10)
    assert len(board.data["sin"]) == 50 and len(board.data["cos"]) == 10
    first = board.data["cos"][0]  # the mean of the first ten raw points
    assert first.x == pytest.approx(0.45)
    assert first.y == pytest.approx(sum(math.cos(i / 10) for i in range(10)) / 10)


# ---- §3.4 linear regression from scratch, with the section's own fit_epoch -----------------------


def test_linear_regression_scratch_with_the_books_fit_epoch():
    class LinearRegressionScratch(d2l.Module):
        def __init__(self, num_inputs, lr, sigma=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.w = d2l.normal(0, sigma, (num_inputs, 1), requires_grad=True)
            self.b = d2l.zeros(1, requires_grad=True)

    @d2l.add_to_class(LinearRegressionScratch)
    def forward(self, X):
        return d2l.matmul(X, self.w) + self.b

    @d2l.add_to_class(LinearRegressionScratch)
    def loss(self, y_hat, y):
        l = (y_hat - y) ** 2 / 2
        return d2l.reduce_mean(l)

    class SGD(d2l.HyperParameters):
        def __init__(self, params, lr):
            self.save_hyperparameters()

        def step(self):
            for param in self.params:
                param -= self.lr * param.grad

        def zero_grad(self):
            for param in self.params:
                if param.grad is not None:
                    param.grad.zero_()

    @d2l.add_to_class(LinearRegressionScratch)
    def configure_optimizers(self):
        return SGD([self.w, self.b], self.lr)

    batches_seen = []

    @d2l.add_to_class(d2l.Trainer)
    def prepare_batch(self, batch):
        batches_seen.append(len(batch[0]))  # ours, to see that the trainer calls this one
        return batch

    @d2l.add_to_class(d2l.Trainer)
    def fit_epoch(self):
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                if self.gradient_clip_val > 0:  # To be discussed later
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1

    model = LinearRegressionScratch(2, lr=0.03)
    data = d2l.SyntheticRegressionData(w=d2l.tensor([2, -3.4]), b=4.2)
    trainer = d2l.Trainer(max_epochs=3)
    trainer.fit(model, data)
    with torch.no_grad():
        w_error = data.w - d2l.reshape(model.w, data.w.shape)
        b_error = data.b - model.b
    # 96 steps of lr 0.03 from w = 0 get close, not all the way (the book prints ~0.1-0.2)
    assert w_error.abs().max() < 0.5 and b_error.abs().max() < 0.5
    assert sum(batches_seen) == 3 * (1000 + 1000)  # 3 epochs of training and validation data
    assert trainer.train_batch_idx == 3 * 32 and trainer.val_batch_idx == 3 * 32
    assert len(model.board.data["train_loss"]) == 3 * 2  # plot_train_per_epoch=2
    assert [p.x for p in model.board.data["val_loss"]] == [1, 2, 3]
    val_loss = [p.y for p in model.board.data["val_loss"]]
    assert val_loss[-1] < val_loss[0] / 10


# ---- §3.5 concise linear regression --------------------------------------------------------------


def test_linear_regression_concise():
    model = d2l.LinearRegression(lr=0.03)
    data = d2l.SyntheticRegressionData(w=d2l.tensor([2, -3.4]), b=4.2)
    trainer = d2l.Trainer(max_epochs=3)
    trainer.fit(model, data)
    w, b = model.get_w_b()
    assert (data.w - d2l.reshape(w, data.w.shape)).abs().max() < 0.05
    assert (data.b - b).abs().max() < 0.05


# ---- §3.7 weight decay, scratch and concise ------------------------------------------------------


class Data(d2l.DataModule):  # §3.7 (its __init__ does not call super().__init__, as the book)
    def __init__(self, num_train, num_val, num_inputs, batch_size):
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = d2l.randn(n, num_inputs)
        noise = d2l.randn(n, 1) * 0.01
        w, b = d2l.ones((num_inputs, 1)) * 0.01, 0.05
        self.y = d2l.matmul(self.X, w) + b + noise

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader([self.X, self.y], train, i)


def l2_penalty(w):
    return d2l.reduce_sum(w**2) / 2


class WeightDecayScratch(d2l.LinearRegressionScratch):
    def __init__(self, num_inputs, lambd, lr, sigma=0.01):
        super().__init__(num_inputs, lr, sigma)
        self.save_hyperparameters()

    def loss(self, y_hat, y):
        return super().loss(y_hat, y) + self.lambd * l2_penalty(self.w)


class WeightDecay(d2l.LinearRegression):
    def __init__(self, wd, lr):
        super().__init__(lr)
        self.save_hyperparameters()
        self.wd = wd

    def configure_optimizers(self):
        return torch.optim.SGD(
            [{"params": self.net.weight, "weight_decay": self.wd}, {"params": self.net.bias}],
            lr=self.lr,
        )


def test_weight_decay_scratch_shrinks_w_and_the_validation_loss():
    data = Data(num_train=20, num_val=100, num_inputs=200, batch_size=5)
    trainer = d2l.Trainer(max_epochs=10)  # one trainer for both runs, as the section does

    def train_scratch(lambd):
        torch.manual_seed(1)
        model = WeightDecayScratch(num_inputs=200, lambd=lambd, lr=0.01)
        model.board.yscale = "log"
        trainer.fit(model, data)
        return model

    plain, decayed = train_scratch(0), train_scratch(3)
    assert decayed.hparams == {"num_inputs": 200, "lambd": 3, "lr": 0.01, "sigma": 0.01}
    with torch.no_grad():  # the book's float(l2_penalty(model.w)) warns: w requires grad
        assert float(l2_penalty(decayed.w)) < float(l2_penalty(plain.w)) / 4
    # overfitting: without decay the training loss falls far below the validation loss
    assert last(plain, "train_loss") < last(plain, "val_loss") / 10
    assert last(decayed, "val_loss") < last(plain, "val_loss")


def test_weight_decay_concise_decays_the_weight_only():
    data = Data(num_train=20, num_val=100, num_inputs=200, batch_size=5)
    trainer = d2l.Trainer(max_epochs=10)
    norms = {}
    for wd in (0, 3):
        torch.manual_seed(1)
        model = WeightDecay(wd=wd, lr=0.01)
        model.board.yscale = "log"
        trainer.fit(model, data)
        norms[wd] = float(l2_penalty(model.get_w_b()[0]))
    assert norms[3] < norms[0] / 4
    weight_group, bias_group = trainer.optim.param_groups
    assert weight_group["params"] == [model.net.weight] and weight_group["weight_decay"] == 3
    assert bias_group["params"] == [model.net.bias] and bias_group["weight_decay"] == 0


# ---- §4.2 the image classification dataset -------------------------------------------------------


@pytest.fixture
def fashion_mnist_dir(real_data_dir, monkeypatch):
    """The real Fashion-MNIST, where ``d2l.FashionMNIST()`` looks without arguments."""
    monkeypatch.setenv("D2LCOMPUTE_DATA_DIR", str(real_data_dir))
    return real_data_dir


def test_fashion_mnist_cells(fashion_mnist_dir):
    data = d2l.FashionMNIST(resize=(32, 32))
    assert (len(data.train), len(data.val)) == (60000, 10000)
    assert data.train[0][0].shape == (1, 32, 32)
    X, y = next(iter(data.train_dataloader()))
    assert (X.shape, X.dtype, y.shape, y.dtype) == (
        (64, 1, 32, 32),
        torch.float32,
        (64,),
        torch.int64,
    )
    assert data.text_labels(d2l.tensor([0, 9])) == ["t-shirt", "ankle boot"]


def test_the_sections_own_fashion_mnist_cell_finds_the_data(fashion_mnist_dir):
    torchvision = pytest.importorskip("torchvision")
    from torchvision import transforms

    class FashionMNIST(d2l.DataModule):
        def __init__(self, batch_size=64, resize=(28, 28)):
            super().__init__()
            self.save_hyperparameters()
            trans = transforms.Compose([transforms.Resize(resize), transforms.ToTensor()])
            self.train = torchvision.datasets.FashionMNIST(
                root=self.root, train=True, transform=trans, download=True
            )
            self.val = torchvision.datasets.FashionMNIST(
                root=self.root, train=False, transform=trans, download=True
            )

    data = FashionMNIST(resize=(32, 32))
    assert (len(data.train), len(data.val)) == (60000, 10000)


def test_visualize_returns_nothing_to_print(fashion_mnist_dir):
    plt = pytest.importorskip("matplotlib.pyplot")
    data = d2l.FashionMNIST()
    batch = next(iter(data.val_dataloader()))
    try:
        assert data.visualize(batch) is None
    finally:
        plt.close("all")


# ---- §4.3-4.5 classification: the base class, softmax regression ---------------------------------


def test_softmax_regression_scratch_with_its_own_parameters():
    def softmax(X):
        X_exp = d2l.exp(X)
        partition = d2l.reduce_sum(X_exp, 1, keepdims=True)
        return X_exp / partition

    def cross_entropy(y_hat, y):
        return -d2l.reduce_mean(d2l.log(y_hat[list(range(len(y_hat))), y]))

    class SoftmaxRegressionScratch(d2l.Classifier):
        def __init__(self, num_inputs, num_outputs, lr, sigma=0.01):
            super().__init__()
            self.save_hyperparameters()
            self.W = torch.normal(0, sigma, size=(num_inputs, num_outputs), requires_grad=True)
            self.b = torch.zeros(num_outputs, requires_grad=True)

        def parameters(self):  # plain tensors, not nn.Parameter: the section lists them
            return [self.W, self.b]

    @d2l.add_to_class(SoftmaxRegressionScratch)
    def forward(self, X):
        X = d2l.reshape(X, (-1, self.W.shape[0]))
        return softmax(d2l.matmul(X, self.W) + self.b)

    @d2l.add_to_class(SoftmaxRegressionScratch)
    def loss(self, y_hat, y):
        return cross_entropy(y_hat, y)

    data = Images()
    model = SoftmaxRegressionScratch(num_inputs=100, num_outputs=10, lr=0.5)
    trainer = d2l.Trainer(max_epochs=3)
    trainer.fit(model, data)
    assert last(model, "val_acc") > 0.9
    X, y = next(iter(data.val_dataloader()))
    preds = d2l.argmax(model(X), axis=1)
    wrong = d2l.astype(preds, y.dtype) != y
    assert wrong.float().mean() < 0.1


def test_softmax_regression_concise_with_the_books_loss():
    @d2l.add_to_class(d2l.Classifier)
    def loss(self, Y_hat, Y, averaged=True):
        Y_hat = d2l.reshape(Y_hat, (-1, Y_hat.shape[-1]))
        Y = d2l.reshape(Y, (-1,))
        return F.cross_entropy(Y_hat, Y, reduction="mean" if averaged else "none")

    model = d2l.SoftmaxRegression(num_outputs=10, lr=0.5)
    trainer = d2l.Trainer(max_epochs=3)
    trainer.fit(model, Images())
    assert last(model, "val_acc") > 0.9
    assert d2l.Classifier.loss is loss


# ---- §5.2 MLP, scratch and concise ---------------------------------------------------------------


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


class MLPScratch(d2l.Classifier):
    def __init__(self, num_inputs, num_outputs, num_hiddens, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.b1 = nn.Parameter(torch.zeros(num_hiddens))
        self.W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * sigma)
        self.b2 = nn.Parameter(torch.zeros(num_outputs))


class MLP(d2l.Classifier):
    def __init__(self, num_outputs, num_hiddens, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(), nn.LazyLinear(num_hiddens), nn.ReLU(), nn.LazyLinear(num_outputs)
        )


def test_mlp_scratch_and_concise():
    @d2l.add_to_class(MLPScratch)
    def forward(self, X):
        X = d2l.reshape(X, (-1, self.num_inputs))
        H = relu(d2l.matmul(X, self.W1) + self.b1)
        return d2l.matmul(H, self.W2) + self.b2

    data = Images()
    trainer = d2l.Trainer(max_epochs=4)
    model = MLPScratch(num_inputs=100, num_outputs=10, num_hiddens=32, lr=0.5)
    trainer.fit(model, data)
    assert last(model, "val_acc") > 0.9
    model = MLP(num_outputs=10, num_hiddens=32, lr=0.5)  # forward is Module's: self.net(X)
    trainer.fit(model, data)
    assert last(model, "val_acc") > 0.9
    assert [p.x for p in model.board.data["val_acc"]] == [1, 2, 3, 4]


# ---- §5.6 dropout, on a slice of the real Fashion-MNIST ------------------------------------------


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


class DropoutMLPScratch(d2l.Classifier):
    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2, dropout_1, dropout_2, lr):
        super().__init__()
        self.save_hyperparameters()
        self.lin1 = nn.LazyLinear(num_hiddens_1)
        self.lin2 = nn.LazyLinear(num_hiddens_2)
        self.lin3 = nn.LazyLinear(num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((X.shape[0], -1))))
        if self.training:
            H1 = dropout_layer(H1, self.dropout_1)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout_2)
        return self.lin3(H2)


class DropoutMLP(d2l.Classifier):
    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2, dropout_1, dropout_2, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.LazyLinear(num_hiddens_1),
            nn.ReLU(),
            nn.Dropout(dropout_1),
            nn.LazyLinear(num_hiddens_2),
            nn.ReLU(),
            nn.Dropout(dropout_2),
            nn.LazyLinear(num_outputs),
        )


def test_dropout_mlps_on_a_slice_of_fashion_mnist(fashion_mnist_dir):
    from d2lcompute.image_dataset import ImageTensorDataset

    hparams = {
        "num_outputs": 10,
        "num_hiddens_1": 256,
        "num_hiddens_2": 256,
        "dropout_1": 0.5,
        "dropout_2": 0.5,
        "lr": 0.1,
    }
    data = d2l.FashionMNIST(batch_size=256)
    assert (len(data.train), len(data.val)) == (60000, 10000)
    # ours, to keep the test short: the first 6144 training and 1024 validation images
    data.train = ImageTensorDataset(data.train.images[:6144], data.train.labels[:6144])
    data.val = ImageTensorDataset(data.val.images[:1024], data.val.labels[:1024])
    trainer = d2l.Trainer(max_epochs=5)
    for Model in (DropoutMLPScratch, DropoutMLP):
        model = Model(**hparams)
        trainer.fit(model, data)
        assert last(model, "val_acc") > 0.6, Model.__name__  # chance is 0.1
        X = next(iter(data.val_dataloader()))[0]
        model.eval()
        assert torch.equal(model(X), model(X))  # no dropout in evaluation
        model.train()
        assert not torch.equal(model(X), model(X))


# ---- §6.4 lazy initialization --------------------------------------------------------------------


def test_lazy_initialization_and_apply_init():
    net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
    assert isinstance(net[0].weight, nn.parameter.UninitializedParameter)
    X = torch.rand(2, 20)
    net(X)
    assert net[0].weight.shape == (256, 20)

    def init_constant(module):
        if type(module) == nn.Linear:
            nn.init.constant_(module.weight, 1)
            nn.init.zeros_(module.bias)

    model = MLP(num_outputs=10, num_hiddens=8, lr=0.1)
    model.apply_init([X], init_constant)  # the package's Module.apply_init
    assert model.net[1].weight.shape == (8, 20) and model.net[3].weight.shape == (10, 8)
    assert torch.equal(model.net[1].weight, torch.ones(8, 20))
    # all weights 1, biases 0: each of the 8 hidden units is sum(x), each output 8 sum(x)
    assert torch.allclose(model(X), 8 * X.sum(1, keepdim=True).expand(2, 10))

    @d2l.add_to_class(d2l.Module)
    def apply_init(self, inputs, init=None):  # the section's own, replacing ours
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)

    model = MLP(num_outputs=10, num_hiddens=8, lr=0.1)
    model.apply_init([X], init_constant)
    assert torch.equal(model.net[3].weight, torch.ones(10, 8))
    assert d2l.Module.apply_init is apply_init


# ---- §6.7 GPUs -----------------------------------------------------------------------------------


@pytest.fixture
def cpu_only(monkeypatch):
    """A machine without CUDA or MPS, whatever this one has."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_devices_on_a_machine_without_gpus(cpu_only):
    assert d2l.cpu() == torch.device("cpu")
    assert d2l.gpu() == torch.device("cuda:0") and d2l.gpu(1) == torch.device("cuda:1")
    assert d2l.num_gpus() == 0
    assert d2l.try_gpu() == d2l.try_gpu(10) == torch.device("cpu")


def test_trainer_with_num_gpus_1_on_a_machine_without_gpus(cpu_only):
    trainer = d2l.Trainer(max_epochs=2, num_gpus=1)
    assert trainer.gpus == []
    model = d2l.SoftmaxRegression(num_outputs=10, lr=0.5)
    trainer.fit(model, Images())
    assert next(model.parameters()).device == torch.device("cpu")
    assert last(model, "val_acc") > 0.9


def test_the_sections_trainer_hooks_replace_ours(cpu_only):
    @d2l.add_to_class(d2l.Trainer)
    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.save_hyperparameters()
        self.gpus = [d2l.gpu(i) for i in range(min(num_gpus, d2l.num_gpus()))]

    @d2l.add_to_class(d2l.Trainer)
    def prepare_batch(self, batch):
        if self.gpus:
            batch = [d2l.to(a, self.gpus[0]) for a in batch]
        return batch

    @d2l.add_to_class(d2l.Trainer)
    def prepare_model(self, model):
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        if self.gpus:
            model.to(self.gpus[0])
        self.model = model

    trainer = d2l.Trainer(max_epochs=2, num_gpus=1)
    assert trainer.gpus == [] and trainer.hparams["num_gpus"] == 1
    model = d2l.SoftmaxRegression(num_outputs=10, lr=0.5)
    trainer.fit(model, Images())
    assert trainer.model is model and model.board.xlim == [0, 2]
    assert last(model, "val_acc") > 0.9


def test_restore_book_classes_undid_the_previous_tests():
    # Runs last in this file: every add_to_class above has been undone by the fixture.
    assert d2l.Trainer.fit_epoch.__module__ == "d2lcompute.trainer"
    assert d2l.Trainer.__init__.__module__ == "d2lcompute.trainer"
    assert d2l.Classifier.loss.__module__ == "d2lcompute.classification"
    assert d2l.Module.apply_init.__module__ == "d2lcompute.base_classes"
