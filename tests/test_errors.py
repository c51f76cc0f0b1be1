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


def test_a_divergence_retold_as_a_callers_keeps_where_and_the_last_loss():
    e = DivergenceError("training", epoch=2, batch=3, last_finite_loss=0.5)
    told = e.retold("house-price training", hint="Try a smaller --lr.")
    assert str(told) == (
        "house-price training diverged at epoch 2, batch 3: the loss is not finite; the "
        "last finite loss was 0.5. Try a smaller --lr."
    )
    assert e.retold("k_fold").hint == e.hint
