"""cs231n_pool: im2col-based pooling layers with PyTorch's semantics, for teaching and grading."""
from ._backend import BACKEND, HAVE_EXTENSION
from .geometry import PoolGeometry, pool_geometry, pooled_size
from .im2col import col2im_indices, im2col_indices

__version__ = "0.1.0"
