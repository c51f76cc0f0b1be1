"""The exceptions a user can cause and fix (d2lcompute/errors.py)."""

import math

import pytest

from d2lcompute.errors import DivergenceError, UserError, check_finite_loss


def test_divergence_names_epoch_batch_last_loss_and_what_to_try():
    e = DivergenceError("train_ch3", epoch=3, batch=17, last_finite_loss=0.51)
    assert isinstance(e, UserError) and isinstance(e, ArithmeticError)
    assert str(e) == (
        "train_ch3 diverged at epoch 3, batch 17: the loss is not finite; the last "
        "finite loss was 0.51. Try a smaller learning rate (lr)."
    )
    assert "no finite loss was seen before" in str(DivergenceError("k_fold", epoch=1))


@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf])
def test_check_finite_loss_refuses_what_is_not_finite(loss):
    with pytest.raises(DivergenceError, match="epoch 2"):
        check_finite_loss(loss, "train", epoch=2)
    assert check_finite_loss(0.25, "train", epoch=2) == 0.25
