"""cs231n_pool: im2col-based pooling layers with PyTorch's semantics, for teaching and grading.

Layers (``forward``/``backward``): Maxpool, Avgpool, MaxUnpool, AdaptiveMaxpool,
AdaptiveAvgpool, GlobalMaxpool, GlobalAvgpool. Functional ops with the same
semantics: max_pool2d, avg_pool2d, max_unpool2d, adaptive_max_pool2d,
adaptive_avg_pool2d, global_max_pool2d, global_avg_pool2d. CS231n-style loops:
max_pool_forward_naive / max_pool_backward_naive and the avg_pool_* pair.
Kernels: im2col_indices / col2im_indices. Gradient checks: cs231n_pool.gradient_check.
``HAVE_EXTENSION`` tells whether the compiled Cython kernels are in use.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

from ._backend import BACKEND, HAVE_EXTENSION
from .functional import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool2d,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    max_unpool2d,
)
from .geometry import PoolGeometry, pool_geometry, pooled_size
from .gradient_check import check_layer, eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from .im2col import col2im_indices, im2col_indices
from .layers import AdaptiveAvgpool, AdaptiveMaxpool, Avgpool, GlobalAvgpool, GlobalMaxpool, Maxpool, MaxUnpool
from .naive import avg_pool_backward_naive, avg_pool_forward_naive, max_pool_backward_naive, max_pool_forward_naive

try:
    __version__ = _distribution_version("cs231n_pool")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "unknown"

__all__ = [
    "BACKEND",
    "HAVE_EXTENSION",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "global_avg_pool2d",
    "global_max_pool2d",
    "max_pool2d",
    "max_unpool2d",
    "PoolGeometry",
    "pool_geometry",
    "pooled_size",
    "check_layer",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "col2im_indices",
    "im2col_indices",
    "AdaptiveAvgpool",
    "AdaptiveMaxpool",
    "Avgpool",
    "GlobalAvgpool",
    "GlobalMaxpool",
    "Maxpool",
    "MaxUnpool",
    "avg_pool_backward_naive",
    "avg_pool_forward_naive",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
]
