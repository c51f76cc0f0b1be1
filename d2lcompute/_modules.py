"""A walk over a module tree, for the package's diagnostics and parameter tables.

``walk_modules`` yields every submodule with its qualified name, like ``named_modules()`` but
with an explicit stack, so a net nested thousands deep does not hit Python's recursion
limit (``named_modules()``, ``parameters()`` and ``apply()`` do).
"""

from d2lcompute._checks import check_module


def walk_modules(model, remove_duplicate=True):
    """Yield ``(qualified_name, module)`` for ``model`` and every submodule, depth first.

    The same order and names as ``model.named_modules()`` (the root is ``""``), but the
    walk keeps its own stack instead of recursing, so depth is not limited by
    ``sys.getrecursionlimit()``.

    Args:
        model: the ``nn.Module`` to walk.
        remove_duplicate: if ``True``, a module reachable by several paths (a shared
            layer) is yielded once, under its first name; if ``False``, under every name.
            A module that contains itself is never entered twice on one path.

    Example::

        >>> from torch import nn
        >>> [name for name, _ in walk_modules(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))]
        ['', '0', '1']
    """
    check_module("model", model)
    seen = set()
    on_path = set()  # used when duplicates are kept, so that a cycle cannot loop forever
    stack = [("", model, False)]
    while stack:
        prefix, module, leaving = stack.pop()
        if leaving:
            on_path.discard(id(module))
            continue
        if remove_duplicate:
            if id(module) in seen:
                continue
            seen.add(id(module))
        else:
            if id(module) in on_path:
                continue
            on_path.add(id(module))
            stack.append((prefix, module, True))
        yield prefix, module
        children = [
            (f"{prefix}.{key}" if prefix else key, child)
            for key, child in module._modules.items()
            if child is not None
        ]
        stack.extend((name, child, False) for name, child in reversed(children))
