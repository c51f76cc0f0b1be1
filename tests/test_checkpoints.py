"""Checkpoints (d2lcompute/checkpoints.py): bit-identical resumes, all-or-nothing loads."""

import random

import numpy as np
import pytest
import torch
import torch.serialization
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import d2lcompute as d2l
from d2lcompute import checkpoints, io
from d2lcompute.errors import UserError


def _bytes(t):
    """The raw bytes of a tensor, so NaNs and -0.0 compare bit for bit."""
    return t.detach().contiguous().reshape(-1).view(torch.uint8).tolist()


def test_public_names():
    for name in ["save_checkpoint", "load_checkpoint"]:
        assert getattr(d2l, name) is getattr(checkpoints, name)


def _seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _make_model():
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
    return net, torch.optim.Adam(net.parameters(), lr=0.01)


def _data_loader():
    gen = torch.Generator().manual_seed(123)
    X = torch.randn(48, 4, generator=gen)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    return DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)  # global RNG shuffles


def _train_epoch(net, trainer, loader):
    """One epoch drawing on every RNG: shuffling and dropout (torch), noise (numpy, random)."""
    losses = []
    for X, y in loader:
        X = X + torch.from_numpy(np.random.normal(0, 0.01, X.shape).astype(np.float32))
        loss = F.mse_loss(net(X * (1 + 0.01 * random.random())), y)
        trainer.zero_grad()
        loss.backward()
        trainer.step()
        losses.append(loss.item())
    return losses


def test_resuming_from_a_checkpoint_matches_the_uninterrupted_run_bitwise(tmp_path):
    loader = _data_loader()
    _seed_everything(0)
    net, trainer = _make_model()
    straight = [_train_epoch(net, trainer, loader) for _ in range(4)]

    _seed_everything(0)
    net2, trainer2 = _make_model()
    first = [_train_epoch(net2, trainer2, loader) for _ in range(2)]
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net2, trainer2, epoch=2, history=first)
    del net2, trainer2
    _seed_everything(99)  # a new process: other seeds, a fresh model and optimizer
    resumed, resumed_trainer = _make_model()
    info = d2l.load_checkpoint(tmp_path / "ckpt.pt", resumed, resumed_trainer)
    assert info == {"epoch": 2, "history": first}
    rest = [_train_epoch(resumed, resumed_trainer, loader) for _ in range(info["epoch"], 4)]

    assert first + rest == straight
    for p, q in zip(net.parameters(), resumed.parameters()):
        assert _bytes(p) == _bytes(q)

    # The control: restoring weights and optimizer but not the RNGs gives another run.
    control, control_trainer = _make_model()
    d2l.load_checkpoint(tmp_path / "ckpt.pt", control, control_trainer)
    _seed_everything(99)
    assert [_train_epoch(control, control_trainer, loader) for _ in range(2)] != rest


def test_checkpoint_restores_in_place_and_is_safe_to_load(tmp_path):
    torch.manual_seed(0)
    net, trainer = _make_model()
    _train_epoch(net, trainer, _data_loader())
    path = tmp_path / "ckpt.pt"
    d2l.save_checkpoint(
        path,
        net,
        trainer,
        epoch=1,
        best_acc=0.5,
        note="warm-up",
        curve=[0.9, 0.7],
        lr=torch.tensor(0.01),
    )
    after_save = (torch.rand(3), np.random.rand(3), random.random())
    raw = torch.load(path, weights_only=True)  # plain torch, safe mode: no custom types inside
    assert raw["epoch"] == 1 and raw["optimizer"]["state"]

    fresh, fresh_trainer = _make_model()
    weight = fresh[0].weight
    info = d2l.load_checkpoint(path, fresh, fresh_trainer)
    assert fresh[0].weight is weight and torch.equal(weight, net[0].weight)  # in place
    exp_avg = fresh_trainer.state[fresh[0].weight]["exp_avg"]  # Adam's state, keyed by param
    assert torch.equal(exp_avg, trainer.state[net[0].weight]["exp_avg"])
    assert info["epoch"] == 1 and info["best_acc"] == 0.5 and info["note"] == "warm-up"
    assert info["curve"] == [0.9, 0.7] and torch.equal(info["lr"], torch.tensor(0.01))
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(again[0], after_save[0])
    assert np.array_equal(again[1], after_save[1]) and again[2] == after_save[2]


def test_checkpoint_without_optimizer(tmp_path):
    net, _ = _make_model()
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net)
    fresh, fresh_trainer = _make_model()
    assert d2l.load_checkpoint(tmp_path / "ckpt.pt", fresh) == {"epoch": 0}
    assert torch.equal(fresh[3].weight, net[3].weight)
    with pytest.raises(ValueError, match="holds no optimizer state"):
        d2l.load_checkpoint(tmp_path / "ckpt.pt", fresh, fresh_trainer)
    # load_state_dict reads the model part of a checkpoint too
    other, _ = _make_model()
    d2l.load_state_dict(other, tmp_path / "ckpt.pt")
    assert torch.equal(other[0].bias, net[0].bias)


def test_checkpoint_into_another_architecture_changes_nothing(tmp_path):
    net, trainer = _make_model()
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net, trainer, epoch=3)
    wider = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 1))
    wider_trainer = torch.optim.Adam(wider.parameters())
    with pytest.raises(
        checkpoints.CheckpointError,
        match=r"shape mismatch for 0.weight: file \(16, 4\) "
        r"vs model \(32, 4\)",
    ):
        d2l.load_checkpoint(tmp_path / "ckpt.pt", wider, wider_trainer)
    assert wider_trainer.state_dict()["param_groups"][0]["lr"] == 0.001  # untouched


def test_checkpoint_with_a_mismatched_optimizer(tmp_path):
    net, trainer = _make_model()
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net, trainer)
    fresh, _ = _make_model()
    half = torch.optim.Adam([{"params": fresh[0].parameters()}, {"params": fresh[3].parameters()}])
    with pytest.raises(ValueError, match="cannot load the optimizer state from .* into Adam"):
        d2l.load_checkpoint(tmp_path / "ckpt.pt", fresh, half)


def test_a_plain_state_dict_is_not_a_checkpoint(tmp_path):
    net, trainer = _make_model()
    io.save(net.state_dict(), tmp_path / "net.params")
    with pytest.raises(
        ValueError,
        match=r"is not a checkpoint written by save_checkpoint "
        r"\(found \['0.bias', .*load_state_dict\(model, path\)",
    ):
        d2l.load_checkpoint(tmp_path / "net.params", net, trainer)


def test_cuda_rng_states_are_saved_and_restored(tmp_path, monkeypatch):
    """Simulated GPUs: the saved list has one state per device; a machine restores what it has."""
    net, _ = _make_model()
    states = [torch.full((16,), 1, dtype=torch.uint8), torch.full((16,), 2, dtype=torch.uint8)]
    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: states)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, i: restored.append((s.tolist(), i)))
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net)
    d2l.load_checkpoint(tmp_path / "ckpt.pt", net)
    assert restored == [([1] * 16, 0)]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a laptop: nothing to restore
    d2l.load_checkpoint(tmp_path / "ckpt.pt", net)
    assert len(restored) == 1


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda p, net, opt: d2l.save_checkpoint(p, net, opt, epoch=-1),
            ValueError,
            "epoch must be >= 0, got epoch=-1",
        ),
        (
            lambda p, net, opt: d2l.save_checkpoint(p, net, opt, epoch="2"),
            TypeError,
            "epoch must be an integer, got epoch='2'",
        ),
        (
            lambda p, net, opt: d2l.save_checkpoint(p, net.state_dict(), opt),
            TypeError,
            r"model must be an nn.Module, got model=OrderedDict\(.*\) \(OrderedDict\)",
        ),
        (
            lambda p, net, opt: d2l.save_checkpoint(p, net, "adam"),
            TypeError,
            "optimizer must be a torch.optim.Optimizer or None, got str",
        ),
        (
            lambda p, net, opt: d2l.save_checkpoint(p, net, opt, acc=np.float32(0.5)),
            TypeError,
            r"acc is a numpy.float32, which a safe load",
        ),
        (
            lambda p, net, opt: d2l.save_checkpoint(1, net, opt),
            TypeError,
            "path must be a str or os.PathLike, got path=1",
        ),
        (
            lambda p, net, opt: d2l.load_checkpoint(p, [net], opt),
            TypeError,
            r"(?s)model must be an nn.Module, got model=\[.*\] \(list\)",
        ),
        (
            lambda p, net, opt: d2l.load_checkpoint(p, net, net),
            TypeError,
            "optimizer must be a torch.optim.Optimizer or None, got Sequential",
        ),
        (
            lambda p, net, opt: d2l.load_checkpoint(p.with_name("none.pt"), net, opt),
            FileNotFoundError,
            "none.pt': no such file",
        ),
    ],
)
def test_checkpoint_rejects_bad_input(tmp_path, call, error, message):
    net, trainer = _make_model()
    path = tmp_path / "ckpt.pt"
    d2l.save_checkpoint(path, net, trainer)
    with pytest.raises(error, match=message):
        call(path, net, trainer)


def _snapshot(net, trainer):
    return (
        {k: v.clone() for k, v in net.state_dict().items()},
        repr(trainer.state_dict()),
        torch.get_rng_state().clone(),
    )


def _unchanged(before, net, trainer):
    weights, optimizer, rng = before
    return (
        all(torch.equal(weights[k], v) for k, v in net.state_dict().items())
        and repr(trainer.state_dict()) == optimizer
        and torch.equal(torch.get_rng_state(), rng)
    )


def test_an_sgd_checkpoint_is_refused_by_adam_and_nothing_changes(tmp_path):
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))
    sgd = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    _train_epoch(net, sgd, _data_loader())
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net, sgd)
    fresh, adam = _make_model()
    before = _snapshot(fresh, adam)
    with pytest.raises(checkpoints.CheckpointError, match=r"into Adam: it was saved from SGD"):
        d2l.load_checkpoint(tmp_path / "ckpt.pt", fresh, adam)
    assert _unchanged(before, fresh, adam)


def test_an_optimizer_over_another_models_parameters_is_refused(tmp_path):
    net, trainer = _make_model()
    _train_epoch(net, trainer, _data_loader())
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net, trainer)
    fresh, _ = _make_model()
    other = nn.Sequential(nn.Linear(16, 4), nn.ReLU(), nn.Dropout(0.3), nn.Linear(1, 16))
    wrong = torch.optim.Adam(other.parameters(), lr=0.01)  # same sizes, other shapes
    before = _snapshot(fresh, wrong)
    with pytest.raises(
        checkpoints.CheckpointError,
        match=r"its 'exp_avg' has shape \(16, 4\) where the "
        r"parameter has \(4, 16\); was the optimizer "
        r"built over another model\?",
    ):
        d2l.load_checkpoint(tmp_path / "ckpt.pt", fresh, wrong)
    assert _unchanged(before, fresh, wrong)


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda c: c["rng"].update(torch=torch.zeros(3, dtype=torch.uint8)),
            "its random generator states cannot be restored",
        ),
        (lambda c: c["rng"].pop("python"), "its random generator states cannot be restored"),
        (lambda c: c.update(epoch="three"), "is damaged: its epoch is not what save_checkpoint"),
        (lambda c: c.update(extra=[1]), "is damaged: its extra is not what save_checkpoint"),
        (
            lambda c: c.update(format="d2lcompute.checkpoint/2"),
            r"written by another version of d2lcompute \(format 'd2lcompute.checkpoint/2'",
        ),
    ],
)
def test_a_damaged_checkpoint_is_refused_before_anything_changes(tmp_path, damage, message):
    """The RNG states used to be restored last: a bad one failed after the model had changed."""
    net, trainer = _make_model()
    _train_epoch(net, trainer, _data_loader())
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net, trainer)
    checkpoint = io.load(tmp_path / "ckpt.pt")
    damage(checkpoint)
    torch.save(checkpoint, tmp_path / "ckpt.pt")
    fresh, fresh_trainer = _make_model()
    before = _snapshot(fresh, fresh_trainer)
    with pytest.raises(checkpoints.CheckpointError, match=message):
        d2l.load_checkpoint(tmp_path / "ckpt.pt", fresh, fresh_trainer)
    assert _unchanged(before, fresh, fresh_trainer)


def test_a_checkpoint_cut_or_garbled_anywhere_fails_with_a_user_error(tmp_path):
    """Fuzzed damage (cuts, flipped bits, overwritten runs) gave OSError "[Errno 22] Invalid
    argument", BadZipFile, NotImplementedError or RuntimeError before; now a UserError every
    time, and the model is untouched."""
    net, trainer = _make_model()
    d2l.save_checkpoint(tmp_path / "ckpt.pt", net, trainer, epoch=1, history={"loss": [0.5]})
    good = (tmp_path / "ckpt.pt").read_bytes()
    rng = random.Random(0)
    fresh, fresh_trainer = _make_model()
    before = _snapshot(fresh, fresh_trainer)
    for trial in range(300):
        data = bytearray(good)
        if trial % 3 == 0:
            data = data[: rng.randrange(len(data))]
        elif trial % 3 == 1:
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        else:
            i = rng.randrange(len(data))
            data[i : i + 8] = bytes(rng.randrange(256) for _ in range(8))
        (tmp_path / "bad.pt").write_bytes(data)
        try:
            d2l.load_checkpoint(tmp_path / "bad.pt", fresh, fresh_trainer)
        except UserError:
            pass
        else:  # a flip in padding or an unused header field is harmless
            fresh, fresh_trainer = _make_model()
            before = _snapshot(fresh, fresh_trainer)
            continue
        assert _unchanged(before, fresh, fresh_trainer), trial


def test_an_optimizer_over_another_models_same_shaped_parameters_is_refused(tmp_path):
    (net, _), (other, _) = _make_model(), _make_model()
    checkpoints.save_checkpoint(
        tmp_path / "c.pt", net, torch.optim.SGD(net.parameters(), lr=0.1), 1
    )
    before = [p.clone() for p in net.parameters()]
    with pytest.raises(
        checkpoints.CheckpointError, match=r"optimizer must be built over model's parameters"
    ):
        checkpoints.load_checkpoint(
            tmp_path / "c.pt", net, torch.optim.SGD(other.parameters(), lr=0.1)
        )
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    own = torch.optim.SGD(net.parameters(), lr=0.1)
    assert checkpoints.load_checkpoint(tmp_path / "c.pt", net, own)["epoch"] == 1
