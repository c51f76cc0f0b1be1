# The public face of d2lcompute.house_prices (read at run time by d2lcompute._lazy.attach_stub).

from .data import NA_VALUES as NA_VALUES
from .data import MAX_PRICE as MAX_PRICE
from .data import read_csv as read_csv
from .data import read_data as read_data
from .data import check_data as check_data
from .data import check_train_data as check_train_data
from .data import write_submission as write_submission
from .hyper import check_hyper as check_hyper
from .folds import fold_bounds as fold_bounds
from .folds import k_folds as k_folds
from .folds import get_k_fold_data as get_k_fold_data
from .folds import log_rmse_of as log_rmse_of
from .folds import KFoldResult as KFoldResult
from .encoding import encode_features as encode_features
from .encoding import encode_frames as encode_frames
from .batched import fit_batched as fit_batched
from .book import preprocess as preprocess
from .book import get_net as get_net
from .book import log_rmse as log_rmse
from .book import train as train
from .book import k_fold as k_fold
from .book import train_and_pred as train_and_pred

# the English edition's k_fold_data and k_fold stay in their module: k_fold here is §4.10's
from .kaggle_house import KaggleHouse as KaggleHouse
from .recipes import Recipe as Recipe
from .recipes import RECIPES as RECIPES
from .recipes import Prepared as Prepared

# modules reached by name: the improved recipe's, and en §5.7's
from . import preprocessor as preprocessor
from . import lasso as lasso
from . import improved as improved
from . import kaggle_house as kaggle_house
