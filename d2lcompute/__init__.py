"""d2lcompute: the companion to *Dive into Deep Learning* (both editions), on today's PyTorch.

Write ``import d2lcompute as d2l`` where the book writes ``from d2l import torch as d2l``.
The public names are listed in ``__init__.pyi``, where editors find them too; each loads on
first use (PEP 562), so ``import d2lcompute`` stays fast and pulls in neither matplotlib,
pandas nor torchvision until a function needs them.
"""

from d2lcompute._lazy import attach_stub

__version__ = "0.1.0"

_find, __dir__, __all__ = attach_stub(__name__, __file__)


def __getattr__(name):
    if name == "mlp":  # next to d2l.MLP (§5.1's block), a name that differed only by case
        raise AttributeError(
            f"module {__name__!r} has no attribute 'mlp': the §4.1-4.3 module is "
            f"d2l.multilayer_perceptrons (d2l.MLP is §5.1's block)"
        )
    return _find(name)
