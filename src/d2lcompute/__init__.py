"""d2lcompute: the companion to *Dive into Deep Learning* (both editions), on today's PyTorch.

Write ``import d2lcompute as d2l`` where the book writes ``from d2l import torch as d2l``.
Names load on first use (PEP 562), so ``import d2lcompute`` stays fast and pulls in
neither matplotlib, pandas nor torchvision until a function needs them.
"""

import importlib
import types

from d2lcompute._lazy import LazyExports

__version__ = "0.1.0"

# module -> public names it provides; this table is the package's API.
_EXPORTS = {
    "devices": ["try_gpu", "try_all_gpus", "num_gpus", "cpu", "gpu"],
    "blocks": [
        "MLP",
        "MySequential",
        "FixedHiddenMLP",
        "NestMLP",
        "chimera",
        "Parallel",
        "repeat_block",
        "ListMLP",
    ],
    "diagnostics": ["find_unregistered", "module_internals", "check_gradients", "summary"],
    "parameters": [
        "parameter_table",
        "count_parameters",
        "init_normal",
        "init_constant",
        "xavier",
        "init_42",
        "my_init",
        "init_layers",
        "shared_net",
    ],
    "layers": ["CenteredLayer", "MyLinear", "is_initialized"],
    "io": ["save", "load", "load_state_dict"],
    "checkpoints": ["save_checkpoint", "load_checkpoint"],
    "compat": [
        "tensor",
        "ones",
        "zeros",
        "arange",
        "normal",
        "float32",
        "concat",
        "stack",
        "matmul",
        "exp",
        "log",
        "numpy",
        "size",
        "reshape",
        "reduce_sum",
        "reduce_mean",
        "argmax",
        "astype",
        "to",
        "meshgrid",
        "sin",
        "sinh",
        "cos",
        "cosh",
        "tanh",
        "linspace",
        "rand",
        "randn",
        "int32",
        "abs",
        "eye",
        "transpose",
        "nn_Module",
    ],
    "plotting": ["use_svg_display", "set_figsize", "set_axes", "plot", "Animator", "show_images"],
    "data": ["synthetic_data", "load_array", "get_dataloader_workers"],
    "image_dataset": ["get_fashion_mnist_labels", "load_data_fashion_mnist"],
    "train": [
        "linreg",
        "squared_loss",
        "sgd",
        "Accumulator",
        "accuracy",
        "evaluate_accuracy",
        "evaluate_loss",
        "predict_ch3",
        "Timer",
        "set_seed",
    ],
    "classic_loop": ["History", "train_epoch_ch3", "train_ch3"],
    "convolutions": ["corr2d", "init_cnn", "LeNet", "evaluate_accuracy_gpu", "train_ch6"],
    # the English edition's class API (d2l.ai 1.0)
    "oo_design": ["add_to_class", "HyperParameters", "ProgressBoard", "Module", "DataModule"],
    "trainer": ["Trainer"],
    "linear_regression": [
        "SyntheticRegressionData",
        "LinearRegressionScratch",
        "SGD",
        "LinearRegression",
    ],
    "classification": ["FashionMNIST", "Classifier", "SoftmaxRegression"],
    "hub": ["DATA_HUB", "DATA_URL", "download", "download_all", "data_dir"],
    "archives": ["download_extract", "extract"],
}
# Chapter modules whose names stay namespaced (the book reuses `train` for different things).
_lazy = LazyExports(
    __name__,
    _EXPORTS,
    {
        "multilayer_perceptrons",
        "weight_decay",
        "dropout",
        "numerical_stability",
        "fashion_mnist_improved",
        "house_prices",
        "kaggle_house",
        "live",
        "testing",
        "distributed",
    },
)
_NAME_TO_MODULE, _SUBMODULES = _lazy.name_to_module, _lazy.submodules
# Earlier module names: each still reaches what it held.
_MODULE_ALIASES = {
    "stability": ["numerical_stability"],
    "regularization": ["weight_decay", "dropout"],
    "registration": ["diagnostics.registration"],
    "model_summary": ["diagnostics.summary"],
    "house_prices_improved": ["house_prices.improved"],
    "batched": ["house_prices.batched"],
}
# d2l.mlp next to d2l.MLP (§5.1's block) differed only by case, a trap: it says where to go.
_RENAMED = {"mlp": "the §4.1-4.3 module is d2l.multilayer_perceptrons (d2l.MLP is §5.1's block)"}

# The libraries the book's cells reach through d2l (``d2l.plt.show()``, ``d2l.np``, ...),
# imported on first use like everything else here.
_LIBRARY_ALIASES = {
    "plt": "matplotlib.pyplot",
    "np": "numpy",
    "pd": "pandas",
    "torch": "torch",
    "nn": "torch.nn",
    "F": "torch.nn.functional",
    "display": "IPython.display",
}

__all__ = _lazy.names


def __getattr__(name):
    value = _lazy.find(name, globals())  # kept in globals: later look-ups skip __getattr__
    if value is not None:
        return value
    if name in _MODULE_ALIASES:
        return _joined(name, _MODULE_ALIASES[name])
    if name in _RENAMED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}: {_RENAMED[name]}")
    if name in _LIBRARY_ALIASES:
        value = importlib.import_module(_LIBRARY_ALIASES[name])
        globals()[name] = value
        return value
    raise _lazy.missing(name)


def _joined(name, modules):
    """The module, or a module object joining the public names of ``modules``, that an
    earlier module name stands for."""
    if len(modules) == 1:
        return importlib.import_module(f"{__name__}.{modules[0]}")
    alias = types.ModuleType(f"{__name__}.{name}", f"Earlier name of {', '.join(modules)}.")
    for module in modules:
        public = vars(importlib.import_module(f"{__name__}.{module}"))
        alias.__dict__.update({k: v for k, v in public.items() if not k.startswith("_")})
    globals()[name] = alias
    return alias


def __dir__():
    return sorted({*globals(), *__all__, *_SUBMODULES, *_LIBRARY_ALIASES})
