"""The four hyper-parameters both recipes take, checked in one place (Book: §4.10).

``book.train``, ``book.k_fold``, ``improved.k_fold`` and ``batched.fit_batched`` all take
``num_epochs, learning_rate, weight_decay, batch_size``; each checks them here, before any
work, so a bad value is refused with the same message whichever recipe gets it.
"""

import math

from d2lcompute._checks import check_int, check_lr, check_number

__all__ = ["check_hyper"]


def check_hyper(num_epochs, learning_rate, weight_decay, batch_size):
    """The four hyper-parameters of both recipes, checked: ``learning_rate`` is finite and > 0.

    Returns:
        ``(num_epochs, learning_rate, weight_decay, batch_size)``.

    Example::

        >>> check_hyper(100, 5.0, 0, 64)
        (100, 5.0, 0.0, 64)
    """
    return (
        check_int("num_epochs", num_epochs, min_value=1),
        check_lr(learning_rate, "learning_rate"),
        check_number("weight_decay", weight_decay, min_value=0, max_value=math.inf),
        check_int("batch_size", batch_size, min_value=1),
    )
