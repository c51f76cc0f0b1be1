"""Exercise checks for the student's ``save``/``load`` pair (§5.5).

What :mod:`d2lcompute.io`'s pair does: exact round trips, a reloaded state_dict, saving again
replaces the file, each path keeps its own object.
"""

import tempfile
from pathlib import Path

import torch
from hypothesis import strategies as st

from d2lcompute.blocks import MLP
from d2lcompute.testing._properties import Exercise, assert_close, prop, tensors
from d2lcompute.testing.failures import call, describe, fail

_saveable = st.one_of(
    tensors(),
    tensors().map(lambda t: (t * 10).long()),
    st.lists(tensors(), max_size=3),
    st.dictionaries(st.sampled_from(["x", "y", "weight"]), tensors(), max_size=3),
)


def _round_trip(pair, obj):
    save, load = pair
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "x-file")
        call("save(obj, path)", save, obj, path)
        return call("load(path)", load, path)


@prop(_saveable)
def _round_trip_values(pair, obj):
    assert_close(
        _round_trip(pair, obj),
        obj,
        f"load(path) after save({type(obj).__name__}, path)",
        rtol=0,
        atol=0,
    )


def _round_trip_model(pair):
    net, clone = MLP(), MLP()
    state = _round_trip(pair, net.state_dict())
    call("clone.load_state_dict(load(path))", clone.load_state_dict, state)
    X = torch.rand(2, 20)
    assert_close(clone(X), net(X), "the output of a net reloaded from its saved state_dict")


def _overwrite(pair):
    save, load = pair
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "x-file")
        call("save(first, path)", save, torch.zeros(3), path)
        call("save(second, path)", save, torch.ones(3), path)
        assert_close(
            call("load(path)", load, path),
            torch.ones(3),
            "load(path) after saving twice to one path",
        )


def _two_paths(pair):
    save, load = pair
    with tempfile.TemporaryDirectory() as folder:
        first, second = str(Path(folder) / "first.params"), str(Path(folder) / "second.params")
        call("save(torch.zeros(3), first)", save, torch.zeros(3), first)
        call("save(torch.ones(3), second)", save, torch.ones(3), second)
        ignored = "save and load ignore their path argument (a fixed name such as 'x-file'?)"
        if not Path(first).exists():
            fail(
                "save(obj, path) wrote no file at path",
                expected=f"a file at {Path(first).name}",
                cause=ignored,
                book="§5.5",
            )
        for path, value in ((first, torch.zeros(3)), (second, torch.ones(3))):
            found = call(f"load({Path(path).name})", load, path)
            if not (isinstance(found, torch.Tensor) and torch.equal(found, value)):
                fail(
                    f"load({Path(path).name}) does not give what was saved to that path",
                    expected=describe(value),
                    found=describe(found),
                    cause=ignored,
                    book="§5.5",
                )


EXERCISES = [
    Exercise(
        "save_load",
        ("save", "load"),
        "pair",
        (
            ("round trip keeps tensors, lists and dicts", _round_trip_values),
            ("a reloaded state_dict gives the same net", _round_trip_model),
            ("saving again replaces the file", _overwrite),
            ("each path keeps its own object", _two_paths),
        ),
        "§5.5",
    ),
]
