"""im2col/col2im with CS231n's signatures, on the fastest available kernels.

Column layout: ``cols`` has shape ``(C*fh*fw, N*H'*W')``; row ``c*fh*fw + i*fw + j``
is offset (i, j) of channel c inside the window, column ``(h'*W' + w')*N + n`` is
window (h', w') of image n. Output size is floor mode,
``H' = (H + 2*padding - dilation*(fh-1) - 1) // stride + 1`` (geometry.pooled_size).
Padding is zero. ``col2im_indices`` is the exact adjoint of ``im2col_indices``: it
sums the entries of overlapping windows.
"""
import numpy as np

from ._backend import im2col_kernels
from .geometry import PoolGeometry, check_input, pool_geometry


def im2col_geometry(x4: np.ndarray, geom: PoolGeometry, pad_value: float = 0.0) -> np.ndarray:
    """(N, C, H, W) -> (C*kh*kw, out_h*out_w*N) for already-validated arguments."""
    return im2col_kernels.im2col(
        np.ascontiguousarray(x4), geom.kernel_h, geom.kernel_w, geom.stride_h, geom.stride_w,
        geom.pad_top, geom.pad_left, geom.dilation_h, geom.dilation_w, geom.out_h, geom.out_w, pad_value)


def col2im_geometry(cols: np.ndarray, x_shape, geom: PoolGeometry) -> np.ndarray:
    """Adjoint of :func:`im2col_geometry`: (C*kh*kw, out_h*out_w*N) -> (N, C, H, W)."""
    N, C, H, W = x_shape
    return im2col_kernels.col2im(
        np.ascontiguousarray(cols), N, C, H, W, geom.kernel_h, geom.kernel_w, geom.stride_h, geom.stride_w,
        geom.pad_top, geom.pad_left, geom.dilation_h, geom.dilation_w, geom.out_h, geom.out_w)


def _conv_geometry(x_shape, field_height, field_width, padding, stride, dilation):
    # im2col also serves convolutions, so padding is not limited to kernel // 2.
    return pool_geometry(x_shape[2:], (field_height, field_width), stride, padding, dilation,
                         limit_padding=False)


def im2col_indices(x, field_height, field_width, padding=0, stride=1, dilation=1):
    """Unfold every (field_height x field_width) window of x into a column.

    x: (N, C, H, W) float32/float64, any memory order. padding/stride/dilation:
    int or (h, w). Returns cols of x's dtype, shape (C*fh*fw, N*H'*W'), layout
    as in the module docstring; padded cells read 0.
    """
    x4, batched = check_input(x, "x")
    if not batched:
        raise ValueError(f"x must be 4-D (N, C, H, W), got x.ndim={x.ndim} with shape {x.shape}")
    geom = _conv_geometry(x4.shape, field_height, field_width, padding, stride, dilation)
    return im2col_geometry(x4, geom)


def col2im_indices(cols, x_shape, field_height, field_width, padding=0, stride=1, dilation=1):
    """Fold columns back into an (N, C, H, W) array, summing overlapping windows.

    The exact adjoint of :func:`im2col_indices` with the same arguments:
    ``<im2col(x), y> == <x, col2im(y)>``.
    """
    if not (isinstance(x_shape, (tuple, list)) and len(x_shape) == 4):
        raise ValueError(f"x_shape must be (N, C, H, W), got x_shape={x_shape!r}")
    if not isinstance(cols, np.ndarray):
        raise TypeError(f"cols must be a numpy.ndarray, got {type(cols).__name__}")
    probe = np.empty((1,) + tuple(int(v) for v in x_shape[1:]), dtype=cols.dtype)
    check_input(probe, "cols")  # dtype and empty-dimension checks
    if int(x_shape[0]) < 0:
        raise ValueError(f"x_shape must have N >= 0, got x_shape={x_shape!r}")
    geom = _conv_geometry(x_shape, field_height, field_width, padding, stride, dilation)
    N, C = int(x_shape[0]), int(x_shape[1])
    expected = (C * geom.window_size, geom.out_h * geom.out_w * N)
    if cols.shape != expected:
        raise ValueError(f"cols must have shape {expected} for x_shape={tuple(x_shape)}, got cols.shape={cols.shape}")
    return col2im_geometry(cols, tuple(int(v) for v in x_shape), geom)
