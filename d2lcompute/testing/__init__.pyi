# The public face of d2lcompute.testing (read at run time by d2lcompute._lazy.attach_stub).

from .assertions import assert_gradients_flow as assert_gradients_flow
from .assertions import assert_param_count as assert_param_count
from .assertions import assert_registered as assert_registered
from .assertions import assert_tied as assert_tied
from .behaviour import assert_can_overfit as assert_can_overfit
from .behaviour import assert_eval_deterministic as assert_eval_deterministic
from .behaviour import assert_output_shape as assert_output_shape
from .behaviour import assert_same_result as assert_same_result
from .behaviour import assert_train_eval_differ as assert_train_eval_differ
from .exercises import EXERCISES as EXERCISES
from .exercises import CheckResult as CheckResult
from .exercises import ExerciseReport as ExerciseReport
from .exercises import check_exercise as check_exercise
from .failures import CheckFailed as CheckFailed
from .grading import grade_files as grade_files
from .grading import write_gradebook as write_gradebook
from .runner import check_file as check_file
