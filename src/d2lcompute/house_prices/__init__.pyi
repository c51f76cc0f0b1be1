# The public face of d2lcompute.house_prices (read at run time by d2lcompute._lazy.attach_stub).

from .data import NA_VALUES as NA_VALUES
from .data import MAX_PRICE as MAX_PRICE
from .data import read_csv as read_csv
from .data import read_data as read_data
from .data import check_data as check_data
from .data import check_train_data as check_train_data
from .data import write_submission as write_submission
from .folds import fold_bounds as fold_bounds
from .folds import k_folds as k_folds
from .folds import get_k_fold_data as get_k_fold_data
from .folds import log_rmse_of as log_rmse_of
from .folds import KFoldResult as KFoldResult
from .batched import fit_batched as fit_batched
from .book import encode_features as encode_features
from .book import preprocess as preprocess
from .book import get_net as get_net
from .book import log_rmse as log_rmse
from .book import train as train
from .book import k_fold as k_fold
from .book import train_and_pred as train_and_pred
from .recipes import Recipe as Recipe
from .recipes import RECIPES as RECIPES
from .recipes import Prepared as Prepared

# the improved recipe's modules, reached by name
from . import preprocessor as preprocessor
from . import lasso as lasso
from . import improved as improved
