"""The one seed policy (d2lcompute/_seeding.py): what a seed is and what seeding leaves behind."""

import ast
import pathlib
import random

import numpy as np
import pytest
import torch

from d2lcompute import _seeding


@pytest.mark.parametrize(
    "seed, error", [(-1, ValueError), (2**32, ValueError), (1.0, TypeError), (True, TypeError)]
)
def test_a_seed_is_an_integer_in_0_to_2_32(seed, error):
    with pytest.raises(error, match="seed must"):
        _seeding.check_seed(seed)
    assert _seeding.check_seed(None, optional=True) is None


def test_set_seed_repeats_every_generator():
    def draws():
        return random.random(), np.random.rand(), torch.rand(1).item()

    _seeding.set_seed(5)
    first = draws()
    _seeding.set_seed(5)
    assert draws() == first


def test_seeded_gives_the_global_state_back():
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    with _seeding.seeded(7):
        inside = torch.rand(3)
    assert torch.equal(torch.rand(3), expected)  # the block drew from a forked state
    with _seeding.seeded(7):
        assert torch.equal(torch.rand(3), inside)


def test_private_generators_and_derived_streams():
    assert _seeding.generator(None) is None
    a, b = _seeding.generator(3), _seeding.generator(3)
    assert torch.equal(torch.rand(2, generator=a), torch.rand(2, generator=b))
    assert _seeding.derived_seed(0) != 0 and _seeding.derived_seed(0) == _seeding.derived_seed(0)
    assert _seeding.derived_seed(0, 1) != _seeding.derived_seed(0, 2)
    torch.manual_seed(0)
    gens = _seeding.generators(2)
    assert torch.rand(1, generator=gens[0]) != torch.rand(1, generator=gens[1])


def _states():
    return random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state()


def _assert_same_states(a, b):
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])


@pytest.mark.parametrize("everywhere", [False, True])
def test_seeded_restores_the_callers_state_also_when_the_block_raises(everywhere):
    def draws():  # torch's only, unless every generator is kept
        return (
            (torch.rand(2), np.random.rand(), random.random()) if everywhere else (torch.rand(2),)
        )

    before = _states()
    with pytest.raises(KeyError), _seeding.seeded(3, everywhere=everywhere):
        inside = draws()
        raise KeyError("in the block")
    _assert_same_states(_states(), before)
    with _seeding.seeded(3, everywhere=everywhere):  # the same seed draws the same numbers
        again = draws()
    assert torch.equal(again[0], inside[0]) and again[1:] == inside[1:]


def test_everywhere_seeds_what_set_seed_seeds():
    _seeding.set_seed(4)
    expected = torch.rand(1).item(), np.random.rand(), random.random()
    with _seeding.seeded(4, everywhere=True):
        assert (torch.rand(1).item(), np.random.rand(), random.random()) == expected


def test_kept_random_state_forks_without_reseeding():
    torch.manual_seed(2)
    expected = torch.rand(3)
    torch.manual_seed(2)
    with _seeding.kept_random_state():
        assert torch.equal(torch.rand(3), expected)  # the caller's stream, not a new seed's
    assert torch.equal(torch.rand(3), expected)  # and the caller draws it again


def test_split_stream_gives_each_offset_its_own_reproducible_stream():
    def draws(offset):
        torch.manual_seed(0)
        _seeding.split_stream(offset)
        return torch.rand(3)

    assert torch.equal(draws(1), draws(1))
    assert not torch.equal(draws(1), draws(2))


# Calls that seed or fork a global generator; a private torch.Generator is another matter.
_GLOBAL_SEEDING = {"manual_seed", "manual_seed_all", "fork_rng", "seed"}
_RANDOM_MODULES = {"torch", "torch.random", "torch.cuda", "np.random", "numpy.random", "random"}


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return inner and f"{inner}.{node.attr}"
    return None


def test_only_the_seed_policy_seeds_a_global_generator():
    package = pathlib.Path(_seeding.__file__).parent
    found = []
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        if name == "_seeding.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _GLOBAL_SEEDING
                and _dotted(node.func.value) in _RANDOM_MODULES
            ):
                found.append(f"{name}:{node.lineno} {_dotted(node.func)}")
    assert not found, f"seed through d2lcompute._seeding, not by hand: {found}"
