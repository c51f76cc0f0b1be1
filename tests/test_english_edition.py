"""The English edition (d2l.ai 1.0) as its readers run it: book cells with ``import d2lcompute as d2l``.

``BOOK_NAMES`` is the inventory of every ``d2l.<name>`` that the PyTorch cells of chapters
3-6 (linear regression, classification, multilayer perceptrons, builders' guide) call,
section by section; each must exist.
"""

import pytest

import d2lcompute as d2l

# section -> the d2l.<name>s its PyTorch cells use (d2l-en, release 1.0; `%%tab pytorch` and
# `%%tab all` cells). Names a cell defines for itself (e.g. §6.7's cpu/gpu) are not listed
# unless a later cell calls them through d2l.
BOOK_NAMES = {
    "3.1 linear regression": "ones zeros plot",
    "3.2 object-oriented design": (
        "add_to_class HyperParameters ProgressBoard nn_Module Module DataModule "
        "Trainer numpy to cpu"
    ),
    "3.3 synthetic regression data": "DataModule randn matmul reshape tensor add_to_class",
    "3.4 linear regression from scratch": (
        "Module normal zeros add_to_class matmul reduce_mean HyperParameters "
        "Trainer SyntheticRegressionData tensor reshape"
    ),
    "3.5 concise linear regression": (
        "Module add_to_class SyntheticRegressionData Trainer tensor reshape"
    ),
    "3.7 weight decay": (
        "DataModule randn ones matmul reduce_sum LinearRegressionScratch LinearRegression Trainer"
    ),
    "4.2 image classification dataset": "use_svg_display DataModule add_to_class show_images",
    "4.3 base classification model": (
        "Module add_to_class reshape astype argmax float32 reduce_mean SGD"
    ),
    "4.4 softmax regression from scratch": (
        "tensor reduce_sum exp rand Classifier add_to_class reshape matmul "
        "reduce_mean log FashionMNIST Trainer argmax astype"
    ),
    "4.5 concise softmax regression": "Classifier add_to_class reshape FashionMNIST Trainer",
    "5.1 multilayer perceptrons": "plot",
    "5.2 MLP implementation": "Classifier add_to_class reshape matmul FashionMNIST Trainer",
    "5.4 numerical stability": "plot",
    "5.6 dropout": "Classifier FashionMNIST Trainer",
    # d2l.extract, also called here, is issue 8's download/extract part (not in this list yet)
    "5.7 Kaggle house prices": (
        "DataModule download DATA_URL add_to_class tensor float32 reshape log "
        "LinearRegression Trainer reduce_mean exp concat numpy"
    ),
    "6.4 lazy initialization": "add_to_class Module",
    "6.5 custom layers": "tensor rand",
    "6.7 GPUs": "add_to_class Trainer gpu num_gpus to",
}
# 6.1-6.3 and 6.6 (layers and modules, parameters, initialization, file I/O) call plain torch.

INVENTORY = sorted({name for names in BOOK_NAMES.values() for name in names.split()})


@pytest.mark.parametrize("name", INVENTORY)
def test_every_name_the_chapters_call_exists(name):
    assert name in d2l.__all__
    assert getattr(d2l, name) is not None
