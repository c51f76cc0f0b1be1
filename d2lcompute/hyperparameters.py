"""The English edition's utilities for its classes (d2l.ai 1.0: §3.2.1).

``add_to_class`` (a method added after the class is defined, as the book's cells do) and
``HyperParameters`` (constructor arguments kept as attributes), the base of the book's
``ProgressBoard``, ``Module``, ``DataModule`` and ``Trainer``.
"""

import inspect


def add_to_class(Class):
    """Decorator that sets the function it decorates as a method of ``Class``.

    Example::

        >>> class A:
        ...     pass
        >>> @add_to_class(A)
        ... def twice(self, x):
        ...     return 2 * x
        >>> A().twice(3)
        6

    Book: §3.2
    """
    if not isinstance(Class, type):
        raise TypeError(f"add_to_class takes a class, got Class={Class!r}")

    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
        return obj

    return wrapper


class HyperParameters:
    """Base class whose ``save_hyperparameters`` keeps the constructor's arguments. Book: §3.2."""

    def save_hyperparameters(self, ignore=()):
        """Set each argument of the calling ``__init__`` as an attribute and in ``self.hparams``.

        ``self``, names starting with ``_`` and the names in ``ignore`` are left out.

        Example::

            >>> class B(HyperParameters):
            ...     def __init__(self, a, b, c):
            ...         self.save_hyperparameters(ignore=['c'])
            >>> b = B(1, 2, 3)
            >>> b.a, b.b, hasattr(b, 'c'), b.hparams
            (1, 2, False, {'a': 1, 'b': 2})
        """
        if isinstance(ignore, str):
            raise TypeError(
                f"ignore must be a list of names, got ignore={ignore!r}; write ignore=[{ignore!r}]"
            )
        frame = inspect.currentframe().f_back
        try:
            args = inspect.getargvalues(frame)
        finally:
            del frame  # a frame in a local variable keeps every caller's locals alive
        names = [*args.args, *filter(None, (args.varargs, args.keywords))]
        skip = {"self", *ignore}
        self.hparams = {k: args.locals[k] for k in names if k not in skip and not k.startswith("_")}
        for k, v in self.hparams.items():
            setattr(self, k, v)
