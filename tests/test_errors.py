"""The exceptions a user can cause and fix (d2lcompute/errors.py)."""

from d2lcompute.errors import DivergenceError, UserError


def test_divergence_names_epoch_batch_last_loss_and_what_to_try():
    e = DivergenceError("train_ch3", epoch=3, batch=17, last_finite_loss=0.51)
    assert isinstance(e, UserError) and isinstance(e, ArithmeticError)
    assert str(e) == (
        "train_ch3 diverged at epoch 3, batch 17: the loss is not finite; the last "
        "finite loss was 0.51. Try a smaller learning rate (lr)."
    )
    assert "no finite loss was seen before" in str(DivergenceError("k_fold", epoch=1))
