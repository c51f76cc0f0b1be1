# The package's public face: every name ``import d2lcompute as d2l`` gives, and where it lives.
# Editors and type checkers read this file; at run time ``_lazy.attach_stub`` reads the same
# lines, so each name's module is imported on its first use. A new public name goes here.

# Deep-learning computation (Book: chapter 5 of the Chinese edition, §6 of d2l.ai 1.0)
from .blocks import FixedHiddenMLP as FixedHiddenMLP
from .blocks import ListMLP as ListMLP
from .blocks import MLP as MLP
from .blocks import MySequential as MySequential
from .blocks import NestMLP as NestMLP
from .blocks import Parallel as Parallel
from .blocks import chimera as chimera
from .blocks import repeat_block as repeat_block
from .parameters import count_parameters as count_parameters
from .parameters import init_42 as init_42
from .parameters import init_constant as init_constant
from .parameters import init_layers as init_layers
from .parameters import init_normal as init_normal
from .parameters import my_init as my_init
from .parameters import parameter_table as parameter_table
from .parameters import shared_net as shared_net
from .parameters import xavier as xavier
from .layers import CenteredLayer as CenteredLayer
from .layers import MyLinear as MyLinear
from .layers import is_initialized as is_initialized
from .io import load as load
from .io import load_state_dict as load_state_dict
from .io import save as save
from .devices import cpu as cpu
from .devices import gpu as gpu
from .devices import num_gpus as num_gpus
from .devices import try_all_gpus as try_all_gpus
from .devices import try_gpu as try_gpu
from .diagnostics import check_gradients as check_gradients
from .diagnostics import find_unregistered as find_unregistered
from .diagnostics import module_internals as module_internals
from .diagnostics import summary as summary

# Data: in memory, from the book's hub, Fashion-MNIST
from .data import get_dataloader_workers as get_dataloader_workers
from .data import load_array as load_array
from .data import synthetic_data as synthetic_data
from .hub import DATA_HUB as DATA_HUB
from .hub import DATA_URL as DATA_URL
from .hub import data_dir as data_dir
from .hub import download as download
from .hub import download_all as download_all
from .archives import download_extract as download_extract
from .archives import extract as extract
from .image_dataset import get_fashion_mnist_labels as get_fashion_mnist_labels
from .image_dataset import load_data_fashion_mnist as load_data_fashion_mnist

# The engine: the English edition's classes and the one loop, Trainer.fit
from .hyperparameters import HyperParameters as HyperParameters
from .hyperparameters import add_to_class as add_to_class
from .base_classes import DataModule as DataModule
from .base_classes import Module as Module
from .trainer import Trainer as Trainer
from .checkpoints import load_checkpoint as load_checkpoint
from .checkpoints import save_checkpoint as save_checkpoint
from ._seeding import set_seed as set_seed

# The Chinese edition's functions, on that engine
from .linear_regression import linreg as linreg
from .linear_regression import sgd as sgd
from .linear_regression import squared_loss as squared_loss
from .metrics import Accumulator as Accumulator
from .metrics import Timer as Timer
from .metrics import accuracy as accuracy
from .metrics import evaluate_accuracy as evaluate_accuracy
from .metrics import evaluate_loss as evaluate_loss
from .metrics import predict_ch3 as predict_ch3
from .classic_loop import History as History
from .classic_loop import train_ch3 as train_ch3
from .classic_loop import train_epoch_ch3 as train_epoch_ch3
from .convolutions import LeNet as LeNet
from .convolutions import corr2d as corr2d
from .convolutions import evaluate_accuracy_gpu as evaluate_accuracy_gpu
from .convolutions import init_cnn as init_cnn
from .convolutions import train_ch6 as train_ch6

# The English edition's models and data sets
from .linear_regression import SGD as SGD
from .linear_regression import LinearRegression as LinearRegression
from .linear_regression import LinearRegressionScratch as LinearRegressionScratch
from .linear_regression import SyntheticRegressionData as SyntheticRegressionData
from .classification import Classifier as Classifier
from .classification import FashionMNIST as FashionMNIST
from .classification import SoftmaxRegression as SoftmaxRegression

# The display: the book's plotting helpers and its two live figures
from .live.plotting import plot as plot
from .live.plotting import set_axes as set_axes
from .live.plotting import set_figsize as set_figsize
from .live.plotting import show_images as show_images
from .live.plotting import use_svg_display as use_svg_display
from .live.animator import Animator as Animator
from .live.progress_board import ProgressBoard as ProgressBoard

# The book's framework-neutral names (d2l.tensor, d2l.reduce_sum, ...)
from .compat import abs as abs
from .compat import arange as arange
from .compat import argmax as argmax
from .compat import astype as astype
from .compat import concat as concat
from .compat import cos as cos
from .compat import cosh as cosh
from .compat import exp as exp
from .compat import eye as eye
from .compat import float32 as float32
from .compat import int32 as int32
from .compat import linspace as linspace
from .compat import log as log
from .compat import matmul as matmul
from .compat import meshgrid as meshgrid
from .compat import nn_Module as nn_Module
from .compat import normal as normal
from .compat import numpy as numpy
from .compat import ones as ones
from .compat import rand as rand
from .compat import randn as randn
from .compat import reduce_mean as reduce_mean
from .compat import reduce_sum as reduce_sum
from .compat import reshape as reshape
from .compat import sin as sin
from .compat import sinh as sinh
from .compat import size as size
from .compat import stack as stack
from .compat import tanh as tanh
from .compat import tensor as tensor
from .compat import to as to
from .compat import transpose as transpose
from .compat import zeros as zeros

# Modules reached by name: chapters whose names the book reuses (d2l.weight_decay.train,
# d2l.dropout.train), the house-price pipeline, coursework checks, torchrun helpers...
from . import archives as archives
from . import base_classes as base_classes
from . import blocks as blocks
from . import checkpoints as checkpoints
from . import classic_loop as classic_loop
from . import classification as classification
from . import compat as compat
from . import convolutions as convolutions
from . import data as data
from . import devices as devices
from . import diagnostics as diagnostics
from . import distributed as distributed
from . import dropout as dropout
from . import errors as errors
from . import fashion_mnist_improved as fashion_mnist_improved
from . import house_prices as house_prices
from . import hub as hub
from . import hyperparameters as hyperparameters
from . import image_dataset as image_dataset
from . import io as io
from . import layers as layers
from . import linear_regression as linear_regression
from . import live as live
from . import metrics as metrics
from . import multilayer_perceptrons as multilayer_perceptrons
from . import numerical_stability as numerical_stability
from . import parameters as parameters
from . import testing as testing
from . import trainer as trainer
from . import weight_decay as weight_decay

# The libraries the book's cells reach through d2l (d2l.plt.show(), d2l.np, ...)
import IPython.display as _display
import matplotlib.pyplot as _plt
import numpy as _np
import pandas as _pd
import torch as _torch
import torch.nn as _nn
import torch.nn.functional as _F

display = _display
plt = _plt
np = _np
pd = _pd
torch = _torch
nn = _nn
F = _F

__version__: str
