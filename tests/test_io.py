import collections
import errno
import os
import pickle
import re

import numpy as np
import pytest
import torch
import torch.serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

import d2lcompute as d2l
from d2lcompute import io
from d2lcompute.errors import DamagedFileError, FileAccessError


class MLP(nn.Module):
    """The book's §5.5 model."""

    def __init__(self, hidden=256):
        super().__init__()
        self.hidden = nn.Linear(20, hidden)
        self.output = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.output(F.relu(self.hidden(x)))


def _bytes(t):
    """The raw bytes of a tensor, so NaNs and -0.0 compare bit for bit."""
    return t.detach().contiguous().reshape(-1).view(torch.uint8).tolist()


def test_public_names():
    for name in ["save", "load", "load_state_dict"]:
        assert getattr(d2l, name) is getattr(io, name)


# ---- tensors, lists, dicts, state_dicts ---------------------------------------------------


def test_book_round_trips(tmp_path):
    x, y = torch.arange(4), torch.zeros(4)
    io.save(x, tmp_path / "x-file")
    assert torch.equal(io.load(tmp_path / "x-file"), x)
    io.save([x, y], str(tmp_path / "x-files"))  # str paths work too
    x2, y2 = io.load(str(tmp_path / "x-files"))
    assert torch.equal(x2, x) and torch.equal(y2, y)
    io.save({"x": x, "y": y}, tmp_path / "mydict")
    mydict2 = io.load(tmp_path / "mydict")
    assert mydict2.keys() == {"x", "y"} and torch.equal(mydict2["y"], y)
    # and what save writes is what torch.load reads
    assert torch.equal(torch.load(tmp_path / "x-file", weights_only=True), x)


DTYPES = [
    torch.float32,
    torch.float64,
    torch.float16,
    torch.bfloat16,
    torch.int64,
    torch.int8,
    torch.uint8,
    torch.bool,
    torch.complex64,
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    dtype=st.sampled_from(DTYPES),
    shape=st.lists(st.integers(0, 4), max_size=3),
    seed=st.integers(0, 2**16),
    specials=st.booleans(),
    as_param=st.booleans(),
)
def test_state_dict_round_trips_bit_for_bit(tmp_path, dtype, shape, seed, specials, as_param):
    # Random bytes reinterpreted as dtype: every bit pattern, NaN payloads and subnormals too.
    gen = torch.Generator().manual_seed(seed)
    num_bytes = int(np.prod(shape)) * torch.empty((), dtype=dtype).element_size()
    bits = torch.randint(0, 256, (num_bytes,), generator=gen, dtype=torch.uint8)
    if dtype == torch.bool:
        bits = bits % 2  # other bytes are not valid bools
    tensor = bits.view(dtype).reshape(shape)
    if specials and dtype.is_floating_point and tensor.numel():
        tensor.view(-1)[0] = float("nan")
        tensor.view(-1)[-1] = -0.0
    if as_param and dtype.is_floating_point:
        tensor = nn.Parameter(tensor)
    state = collections.OrderedDict(w=tensor, step=torch.tensor(3))
    io.save(state, tmp_path / "state.pt")
    loaded = io.load(tmp_path / "state.pt")
    assert type(loaded) is collections.OrderedDict and list(loaded) == ["w", "step"]
    w = loaded["w"]
    assert type(w) is type(tensor) and w.dtype == dtype and w.shape == tensor.shape
    assert _bytes(w) == _bytes(tensor)


def test_mlp_state_dict_round_trip(tmp_path):
    torch.manual_seed(0)
    net = MLP()
    X = torch.randn(size=(2, 20))
    Y = net(X)
    io.save(net.state_dict(), tmp_path / "mlp.params")
    clone = MLP()
    assert not torch.equal(clone(X), Y)
    clone.load_state_dict(io.load(tmp_path / "mlp.params"))  # the book's way...
    clone.eval()
    assert torch.equal(clone(X), Y)
    other = MLP()
    io.load_state_dict(other, tmp_path / "mlp.params")  # ...and ours, with clearer errors
    assert torch.equal(other(X), Y)
    another = MLP()
    io.load_state_dict(another, net.state_dict())
    assert torch.equal(another(X), Y)


# ---- atomic save --------------------------------------------------------------------------


def _failing_save(obj, f):
    f.write(b"PK\x03\x04 half a file")
    raise OSError("disk full (simulated)")


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "mlp.params"
    io.save({"w": torch.ones(3)}, path)
    before = path.read_bytes()
    monkeypatch.setattr(torch, "save", _failing_save)
    with pytest.raises(OSError, match="disk full"):
        io.save({"w": torch.zeros(3)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.params"]
    monkeypatch.undo()
    assert torch.equal(io.load(path)["w"], torch.ones(3))


def test_a_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(torch, "save", _failing_save)
    with pytest.raises(OSError):
        io.save(torch.ones(2), tmp_path / "new" / "x.pt")
    assert list((tmp_path / "new").iterdir()) == []


def test_a_full_disk_during_save_is_a_user_error_not_an_enforce_fail(tmp_path, monkeypatch):
    """torch reports a failed write as "[enforce fail at inline_container.cc] unexpected pos"."""
    path = tmp_path / "mlp.params"
    io.save({"w": torch.ones(3)}, path)
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k)))
    with pytest.raises(
        FileAccessError,
        match=r"cannot write .*mlp.params: No space left on "
        r"device; free some space",
    ):
        io.save({"w": torch.zeros(1000)}, path)
    monkeypatch.undo()
    assert torch.equal(io.load(path)["w"], torch.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.params"]


# ---- safe loading -------------------------------------------------------------------------


class MakesAFile:
    """Unpickling this calls open(path, "w"): a stand-in for code an attacker would run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_file_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "marker"
    torch.save({"weights": torch.ones(2), "payload": MakesAFile(marker)}, tmp_path / "evil.pt")
    with pytest.raises(
        pickle.UnpicklingError, match=r"refused to load .*evil.pt.*could run arbitrary code"
    ) as info:
        io.load(tmp_path / "evil.pt")
    assert "weights_only=False" in str(info.value) and "trust" in str(info.value)
    assert not marker.exists()
    # The oracle: an unsafe load really would have run it.
    obj = io.load(tmp_path / "evil.pt", weights_only=False)
    obj["payload"].close()
    assert marker.exists()


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot load '.*nope.pt': no such file"):
        io.load(tmp_path / "nope.pt")
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        io.load(tmp_path)
    with pytest.raises(IsADirectoryError, match="cannot save to .*: it is a directory"):
        io.save(torch.ones(1), tmp_path)


@pytest.mark.parametrize("content", [b"", b"a,b\n1,2\n", bytes(range(256)) * 4, "truncated"])
def test_corrupt_files_get_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.pt"
    if content == "truncated":
        io.save({"w": torch.ones(1000)}, path)
        content = path.read_bytes()[:500]
    path.write_bytes(content)
    with pytest.raises(RuntimeError, match=r"cannot read '.*bad.pt': it is not a file saved by"):
        io.load(path)


@pytest.mark.parametrize(
    "obj, message",
    [
        (nn.Linear(2, 2), r"obj is a torch.nn.modules.linear.Linear, .* save\(net.state_dict\(\)"),
        ({"a": np.zeros(3)}, r"obj\['a'\] is a numpy.ndarray, .*torch.from_numpy"),
        ([1, np.float64(2.0)], r"obj\[1\] is a numpy.float64, .*float\(x\)"),
        ({"p": collections.namedtuple("P", "x")(1)}, r"obj\['p'\] is a .*P, which a safe load"),
    ],
)
def test_save_refuses_what_a_safe_load_could_not_read(tmp_path, obj, message):
    with pytest.raises(TypeError, match=message):
        io.save(obj, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.filterwarnings("ignore:Lazy modules are a new feature:UserWarning")
def test_save_refuses_an_uninitialised_lazy_model(tmp_path):
    net = nn.Sequential(nn.LazyLinear(3))
    with pytest.raises(
        TypeError,
        match=r"obj\['0.weight'\] is an uninitialised lazy parameter; "
        r"run one forward pass first",
    ):
        io.save(net.state_dict(), tmp_path / "lazy.pt")
    net(torch.rand(1, 4))
    io.save(net.state_dict(), tmp_path / "lazy.pt")
    assert io.load(tmp_path / "lazy.pt")["0.weight"].shape == (3, 4)


@pytest.mark.parametrize("bad", [123, None, ["x.pt"]])
def test_path_must_be_a_path(bad):
    message = f"path must be a str or os.PathLike, got path={bad!r}"
    with pytest.raises(TypeError, match=re.escape(message)):
        io.save(torch.ones(1), bad)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        io.load(bad)


# ---- GPU files on a CPU-only machine (simulated) ------------------------------------------


def _save_as_if_on(device, obj, path, monkeypatch):
    """torch.save, with every storage tagged as if it lived on ``device``."""
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", lambda storage: device)
        torch.save(obj, path)


def test_a_gpu_file_loads_on_a_cpu_only_machine(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = tmp_path / "gpu.params"
    _save_as_if_on("cuda:0", {"w": torch.arange(3.0)}, path, monkeypatch)
    with pytest.raises(RuntimeError, match="CUDA"):  # the oracle: plain torch.load fails
        torch.load(path, weights_only=True)
    w = io.load(path)["w"]
    assert w.device.type == "cpu" and torch.equal(w, torch.arange(3.0))


def test_an_explicit_map_location_is_passed_through(tmp_path, monkeypatch):
    path = tmp_path / "gpu.params"
    _save_as_if_on("cuda:1", {"w": torch.ones(2)}, path, monkeypatch)
    seen = []

    def to_cpu(storage, location):
        seen.append(location)
        return storage

    assert io.load(path, map_location=to_cpu)["w"].device.type == "cpu"
    assert seen == ["cuda:1"]
    assert io.load(path, map_location="cpu")["w"].device.type == "cpu"


@pytest.mark.parametrize(
    "available, count, location, stays",
    [
        (False, 0, "cuda:0", False),
        (True, 1, "cuda:0", True),
        (True, 1, "cuda:1", False),  # saved on a second GPU this machine lacks
        (True, 2, "cuda", True),
        (True, 1, "cpu", True),
        (False, 0, "not-a-device", False),
    ],
)
def test_default_map_location(monkeypatch, available, count, location, stays):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    storage = torch.ones(1).untyped_storage()
    expected = None if stays else storage  # None: torch restores it where it was saved
    assert io._default_map_location(storage, location) is expected


def test_mps_files_map_to_cpu_without_mps(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    storage = torch.ones(1).untyped_storage()
    assert io._default_map_location(storage, "mps") is storage


# ---- architecture mismatches --------------------------------------------------------------


class Deeper(MLP):
    def __init__(self):
        super().__init__(hidden=128)
        self.extra = nn.Linear(10, 2)


def test_wrong_architecture_names_missing_unexpected_and_mis_shaped_keys(tmp_path):
    net = MLP()
    io.save(net.state_dict(), tmp_path / "mlp.params")
    other = Deeper()
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(RuntimeError) as info:
        io.load_state_dict(other, tmp_path / "mlp.params")
    message = str(info.value)
    assert "do not fit this Deeper" in message
    assert "missing keys (in the model, not in the file): extra.weight, extra.bias" in message
    assert "shape mismatch for hidden.weight: file (256, 20) vs model (128, 20)" in message
    assert "shape mismatch for output.weight: file (10, 256) vs model (10, 128)" in message
    # no partial load: torch's own strict load would have copied the matching keys
    assert all(torch.equal(v, before[k]) for k, v in other.state_dict().items())
    smaller = nn.Sequential(nn.Linear(20, 256))
    with pytest.raises(
        RuntimeError,
        match=r"unexpected keys \(in the file, not in the model\): "
        r"hidden.weight, hidden.bias, output.weight",
    ):
        io.load_state_dict(smaller, net.state_dict())


def test_load_state_dict_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match=r"model must be an nn.Module, got model=\{.*\} \(dict\)"):
        io.load_state_dict({}, {})
    io.save([torch.ones(1)], tmp_path / "list.pt")
    with pytest.raises(
        TypeError, match="state_or_path must be a state_dict, a path or a checkpoint, got list"
    ):
        io.load_state_dict(MLP(), tmp_path / "list.pt")


# ---- damaged files and all-or-nothing checkpoints ------------------------------------------


def test_flipped_bytes_in_tensor_data_are_caught_by_the_crc(tmp_path):
    path = tmp_path / "w.pt"
    io.save({"w": torch.ones(100)}, path)
    data = bytearray(path.read_bytes())
    data[data.find(b"\x00\x00\x80\x3f") + 3] ^= 0x40  # one 1.0 becomes inf
    path.write_bytes(data)
    assert not torch.equal(torch.load(path)["w"], torch.ones(100))  # torch loads it altered
    with pytest.raises(
        DamagedFileError,
        match=r"cannot load '.*w.pt': it is damaged: record "
        r"'archive/data/0' fails its CRC-32 checksum",
    ):
        io.load(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_loading_a_fifo_says_what_it_is_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(
        FileAccessError,
        match=r"'.*pipe': it is a FIFO \(named pipe\), not a "
        r"regular file",
    ):
        io.load(tmp_path / "pipe")


def test_save_refuses_a_cycle_and_a_structure_too_deep(tmp_path):
    loop = [torch.ones(1)]
    loop.append({"again": loop})
    with pytest.raises(
        ValueError,
        match=r"obj\[1\]\['again'\] contains itself \(a reference "
        r"cycle\)",
    ):
        io.save(loop, tmp_path / "loop.pt")
    deep = torch.ones(1)
    for _ in range(5000):  # a RecursionError before
        deep = [deep]
    with pytest.raises(ValueError, match="obj is nested more than 64 levels deep"):
        io.save(deep, tmp_path / "deep.pt")
    assert list(tmp_path.iterdir()) == []
    shared = torch.ones(2)
    io.save([shared, shared, {"a": shared}], tmp_path / "shared.pt")  # shared, not a cycle


@pytest.mark.parametrize("kind", ["text", "zip", "zip in a folder"])
def test_load_of_a_file_torch_did_not_write_says_so_with_the_path(tmp_path, kind):
    path = tmp_path / "notes.pt"
    if kind == "text":
        path.write_text("epoch,loss\n1,0.5\n")
    else:
        import zipfile

        with zipfile.ZipFile(path, "w") as z:
            z.writestr("a.txt" if kind == "zip" else "d/a.txt", "hello")
    with pytest.raises(DamagedFileError, match="is not a file saved by torch.save/d2l.save") as e:
        d2l.load(path)
    assert str(path) in str(e.value)
