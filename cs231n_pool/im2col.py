"""im2col/col2im with CS231n's signatures, plus the column argmax, on the fastest available kernels.

Column layout: ``cols`` has shape ``(C*fh*fw, N*H'*W')``; row ``c*fh*fw + i*fw + j``
is offset (i, j) of channel c inside the window, column ``(h'*W' + w')*N + n`` is
window (h', w') of image n. Output size is floor mode,
``H' = (H + 2*padding - dilation*(fh-1) - 1) // stride + 1`` (geometry.pooled_size).
Padding is zero. ``col2im_indices`` is the exact adjoint of ``im2col_indices``: it
sums the entries of overlapping windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _backend
from .geometry import (
    FloatArray,
    IndexArray,
    IntOrPair,
    Padding,
    PoolGeometry,
    as_pair,
    check_dtype,
    check_shape,
    pool_geometry,
    positive_int,
)


def _check_plane(x_shape: Sequence[int], geom: PoolGeometry) -> None:
    """The kernels trust geom: an (H, W) other than the one geom was built for would make them
    read or write out of bounds, so that one mismatch is caught here (a tuple compare)."""
    if tuple(x_shape[2:]) != (geom.in_h, geom.in_w):
        raise ValueError(
            f"x_shape={tuple(x_shape)} does not match the geometry's (in_h, in_w)={(geom.in_h, geom.in_w)}"
        )


def im2col_geometry(x4: FloatArray, geom: PoolGeometry, pad_value: float = 0.0) -> FloatArray:
    """(N, C, H, W) -> (C*kh*kw, out_h*out_w*N) for already-validated arguments."""
    _check_plane(x4.shape, geom)
    return _backend.kernels().im2col(
        np.ascontiguousarray(x4),
        geom.kernel_h,
        geom.kernel_w,
        geom.stride_h,
        geom.stride_w,
        geom.pad_top,
        geom.pad_left,
        geom.dilation_h,
        geom.dilation_w,
        geom.out_h,
        geom.out_w,
        pad_value,
    )


def im2col_band(x4: FloatArray, geom: PoolGeometry, oh0: int, oh1: int, pad_value: float = 0.0) -> FloatArray:
    """The columns of output rows [oh0, oh1) only: (C*kh*kw, (oh1-oh0)*out_w*N), for validated
    arguments and a C-contiguous x4; equal to those columns of :func:`im2col_geometry`."""
    _check_plane(x4.shape, geom)
    return _backend.kernels().im2col(
        x4,
        geom.kernel_h,
        geom.kernel_w,
        geom.stride_h,
        geom.stride_w,
        geom.pad_top - oh0 * geom.stride_h,  # the band's first window row starts oh0*stride_h further down
        geom.pad_left,
        geom.dilation_h,
        geom.dilation_w,
        oh1 - oh0,
        geom.out_w,
        pad_value,
    )


def col2im_geometry(cols: FloatArray, x_shape: Sequence[int], geom: PoolGeometry) -> FloatArray:
    """Adjoint of :func:`im2col_geometry`: (C*kh*kw, out_h*out_w*N) -> (N, C, H, W)."""
    N, C, H, W = x_shape
    _check_plane(x_shape, geom)
    expected = (C * geom.window_size, geom.out_h * geom.out_w * N)
    if cols.shape != expected:
        raise ValueError(
            f"cols must have shape {expected} (C*fh*fw, N*H'*W') for x_shape={tuple(x_shape)}, "
            f"got cols.shape={cols.shape}"
        )
    return _backend.kernels().col2im(
        np.ascontiguousarray(cols),
        N,
        C,
        H,
        W,
        geom.kernel_h,
        geom.kernel_w,
        geom.stride_h,
        geom.stride_w,
        geom.pad_top,
        geom.pad_left,
        geom.dilation_h,
        geom.dilation_w,
        geom.out_h,
        geom.out_w,
    )


def scatter_planes(dout: FloatArray, indices: IndexArray, plane_size: int) -> FloatArray:
    """Max-pool backward of C-contiguous (Q, P) dout and int64 flat indices: (Q, plane_size)
    zeros plus each dout at its index, summed plane by plane in window order (PyTorch's)."""
    return _backend.kernels().scatter_planes(dout, indices, plane_size)


def col2im_spread_geometry(values: FloatArray, x_shape: Sequence[int], geom: PoolGeometry) -> FloatArray:
    """col2im of a column matrix whose every column is constant, for already-validated arguments.

    values: (out_h*out_w, N), any strides; column ``p*N + n`` holds ``values[p, n]`` in all
    its rows. Returns (N, C, H, W), equal to :func:`col2im_geometry` of that matrix bit for bit.
    """
    N, C, H, W = x_shape
    _check_plane(x_shape, geom)
    return _backend.kernels().col2im_spread(
        values,
        N,
        C,
        H,
        W,
        geom.kernel_h,
        geom.kernel_w,
        geom.stride_h,
        geom.stride_w,
        geom.pad_top,
        geom.pad_left,
        geom.dilation_h,
        geom.dilation_w,
        geom.out_h,
        geom.out_w,
    )


def column_mean_planes(cols: FloatArray, divisors: FloatArray) -> FloatArray:
    """(K, P*Q) columns (column ``p*Q + q``: window p of plane q) -> (Q, P) sums over the K rows,
    added in row order like ``cols.sum(axis=0)``, each divided by ``divisors[p]`` (cols' dtype)."""
    return _backend.kernels().column_mean_planes(cols, divisors)


def columns_to_planes(
    values: FloatArray, rows: IndexArray, first: IndexArray, flat_base: IndexArray, flat_offset: IndexArray
) -> tuple[FloatArray, IndexArray]:
    """column_argmax's (values, rows) for P windows of Q planes -> plane order, plus flat indices.

    Column ``p*Q + q`` is window p of plane q. Rows of -1 (all -inf windows) become
    ``first[p]`` in place. Returns (out (Q, P), indices (Q, P) int64) with
    ``indices[q, p] = flat_base[p] + flat_offset[row]``. All arrays 1-D contiguous,
    rows/first/flat_base/flat_offset int64.
    """
    return _backend.kernels().columns_to_planes(values, rows, first, flat_base, flat_offset)


def column_argmax(cols: FloatArray) -> tuple[FloatArray, IndexArray]:
    """Max over axis 0 of a (K, M) column matrix and the row it is in.

    Returns (values (M,) of cols' dtype, rows (M,) int64). Rows are scanned
    0..K-1 and a value replaces the running max when it is greater or NaN, so
    ties -> FIRST max, NaN -> LAST NaN, an all -inf column -> row -1, value -inf.
    """
    if not isinstance(cols, np.ndarray):
        raise TypeError(f"cols must be a numpy.ndarray, got {type(cols).__name__}")
    check_dtype(cols.dtype, "cols")
    if cols.ndim != 2:
        raise ValueError(f"cols must be 2-D (K, M), got cols.ndim={cols.ndim} with cols.shape={cols.shape}")
    return _backend.kernels().column_argmax(np.ascontiguousarray(cols))


def column_argmax_into(cols: FloatArray, values: FloatArray, rows: IndexArray) -> None:
    """:func:`column_argmax` of a C-contiguous (K, M) matrix into given (M,) contiguous arrays
    (of cols' dtype and int64), e.g. slices of larger ones; for validated arguments."""
    _backend.kernels().column_argmax_into(cols, values, rows)


def _check_window_fits(
    x_shape: Sequence[int], field_height: int, field_width: int, padding: Padding, dilation: IntOrPair
) -> None:
    """A window wider than the padded input is reported by field name (pool_geometry
    would call it kernel_size). Negative or 'same' padding is left to pool_geometry."""
    if isinstance(padding, str):
        return
    pads, dilations = as_pair(padding, "padding"), as_pair(dilation, "dilation")
    for name, field, size, pad, dil in zip(
        ("field_height", "field_width"), (field_height, field_width), x_shape[2:], pads, dilations, strict=False
    ):
        if pad >= 0 and dil > 0 and dil * (field - 1) + 1 > size + 2 * pad:
            raise ValueError(
                f"{name}={field} with dilation={dilation!r} is larger than the padded input: "
                f"x_shape={tuple(x_shape)}, padding={padding!r}"
            )


def _conv_geometry(
    x_shape: Sequence[int],
    field_height: int,
    field_width: int,
    padding: Padding,
    stride: IntOrPair,
    dilation: IntOrPair,
) -> PoolGeometry:
    positive_int(field_height, "field_height")
    positive_int(field_width, "field_width")
    _check_window_fits(x_shape, field_height, field_width, padding, dilation)
    # im2col also serves convolutions, so padding is not limited to kernel // 2.
    return pool_geometry(x_shape[2:], (field_height, field_width), stride, padding, dilation, limit_padding=False)


def im2col_indices(
    x: FloatArray,
    field_height: int,
    field_width: int,
    padding: Padding = 0,
    stride: IntOrPair = 1,
    dilation: IntOrPair = 1,
) -> FloatArray:
    """Unfold every (field_height x field_width) window of x into a column (CS231n's layout).

    Parameters
    ----------
    x : ndarray
        (N, C, H, W), float32 or float64, any memory order; N may be 0.
    field_height, field_width : int
        The window, > 0.
    padding, stride, dilation : int or pair of ints
        padding >= 0 (not limited to half the window: im2col also serves convolutions), stride and
        dilation > 0. Floor mode.

    Returns
    -------
    cols : ndarray
        (C*fh*fw, N*H'*W') of x's dtype: row ``c*fh*fw + i*fw + j`` is offset (i, j) of channel c,
        column ``(h'*W' + w')*N + n`` is window (h', w') of image n; padded cells read 0.

    Raises
    ------
    TypeError, ValueError
        A bad input or argument, named with its value.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import im2col_indices
    >>> im2col_indices(np.arange(8.0).reshape(1, 2, 2, 2), 2, 2).T
    array([[0., 1., 2., 3., 4., 5., 6., 7.]])
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy.ndarray, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (N, C, H, W), got x.ndim={x.ndim} with x.shape={x.shape}")
    check_dtype(x.dtype, "x")
    if 0 in x.shape[1:]:
        raise ValueError(f"x must have non-empty C, H and W, got x.shape={x.shape}")
    geom = _conv_geometry(x.shape, field_height, field_width, padding, stride, dilation)
    return im2col_geometry(x, geom)


def col2im_indices(
    cols: FloatArray,
    x_shape: Sequence[int],
    field_height: int,
    field_width: int,
    padding: Padding = 0,
    stride: IntOrPair = 1,
    dilation: IntOrPair = 1,
) -> FloatArray:
    """Fold columns back into an (N, C, H, W) array, summing overlapping windows.

    Parameters
    ----------
    cols : ndarray
        float32/float64 of shape (C*fh*fw, N*H'*W'), what :func:`im2col_indices` returns for an
        input of shape ``x_shape``.
    x_shape : tuple of int
        (N, C, H, W).
    field_height, field_width, padding, stride, dilation
        As in :func:`im2col_indices`.

    Returns
    -------
    x : ndarray
        x_shape, cols' dtype. The exact adjoint of :func:`im2col_indices` with the same arguments:
        ``<im2col(x), y> == <x, col2im(y)>``; padded cells are dropped.

    Raises
    ------
    TypeError, ValueError
        A bad shape or argument, named with its value.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import col2im_indices
    >>> col2im_indices(np.ones((4, 4)), (1, 1, 3, 3), 2, 2)[0, 0]  # how many windows hold each cell
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    x_shape = check_shape(x_shape, "x_shape", ndims=(4,))
    if not isinstance(cols, np.ndarray):
        raise TypeError(f"cols must be a numpy.ndarray, got {type(cols).__name__}")
    check_dtype(cols.dtype, "cols")
    geom = _conv_geometry(x_shape, field_height, field_width, padding, stride, dilation)
    return col2im_geometry(cols, x_shape, geom)  # checks cols.shape
