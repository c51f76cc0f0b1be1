import pytest
import torch

import d2lcompute as d2l
from d2lcompute import compat

# Names the book's d2l/torch.py binds straight to torch ("Alias defined in config.ini").
TORCH_ALIASES = {
    "ones": torch.ones,
    "zeros": torch.zeros,
    "tensor": torch.tensor,
    "arange": torch.arange,
    "sin": torch.sin,
    "sinh": torch.sinh,
    "cos": torch.cos,
    "cosh": torch.cosh,
    "tanh": torch.tanh,
    "linspace": torch.linspace,
    "exp": torch.exp,
    "log": torch.log,
    "normal": torch.normal,
    "rand": torch.rand,
    "randn": torch.randn,
    "matmul": torch.matmul,
    "int32": torch.int32,
    "float32": torch.float32,
    "concat": torch.cat,
    "stack": torch.stack,
    "abs": torch.abs,
    "eye": torch.eye,
    "nn_Module": torch.nn.Module,
}


@pytest.mark.parametrize("name", sorted(TORCH_ALIASES))
def test_alias_is_the_torch_object(name):
    assert getattr(d2l, name) is TORCH_ALIASES[name]


def test_every_book_alias_is_exported():
    book = set(TORCH_ALIASES) | {
        "meshgrid",
        "numpy",
        "size",
        "reshape",
        "to",
        "reduce_sum",
        "argmax",
        "astype",
        "transpose",
        "reduce_mean",
    }
    exported = {name for name in d2l.__all__ if getattr(d2l, name) is getattr(compat, name, None)}
    assert book <= exported


@pytest.fixture
def x():
    return torch.arange(12.0).reshape(3, 4) - 5


def test_numpy_detaches_from_autograd():
    x = torch.arange(4.0, requires_grad=True) * 2
    arr = d2l.numpy(x)
    assert arr.tolist() == [0.0, 2.0, 4.0, 6.0]
    assert arr.dtype.name == "float32"


def test_size_reshape_to(x):
    assert d2l.size(x) == 12 == x.numel()
    assert torch.equal(d2l.reshape(x, (4, 3)), x.reshape(4, 3))
    assert torch.equal(d2l.reshape(x, (-1, 1)), x.reshape(-1, 1))
    assert d2l.to(x, torch.float64).dtype == torch.float64
    assert d2l.to(x, "cpu").device.type == "cpu"


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_reductions_match_torch(x, axis):
    kwargs = {} if axis is None else {"axis": axis}  # the book writes numpy-style axis=
    dims = () if axis is None else (axis,)
    assert torch.equal(d2l.reduce_sum(x, **kwargs), x.sum(*dims))
    assert torch.equal(d2l.reduce_mean(x, **kwargs), x.mean(*dims))
    assert torch.equal(d2l.argmax(x, **kwargs), x.argmax(*dims))


def test_reductions_keepdims(x):
    assert d2l.reduce_sum(x, axis=1, keepdims=True).shape == (3, 1)


def test_astype_and_transpose(x):
    assert d2l.astype(x, torch.int32).dtype == torch.int32
    assert torch.equal(d2l.astype(x, torch.int32), x.to(torch.int32))
    assert torch.equal(d2l.transpose(x), x.T)
    with pytest.raises(RuntimeError):
        d2l.transpose(torch.zeros(2, 3, 4))  # like the book's x.t(): matrices only


@pytest.mark.filterwarnings("error")
def test_meshgrid_matches_ij_indexing_without_warning():
    a, b = torch.arange(3), torch.arange(4)
    X, Y = d2l.meshgrid(a, b)
    X_ref, Y_ref = torch.meshgrid(a, b, indexing="ij")
    assert torch.equal(X, X_ref) and torch.equal(Y, Y_ref)
    X_xy, _ = d2l.meshgrid(a, b, indexing="xy")
    assert X_xy.shape == (4, 3)


def test_book_cells_run():
    # accuracy() from the book, written with the aliases
    y_hat = d2l.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = d2l.tensor([0, 2])
    cmp = d2l.astype(d2l.argmax(y_hat, axis=1), y.dtype) == y
    assert float(d2l.reduce_sum(d2l.astype(cmp, y.dtype))) == 1.0
    assert d2l.concat((d2l.ones(2, 2), d2l.zeros(1, 2)), 0).shape == (3, 2)
