"""The one seed policy (d2lcompute/_seeding.py): what a seed is and what seeding leaves behind."""

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
