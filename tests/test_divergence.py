"""The one divergence watch (d2lcompute/divergence.py) that Trainer and the batched trainer use."""

import math

import pytest
import torch

from d2lcompute.divergence import LossWatch
from d2lcompute.errors import DivergenceError


def _watch(losses, what="training", moved=None):
    watch = LossWatch(what)
    for i, loss in enumerate(losses):
        watch.add(torch.tensor(loss), None if moved is None else moved[i])
    return watch


def test_finite_losses_pass_and_keep_the_last_one():
    watch = _watch([0.9, 0.5, 0.25])
    watch.check(batches_per_epoch=2)
    assert watch.last_finite == [0.25]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_the_first_bad_loss_is_named_with_epoch_batch_and_last_finite_loss(bad):
    watch = _watch([0.9, 0.5, 0.4, bad, 0.3, math.nan])
    with pytest.raises(DivergenceError) as info:
        watch.check(batches_per_epoch=3)
    e = info.value
    assert (e.epoch, e.batch, e.last_finite_loss) == (2, 1, pytest.approx(0.4))
    assert str(e).startswith("training diverged at epoch 2, batch 1: the loss is not finite")


def test_a_bad_first_loss_says_no_finite_loss_was_seen():
    with pytest.raises(DivergenceError, match="epoch 1, batch 1: .* no finite loss was seen"):
        _watch([math.nan]).check(batches_per_epoch=4)


def test_losses_checked_over_several_epochs_keep_their_global_position():
    watch = _watch([0.9, 0.8])
    watch.check(batches_per_epoch=2)
    watch.add(torch.tensor(0.7))
    watch.add(torch.tensor(math.inf))
    with pytest.raises(DivergenceError) as info:
        watch.check(batches_per_epoch=2)
    assert (info.value.epoch, info.value.batch) == (2, 2)
    assert info.value.last_finite_loss == pytest.approx(0.7)


def test_several_nets_name_the_first_that_diverged_and_skip_batches_sat_out():
    # net 1 sits out steps 2 and 4 (loss 0 there, ignored); net 2 diverges at step 3, net 0 later
    losses = [[1.0, 2.0, 3.0], [0.5, 0.0, 1.5], [0.25, 1.0, math.nan], [math.nan, 0.0, 1.0]]
    moved = [[True] * 3, [True, False, True], [True] * 3, [True, False, True]]
    watch = _watch(losses, what=lambda m: f"fold {m + 1}", moved=moved)
    with pytest.raises(DivergenceError, match=r"^fold 3 diverged at epoch 2, batch 1") as info:
        watch.check(batches_per_epoch=2)
    assert info.value.last_finite_loss == pytest.approx(1.5)
    assert watch.last_finite == [0.25, 1.0, 1.5]  # net 1: its step 3, not a 0 it sat out
    later = watch.error(epoch=2, net=1)  # e.g. its predictions became infinite
    assert str(later).startswith("fold 2 diverged at epoch 2: ")
    assert later.last_finite_loss == 1.0
