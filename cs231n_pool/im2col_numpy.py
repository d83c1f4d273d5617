"""Pure-numpy im2col/col2im: the readable reference for the Cython kernels.

Both functions take the window placement as plain ints (see geometry.PoolGeometry);
cells outside the (H, W) plane read ``pad_value`` (im2col) or are dropped (col2im).

Column layout (CS231n's): cols has shape (C*kh*kw, out_h*out_w*N); row
``c*kh*kw + i*kw + j`` holds window offset (i, j) of channel c, and column
``(oh*out_w + ow)*N + n`` holds window (oh, ow) of image n.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .geometry import FloatArray, IndexArray


def window_index_arrays(
    C: int, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int, out_h: int, out_w: int
) -> tuple[NDArray[np.int_], NDArray[np.int_], NDArray[np.int_]]:
    """Fancy-index arrays (channel, row, col) into the padded input, each broadcasting to (C*kh*kw, out_h*out_w)."""
    row_in_window = np.tile(np.repeat(np.arange(kh) * dh, kw), C)
    col_in_window = np.tile(np.arange(kw) * dw, kh * C)
    row_of_window = np.repeat(np.arange(out_h) * sh, out_w)
    col_of_window = np.tile(np.arange(out_w) * sw, out_h)
    rows = row_in_window[:, None] + row_of_window[None, :]
    cols = col_in_window[:, None] + col_of_window[None, :]
    channels = np.repeat(np.arange(C), kh * kw)[:, None]
    return channels, rows, cols


def _far_padding(size: int, pad_before: int, kernel: int, stride: int, dilation: int, out: int) -> int:
    """Cells needed past the end of the input so the last window fits."""
    return max((out - 1) * stride + (kernel - 1) * dilation + 1 - size - pad_before, 0)


def im2col(
    x: FloatArray,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    out_h: int,
    out_w: int,
    pad_value: float = 0.0,
) -> FloatArray:
    """(N, C, H, W) -> (C*kh*kw, out_h*out_w*N), padding with ``pad_value``.

    A negative ph starts the windows -ph rows into x (a band of another im2col's output rows)."""
    if ph < 0:
        x = x[:, :, -ph:]
        ph = 0
    N, C, H, W = x.shape
    pad = ((0, 0), (0, 0), (ph, _far_padding(H, ph, kh, sh, dh, out_h)), (pw, _far_padding(W, pw, kw, sw, dw, out_w)))
    padded = np.pad(x, pad, mode="constant", constant_values=pad_value)
    channels, rows, cols = window_index_arrays(C, kh, kw, sh, sw, dh, dw, out_h, out_w)
    windows = padded[:, channels, rows, cols]  # (N, C*kh*kw, out_h*out_w)
    return np.ascontiguousarray(windows.transpose(1, 2, 0)).reshape(C * kh * kw, -1)


def col2im(
    cols: FloatArray,
    N: int,
    C: int,
    H: int,
    W: int,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    out_h: int,
    out_w: int,
) -> FloatArray:
    """Adjoint of im2col: scatter-add every column entry back to its input cell."""
    return _fold(cols, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, window_order=False)


def _fold(
    cols: FloatArray,
    N: int,
    C: int,
    H: int,
    W: int,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    out_h: int,
    out_w: int,
    window_order: bool,
) -> FloatArray:
    """col2im. np.add.at adds in index order, (n, row, window): for one cell, row (i, j) rising
    means window (oh, ow) falling. ``window_order`` walks each channel's rows backwards, so every
    cell adds its windows in row-major window order instead (PyTorch's pooling backward order)."""
    far_h = _far_padding(H, ph, kh, sh, dh, out_h)
    far_w = _far_padding(W, pw, kw, sw, dw, out_w)
    padded = np.zeros((N, C, H + ph + far_h, W + pw + far_w), dtype=cols.dtype)
    channels, rows, cols_idx = window_index_arrays(C, kh, kw, sh, sw, dh, dw, out_h, out_w)
    windows = cols.reshape(C * kh * kw, out_h * out_w, N).transpose(2, 0, 1)
    if window_order:
        order = (np.arange(C)[:, None] * (kh * kw) + np.arange(kh * kw - 1, -1, -1)[None, :]).ravel()
        channels, rows, cols_idx, windows = channels[order], rows[order], cols_idx[order], windows[:, order]
    # numpy's stubs refuse a slice inside a fancy index tuple, which numpy itself accepts
    np.add.at(padded, (slice(None), channels, rows, cols_idx), windows)  # type: ignore[arg-type]
    return np.ascontiguousarray(padded[:, :, ph : ph + H, pw : pw + W])


def column_argmax(cols: FloatArray) -> tuple[FloatArray, IndexArray]:
    """Max and its row over axis 0 of a (K, M) matrix: (values (M,), rows (M,) int64).

    PyTorch's scan rule: rows 0..K-1 in order, replace when ``val > cur or
    isnan(val)``, starting from cur=-inf, row=-1. So ties -> first max, NaN ->
    last NaN, and an all -inf column -> row -1 with value -inf.
    """
    values = np.empty(cols.shape[1], dtype=cols.dtype)
    rows = np.empty(cols.shape[1], dtype=np.int64)
    column_argmax_into(cols, values, rows)
    return values, rows


def column_argmax_into(cols: FloatArray, values: FloatArray, rows: IndexArray) -> None:
    """:func:`column_argmax` into given (M,) arrays (overwritten), e.g. slices of larger ones."""
    if values.shape != (cols.shape[1],) or rows.shape != (cols.shape[1],):
        raise ValueError(
            f"values and rows must have {cols.shape[1]} entries (one per column), "
            f"got {values.shape[0]} and {rows.shape[0]}"
        )
    values[...] = -np.inf
    rows[...] = -1
    for r, row in enumerate(cols):
        take = (row > values) | np.isnan(row)
        values[take] = row[take]
        rows[take] = r


def columns_to_planes(
    values: FloatArray, rows: IndexArray, first: IndexArray, flat_base: IndexArray, flat_offset: IndexArray
) -> tuple[FloatArray, IndexArray]:
    """column_argmax's result for pooling planes, in plane order, with flat indices.

    values, rows: (P*Q,) for P windows of Q planes, column ``p*Q + q``. A row of -1
    (an all -inf window) is set to ``first[p]`` in place; any other row outside [0, K) raises. Returns (out (Q, P),
    indices (Q, P) int64): ``out[q, p] = values[p*Q + q]``,
    ``indices[q, p] = flat_base[p] + flat_offset[rows[p*Q + q]]``.
    """
    P, K = first.shape[0], flat_offset.shape[0]
    if flat_base.shape[0] != P or values.shape[0] != rows.shape[0] or (P and values.shape[0] % P):
        raise ValueError(
            f"columns_to_planes: inconsistent sizes values={values.shape[0]}, "
            f"rows={rows.shape[0]}, first={P}, flat_base={flat_base.shape[0]}"
        )
    grid = rows.reshape(P, -1)  # a view: the fix lands in rows
    np.copyto(grid, np.broadcast_to(first[:, None], grid.shape), where=grid == -1)
    outside = (grid < 0) | (grid >= K)
    if outside.any():
        raise ValueError(
            f"rows must lie in [-1, {K}) and first in [0, {K}) (one row per window offset), "
            f"got {int(outside.sum())} rows outside"
        )
    out = np.ascontiguousarray(values.reshape(P, -1).T)
    return out, np.ascontiguousarray((flat_base[:, None] + flat_offset[grid]).T)


def scatter_planes(dout: FloatArray, indices: IndexArray, plane_size: int) -> FloatArray:
    """The max-pool backward: col2im of the one-hot column matrix, by the flat index of each 1.

    dout, indices: (Q, P); returns dx (Q, plane_size): zeros plus ``dout[q, p]`` at
    ``indices[q, p]``, added plane by plane in window order (np.add.at keeps the order), so
    repeated indices sum in PyTorch's order. An index outside the plane raises ValueError.
    """
    if indices.shape != dout.shape:
        raise ValueError(f"indices must have dout's shape {dout.shape}, got indices.shape={indices.shape}")
    outside = (indices < 0) | (indices >= plane_size)
    if outside.any():
        raise ValueError(f"indices must lie in [0, {plane_size}) (one plane), got {int(outside.sum())} outside")
    Q = dout.shape[0]
    dx = np.zeros(Q * plane_size, dtype=dout.dtype)
    np.add.at(dx, (np.arange(Q, dtype=np.int64)[:, None] * plane_size + indices).ravel(), dout.ravel())
    return dx.reshape(Q, plane_size)


def column_mean_planes(cols: FloatArray, divisors: FloatArray) -> FloatArray:
    """Column sums of a (K, P*Q) matrix (column ``p*Q + q``: window p of plane q), divided by
    ``divisors[p]``, as (Q, P); rows are added in order, as ``cols.sum(axis=0)`` does."""
    K, M = cols.shape
    P = divisors.shape[0]
    if K == 0 or (P == 0 and M) or (P and M % P):
        raise ValueError(f"cols must be (K, P*Q) with K > 0 and P={P} windows (divisors), got cols.shape={(K, M)}")
    sums = cols[0].copy()
    for row in cols[1:]:
        sums += row
    return np.ascontiguousarray((sums.reshape(P, -1) / divisors[:, None]).T)


def col2im_spread(
    values: FloatArray,
    N: int,
    C: int,
    H: int,
    W: int,
    kh: int,
    kw: int,
    sh: int,
    sw: int,
    ph: int,
    pw: int,
    dh: int,
    dw: int,
    out_h: int,
    out_w: int,
) -> FloatArray:
    """col2im of the column matrix whose column ``p*N + n`` holds ``values[p, n]`` in all its rows;
    each cell adds its windows' values in row-major window order (PyTorch's average-pool backward order)."""
    P = out_h * out_w
    if values.shape != (P, N):
        raise ValueError(f"values must have shape {(P, N)}, got values.shape={values.shape}")
    dcols = np.broadcast_to(values.reshape(1, P * N), (C * kh * kw, P * N))
    return _fold(
        np.ascontiguousarray(dcols), N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, window_order=True
    )
