"""Functional pooling ops with PyTorch's CPU semantics, and their backward passes.

Every op takes x of shape (N, C, H, W) or (C, H, W), float32 or float64, in any memory
order, and returns arrays of x's dtype with x's batching. Window placement and output
size come from :func:`cs231n_pool.geometry.pool_geometry`:

* floor mode ``H' = (H + 2p - d*(k-1) - 1) // s + 1``; ceil mode rounds up, but the
  last window must start inside the input or the left padding.
* ``padding='same'`` (TensorFlow/Keras rule, NOT in PyTorch): ``H' = ceil(H/s)``,
  total padding ``max((H'-1)*s + d*(k-1) + 1 - H, 0)`` with the extra cell on the
  bottom/right; padded cells never count (max: -inf; average: excluded from the
  divisor whatever count_include_pad says). ``padding='valid'`` is padding 0.

Max pooling pads with -inf and scans each window row-major; a value replaces the running
max when it is greater or NaN. So ties go to the FIRST maximum, a NaN propagates (index =
the LAST NaN), and a window of -inf picks its first in-bounds cell. Indices are int64,
flat ``ih*W + iw`` within each (n, c) plane of the unpadded input, shaped like the output.
Backward gives each window's gradient to that one cell; overlapping windows accumulate.

``method`` picks the kernel: ``"im2col"`` (the taught path: reshape to (N*C, 1, H, W),
im2col, one reduction per column, col2im for the backward) or ``"direct"`` (loops over
windows in :mod:`cs231n_pool.direct`). Both give identical results. The default, None,
takes the fastest path that is built: "direct" with the compiled extension, else "im2col"
(which falls back to numpy kernels).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from . import direct
from ._backend import check_method
from .geometry import (
    FloatArray,
    IndexArray,
    IntOrPair,
    Padding,
    PoolGeometry,
    Shape,
    as_pair,
    avg_divisors,
    axis_placement,
    check_grad,
    check_input,
    check_shape,
    pool_geometry,
    positive_pair,
    window_starts,
)
from .im2col import (
    col2im_onehot_geometry,
    col2im_spread_geometry,
    column_argmax,
    column_mean_planes,
    columns_to_planes,
    im2col_geometry,
)

AdaptiveSize: TypeAlias = int | Sequence[int | None] | None
"""An adaptive output size: an int, or (h, w) whose None entries keep the input's size."""


def unbatch(a: NDArray[Any], batched: bool) -> NDArray[Any]:
    """Drop the batch axis that check_input added to an unbatched (C, H, W) input."""
    return a if batched else a[0]


def _planes(x4: FloatArray) -> FloatArray:
    """(N, C, H, W) -> (N*C, 1, H, W): every channel pools alone."""
    N, C, H, W = x4.shape
    return x4.reshape(N * C, 1, H, W)


def _batched_shape(x_shape: Any, name: str = "x_shape", *, unbatched_empty_c: bool = False) -> tuple[Shape, bool]:
    """A forward input's shape as a 4-tuple, plus whether it was batched."""
    shape = check_shape(x_shape, name, unbatched_empty_c=unbatched_empty_c)
    return (shape if len(shape) == 4 else (1,) + shape), len(shape) == 4


def _grad_dtype(dout: Any) -> np.dtype[Any]:
    """dx's dtype when no forward input is at hand: dout's if float32/float64, else float64
    (check_grad then accepts integer dout and rejects the rest)."""
    if isinstance(dout, np.ndarray) and dout.dtype in (np.float32, np.float64):
        return dout.dtype
    return np.dtype(np.float64)


def _check_indices(
    indices: Any, expected_shape: Sequence[int], plane_size: int, name: str = "indices", plane: str = ""
) -> IndexArray:
    """Integer indices of the expected shape, each in [0, plane_size); returned as int64."""
    if not isinstance(indices, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(indices).__name__}")
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype (int64 like PyTorch), got {name}.dtype={indices.dtype}")
    if indices.shape != tuple(expected_shape):
        raise ValueError(f"{name} must have shape {tuple(expected_shape)}, got {name}.shape={indices.shape}")
    if indices.size:
        low, high = indices.min(), indices.max()
        bad = low if low < 0 else high
        if low < 0 or high >= plane_size:
            raise ValueError(
                f"{name} must lie in [0, {plane_size}) (flat ih*W + iw within one plane{plane}), "
                f"got an index of {int(bad)}"
            )
    return indices.astype(np.int64, copy=False)


# ----------------------------------------------------------------------------- max pooling


def first_in_bounds(
    starts: NDArray[np.int_], kernel: int, dilation: int, size: int, axis: str = ""
) -> NDArray[np.intp]:
    """Offset (in window steps) of each window's first in-bounds cell along one axis
    (:func:`cs231n_pool.geometry.axis_placement`'s ``skip``).

    Raises ValueError if a window holds no cell of the input (PyTorch returns -inf there,
    with an index outside the plane)."""
    placement = axis_placement(starts, kernel, dilation, size)
    empty = placement.cells == 0
    if empty.any():
        start = int(starts[np.argmax(empty)])
        raise ValueError(
            f"a pooling window contains no cell of the input: along {axis or 'one axis'} (size {size}) "
            f"the window starting at {start} with kernel {kernel} and dilation={dilation} steps over "
            f"every cell; PyTorch returns -inf with an index outside the plane here"
        )
    return placement.skip


def _check_windows(geom: PoolGeometry) -> tuple[NDArray[np.int_], NDArray[np.int_]]:
    """Per output row/column, the window offset of the first in-bounds cell; raises if a window is empty."""
    h0, w0 = window_starts(geom)
    return (
        first_in_bounds(h0, geom.kernel_h, geom.dilation_h, geom.in_h, "H"),
        first_in_bounds(w0, geom.kernel_w, geom.dilation_w, geom.in_w, "W"),
    )


def rows_to_flat(rows: NDArray[np.integer[Any]], geom: PoolGeometry) -> IndexArray:
    """Window rows (i*kw + j) of an (..., out_h, out_w) array -> flat ``ih*W + iw`` indices."""
    h0, w0 = window_starts(geom)
    ih = h0[:, None] + (rows // geom.kernel_w) * geom.dilation_h
    iw = w0[None, :] + (rows % geom.kernel_w) * geom.dilation_w
    return ih * geom.in_w + iw


def flat_to_rows(indices: NDArray[np.integer[Any]], geom: PoolGeometry) -> IndexArray:
    """Inverse of :func:`rows_to_flat`: flat input indices -> window rows (i*kw + j)."""
    h0, w0 = window_starts(geom)
    i = (indices // geom.in_w - h0[:, None]) // geom.dilation_h
    j = (indices % geom.in_w - w0[None, :]) // geom.dilation_w
    return i * geom.kernel_w + j


def to_columns(a: NDArray[Any]) -> NDArray[Any]:
    """(N, C, H', W') -> (H'*W'*N*C,) in im2col column order: column ``(h'*W' + w')*N*C + n*C + c``."""
    N, C, out_h, out_w = a.shape
    return a.reshape(N * C, out_h * out_w).T.ravel()


def from_columns(a: NDArray[Any], N: int, C: int, geom: PoolGeometry) -> NDArray[Any]:
    """Inverse of :func:`to_columns`: (H'*W'*N*C,) -> (N, C, H', W')."""
    return a.reshape(geom.out_h * geom.out_w, N * C).T.reshape(N, C, geom.out_h, geom.out_w)


def _argmax_tables(geom: PoolGeometry) -> tuple[IndexArray, IndexArray, IndexArray]:
    """What turns an argmax row into a flat index (int64): per window, the row of its first
    in-bounds cell and the flat index of its corner ``h0*W + w0``; per row ``i*kw + j``, the
    offset ``i*dh*W + j*dw``. Raises if a window holds no input cell."""
    first_i, first_j = _check_windows(geom)
    h0, w0 = window_starts(geom)
    first = (first_i[:, None] * geom.kernel_w + first_j[None, :]).ravel()
    corner = (h0[:, None] * geom.in_w + w0[None, :]).ravel()
    rows = np.arange(geom.window_size)
    offset = (rows // geom.kernel_w) * geom.dilation_h * geom.in_w + (rows % geom.kernel_w) * geom.dilation_w
    return (
        np.ascontiguousarray(first, dtype=np.int64),
        np.ascontiguousarray(corner, dtype=np.int64),
        np.ascontiguousarray(offset, dtype=np.int64),
    )


def _max_forward_im2col(x4: FloatArray, geom: PoolGeometry) -> tuple[FloatArray, IndexArray, IndexArray]:
    """im2col max pooling: (out, indices, max_idx); max_idx is the argmax row of each column (1-D)."""
    N, C = x4.shape[:2]
    first, corner, offset = _argmax_tables(geom)
    cols = im2col_geometry(_planes(x4), geom, pad_value=-np.inf)  # (kh*kw, H'*W'*N*C)
    values, max_idx = column_argmax(cols)
    # Back to (N, C, H', W') order; an all -inf window's row -1 becomes its first in-bounds cell.
    out, indices = columns_to_planes(values, max_idx, first, corner, offset)
    shape = (N, C, geom.out_h, geom.out_w)
    return out.reshape(shape), indices.reshape(shape), max_idx


def max_backward_cols(dout4: FloatArray, max_idx: IndexArray, x_shape: Shape, geom: PoolGeometry) -> FloatArray:
    """im2col max backward: col2im of the column matrix holding dout in each column's argmax row.

    That matrix is one-hot per column, so it is never built: col2im_onehot scatters each
    column's value (summing overlaps in col2im's order, so the result is the same bit for bit).
    """
    N, C, H, W = x_shape
    P = geom.out_h * geom.out_w
    values = dout4.reshape(N * C, P).T  # (P, N*C) view: to_columns(dout4) without the copy
    rows = np.asarray(max_idx, dtype=np.int64).reshape(P, N * C)
    return col2im_onehot_geometry(values, rows, (N * C, 1, H, W), geom).reshape(N, C, H, W)


def max_forward(x4: FloatArray, geom: PoolGeometry, method: str) -> tuple[FloatArray, IndexArray, IndexArray | None]:
    """Dispatch max pooling: (out, flat indices (N, C, H', W'), max_idx).

    max_idx is the im2col path's argmax row of each column, (H'*W'*N*C,) int64; the direct
    kernel yields flat indices only and gives None (``to_columns(flat_to_rows(indices, geom))``
    derives the rows when someone asks for them).
    """
    if check_method(method) == "im2col":
        return _max_forward_im2col(x4, geom)
    _check_windows(geom)
    out, indices = direct.max_pool_forward_direct(x4, geom)
    return out, indices, None


def max_pool2d(
    x: FloatArray,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    method: str | None = None,
) -> FloatArray | tuple[FloatArray, IndexArray]:
    """2-D max pooling, like ``torch.nn.functional.max_pool2d``.

    x: (N, C, H, W) or (C, H, W) float32/float64. kernel_size, stride (default
    kernel_size), padding (<= kernel // 2, or 'same'/'valid'), dilation: int or (h, w).
    Output (N, C, H', W') of x's dtype with ``H' = (H + 2p - d*(k-1) - 1) // s + 1``
    (ceil_mode rounds up; see the module docstring). Padding is -inf, ties go to the
    first maximum in row-major window order, NaN propagates (index = last NaN).
    With return_indices, also int64 indices shaped like the output, flat ``ih*W + iw``
    within each (n, c) plane of the unpadded input.
    A dilated window that holds no input cell at all (e.g. H=1, k=3, d=2, p=1, ceil_mode)
    raises ValueError; PyTorch returns -inf there with an index outside the plane.
    method: None (the fastest path that is built), "im2col" or "direct"; all give identical results.
    """
    x4, batched = check_input(x)
    geom = pool_geometry(x4.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    method = check_method(method)
    if x4.shape[0] == 0:
        out = np.empty(x4.shape[:2] + (geom.out_h, geom.out_w), dtype=x4.dtype)
        indices = np.empty(out.shape, dtype=np.int64)
    else:
        out, indices, _ = max_forward(x4, geom, method)
    out = unbatch(out, batched)
    return (out, unbatch(indices, batched)) if return_indices else out


def _scatter_flat(dout4: FloatArray, indices4: IndexArray, x_shape: Shape) -> FloatArray:
    """dx[n, c].flat[indices[n, c, ...]] += dout[n, c, ...] (sums repeated indices exactly)."""
    N, C, H, W = x_shape
    plane = np.arange(N * C, dtype=np.int64).reshape(N, C, 1, 1) * (H * W)
    dx = np.bincount((plane + indices4).ravel(), weights=dout4.ravel().astype(np.float64), minlength=N * C * H * W)
    return dx.astype(dout4.dtype).reshape(N, C, H, W)


def max_pool2d_backward(
    dout: FloatArray, indices: IndexArray, x_shape: Sequence[int], method: str | None = None
) -> FloatArray:
    """Gradient of :func:`max_pool2d` w.r.t. x from the forward's indices.

    dout, indices: the forward output's shape; x_shape: the forward input's shape
    ((N, C, H, W) or (C, H, W)). Each dout entry is added to ``dx`` at its index
    (flat ``ih*W + iw`` per plane); repeated indices accumulate. dx has dout's dtype
    (float32/float64; an integer dout gives float64, as in avg_pool2d_backward).
    "im2col" scatters with an exact sum, "direct" uses the loop kernel; None picks the
    fastest path that is built.
    """
    return _scatter_backward(dout, indices, x_shape, method)


def _scatter_backward(
    dout: Any, indices: Any, x_shape: Any, method: str | None = None, *, unbatched_empty_c: bool = False
) -> FloatArray:
    """max_pool2d_backward; the adaptive ops also take a 3-D x_shape with C = 0."""
    shape4, batched = _batched_shape(x_shape, unbatched_empty_c=unbatched_empty_c)
    dout = check_grad(dout, getattr(dout, "shape", ()), _grad_dtype(dout))
    if dout.ndim != len(x_shape) or dout.shape[:-2] != tuple(x_shape[:-2]):
        raise ValueError(
            f"dout must have shape {tuple(x_shape[:-2])} + (H', W') to match x_shape={tuple(x_shape)}, "
            f"got dout.shape={dout.shape}"
        )
    if isinstance(indices, np.ndarray) and indices.shape != dout.shape:
        raise ValueError(
            f"dout must have the forward output's shape, which is indices.shape={indices.shape}, "
            f"got dout.shape={dout.shape}"
        )
    idx = _check_indices(indices, dout.shape, shape4[2] * shape4[3])
    dout4, idx4 = (dout, idx) if batched else (dout[None], idx[None])
    if check_method(method) == "im2col":
        dx = _scatter_flat(dout4, idx4, shape4)
    else:
        dx = direct.max_pool_backward_direct(np.ascontiguousarray(dout4), np.ascontiguousarray(idx4), shape4)
    return unbatch(dx, batched)


# ----------------------------------------------------------------------------- average pooling


def pool_divisors(
    geom: PoolGeometry, padding: Padding, count_include_pad: bool, divisor_override: int | None
) -> NDArray[np.float64]:
    """avg_divisors, except that 'same' padding never counts its padded cells (the TF rule)."""
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be a bool, got count_include_pad={count_include_pad!r}")
    same = isinstance(padding, str) and padding.lower() == "same"
    return avg_divisors(geom, count_include_pad and not same, divisor_override)


def _avg_forward_im2col(x4: FloatArray, geom: PoolGeometry, divisors: NDArray[np.float64]) -> FloatArray:
    """im2col average pooling: each column's sum (rows added in order) over its window's divisor."""
    N, C = x4.shape[:2]
    cols = im2col_geometry(_planes(x4), geom, pad_value=0.0)  # (kh*kw, H'*W'*N*C)
    out = column_mean_planes(cols, divisors.astype(x4.dtype).ravel())  # (N*C, H'*W')
    return out.reshape(N, C, geom.out_h, geom.out_w)


def _avg_backward_im2col(
    dout4: FloatArray, geom: PoolGeometry, divisors: NDArray[np.float64], x_shape: Shape
) -> FloatArray:
    """col2im of the column matrix whose every row is dout / divisor (built only virtually)."""
    N, C, H, W = x_shape
    share = (dout4 / divisors.astype(dout4.dtype)).reshape(N * C, geom.out_h * geom.out_w)
    return col2im_spread_geometry(share.T, (N * C, 1, H, W), geom).reshape(N, C, H, W)


def avg_forward(x4: FloatArray, geom: PoolGeometry, divisors: NDArray[np.float64], method: str) -> FloatArray:
    """Dispatch average pooling of a validated, non-empty (N, C, H, W) x4 -> (N, C, H', W')."""
    if check_method(method) == "im2col":
        return _avg_forward_im2col(x4, geom, divisors)
    return direct.avg_pool_forward_direct(x4, geom, divisors)


def avg_backward(
    dout4: FloatArray, geom: PoolGeometry, divisors: NDArray[np.float64], x_shape: Shape, method: str
) -> FloatArray:
    """Dispatch the average backward of a validated (N, C, H', W') dout4 -> dx of shape x_shape."""
    if check_method(method) == "im2col":
        return _avg_backward_im2col(dout4, geom, divisors, x_shape)
    return direct.avg_pool_backward_direct(np.ascontiguousarray(dout4), geom, divisors, x_shape)


def avg_pool2d(
    x: FloatArray,
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: Padding = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    method: str | None = None,
) -> FloatArray:
    """2-D average pooling, like ``torch.nn.functional.avg_pool2d``.

    x: (N, C, H, W) or (C, H, W) float32/float64; output (N, C, H', W') of x's dtype,
    sizes as :func:`max_pool2d` (no dilation). Padding is 0. A window spans
    ``[start, min(start + k, H + p))``; its divisor is divisor_override if given (non-zero,
    may be negative), else that span's size if count_include_pad, else its number of
    in-bounds cells. ``padding='same'`` always excludes padded cells from the divisor.
    method: None (the fastest path that is built), "im2col" or "direct".
    """
    x4, batched = check_input(x)
    geom = pool_geometry(x4.shape[2:], kernel_size, stride, padding, 1, ceil_mode)
    divisors = pool_divisors(geom, padding, count_include_pad, divisor_override)
    method = check_method(method)
    if x4.shape[0] == 0:
        return unbatch(np.empty(x4.shape[:2] + (geom.out_h, geom.out_w), dtype=x4.dtype), batched)
    return unbatch(avg_forward(x4, geom, divisors, method), batched)


def avg_pool2d_backward(
    dout: FloatArray,
    x_shape: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: Padding = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    method: str | None = None,
) -> FloatArray:
    """Gradient of :func:`avg_pool2d` w.r.t. x (same arguments; x_shape is the input's shape).

    Adds ``dout / divisor`` to every in-bounds cell of each window; padding receives nothing.
    dx has dout's dtype (float32/float64) and x_shape.
    """
    shape4, batched = _batched_shape(x_shape)
    geom = pool_geometry(shape4[2:], kernel_size, stride, padding, 1, ceil_mode)
    divisors = pool_divisors(geom, padding, count_include_pad, divisor_override)
    dtype = _grad_dtype(dout)
    out_shape = shape4[:2] + (geom.out_h, geom.out_w)
    dout4 = check_grad(dout, out_shape if batched else out_shape[1:], dtype).reshape(out_shape)
    method = check_method(method)
    if shape4[0] == 0:
        return unbatch(np.zeros(shape4, dtype=dtype), batched)
    return unbatch(avg_backward(dout4, geom, divisors, shape4, method), batched)


# ----------------------------------------------------------------------------- max unpooling


def unpool_output_size(
    in_size: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    output_size: Sequence[int] | None = None,
) -> tuple[int, int]:
    """(H_out, W_out) of max_unpool2d: default ``(H_in - 1)*s - 2p + k``.

    An explicit output_size ((h, w), or (N, C, h, w) like PyTorch) must satisfy
    ``default - s < o < default + s`` in each dimension.
    """
    kernel = positive_pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else positive_pair(stride, "stride")
    pad = as_pair(padding, "padding")
    if min(pad) < 0:
        raise ValueError(f"padding must be >= 0, got padding={padding!r}")
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(in_size, kernel, stride, pad, strict=True))
    if output_size is None:
        size = default
    else:
        if not isinstance(output_size, (tuple, list)) or len(output_size) not in (2, 4):
            raise ValueError(f"output_size must be (H, W) or (N, C, H, W), got output_size={output_size!r}")
        size = tuple(as_pair(tuple(output_size[-2:]), "output_size"))
        for dim, (o, d, s) in enumerate(zip(size, default, stride, strict=True)):
            if not d - s < o < d + s:
                raise ValueError(
                    f"output_size={tuple(output_size)!r} is invalid: dim {dim} must be strictly "
                    f"between {d - s} and {d + s}"
                )
    if min(size) < 1:
        raise ValueError(
            f"the unpooled output size {size} must be positive (kernel_size={kernel_size!r}, "
            f"stride={stride!r}, padding={padding!r}, input size {tuple(in_size)})"
        )
    return size[0], size[1]


def max_unpool2d(
    x: FloatArray,
    indices: NDArray[np.integer[Any]],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: IntOrPair = 0,
    output_size: Sequence[int] | None = None,
) -> FloatArray:
    """Partial inverse of :func:`max_pool2d`, like ``torch.nn.functional.max_unpool2d``.

    x: pooled values (N, C, H, W) or (C, H, W); indices: the integer flat indices that
    max_pool2d returned (same shape as x). Output (N, C, H_out, W_out) of x's dtype is 0
    except ``out[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j]``; sizes as
    :func:`unpool_output_size`. Indices outside [0, H_out*W_out) raise ValueError.
    """
    x4, batched = check_input(x)
    out_h, out_w = unpool_output_size(x4.shape[2:], kernel_size, stride, padding, output_size)
    idx4 = _check_indices(indices, x.shape, out_h * out_w).reshape(x4.shape)
    N, C = x4.shape[:2]
    out = np.zeros((N * C, out_h * out_w), dtype=x4.dtype)
    n_in = x4.shape[2] * x4.shape[3]
    np.put_along_axis(out, idx4.reshape(N * C, n_in), x4.reshape(N * C, n_in), axis=1)
    return unbatch(out.reshape(N, C, out_h, out_w), batched)


def max_unpool2d_backward(dout: FloatArray, indices: NDArray[np.integer[Any]]) -> FloatArray:
    """Gradient of :func:`max_unpool2d` w.r.t. x: ``dx[n, c, i, j] = dout[n, c].flat[indices[n, c, i, j]]``.

    dout: the unpooled output's shape; indices: the forward's indices (x's shape). dx has
    dout's dtype (float32/float64; an integer dout gives float64).
    """
    dout = check_grad(dout, getattr(dout, "shape", ()), _grad_dtype(dout))
    if not isinstance(indices, np.ndarray):
        raise TypeError(f"indices must be a numpy.ndarray, got {type(indices).__name__}")
    if dout.ndim != indices.ndim or dout.shape[:-2] != indices.shape[:-2] or dout.ndim not in (3, 4):
        raise ValueError(
            f"dout must be (N, C, H_out, W_out) with the same leading dims as indices, got "
            f"dout.shape={dout.shape}, indices.shape={indices.shape}"
        )
    idx = _check_indices(indices, indices.shape, dout.shape[-2] * dout.shape[-1], plane=f" of dout.shape={dout.shape}")
    n_planes = int(np.prod(dout.shape[:-2]))
    planes = dout.reshape(n_planes, dout.shape[-2] * dout.shape[-1])
    dx = np.take_along_axis(planes, idx.reshape(n_planes, idx.shape[-2] * idx.shape[-1]), axis=1)
    return dx.reshape(indices.shape)


# ----------------------------------------------------------------------------- adaptive pooling


def adaptive_output_size(in_size: Sequence[int], output_size: AdaptiveSize) -> tuple[int, int]:
    """output_size as (h, w): an int, or a pair whose None entries keep the input size."""
    pair: Any = output_size
    if output_size is None or isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        given = (None, None) if output_size is None else tuple(output_size)
        pair = tuple(n if o is None else o for o, n in zip(given, in_size, strict=True))
    size = as_pair(pair, "output_size")
    if min(size) < 1:
        raise ValueError(f"output_size must be >= 1, got output_size={output_size!r}")
    return size


def adaptive_bins(in_size: int, out_size: int) -> tuple[NDArray[np.int_], NDArray[np.int_]]:
    """Bin i covers ``[floor(i*In/Out), ceil((i+1)*In/Out))``; returns (starts, ends)."""
    i = np.arange(out_size)
    return (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)


def _adaptive_windows(in_size: Sequence[int], out_size: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Yield ``(i, j, h0, h1, w0, w1)`` for every bin, row-major.

    A generator: the callers allocate their outputs first, so an absurd output_size fails
    at once with a MemoryError instead of first building a list of every bin."""
    (H, W), (out_h, out_w) = in_size, out_size
    hs, he = adaptive_bins(H, out_h)
    ws, we = adaptive_bins(W, out_w)
    for i in range(out_h):
        for j in range(out_w):
            yield i, j, hs[i], he[i], ws[j], we[j]


def _adaptive_max(x4: FloatArray, out_size: tuple[int, int]) -> tuple[FloatArray, IndexArray]:
    N, C, H, W = x4.shape
    out_h, out_w = out_size
    planes = x4.reshape(N * C, H, W)
    out = np.empty((N * C, out_h, out_w), dtype=x4.dtype)
    indices = np.empty((N * C, out_h, out_w), dtype=np.int64)
    for i, j, h0, h1, w0, w1 in _adaptive_windows((H, W), out_size):
        cols = planes[:, h0:h1, w0:w1].reshape(N * C, (h1 - h0) * (w1 - w0)).T  # one column per plane
        values, rows = column_argmax(cols)
        rows = np.maximum(rows, 0)  # all -inf: the first cell (no padding here)
        out[:, i, j] = values
        indices[:, i, j] = (h0 + rows // (w1 - w0)) * W + w0 + rows % (w1 - w0)
    return out.reshape(N, C, out_h, out_w), indices.reshape(N, C, out_h, out_w)


def adaptive_max_pool2d(
    x: FloatArray, output_size: AdaptiveSize, return_indices: bool = False
) -> FloatArray | tuple[FloatArray, IndexArray]:
    """Adaptive max pooling, like ``torch.nn.functional.adaptive_max_pool2d``.

    x: (N, C, H, W) or (C, H, W); output_size: int or (h, w) (None keeps that input size).
    Output bin i covers rows ``[floor(i*H/h), ceil((i+1)*H/h))`` (bins may overlap; h > H
    works). Ties go to the first max, NaN propagates (index = last NaN); indices are int64
    flat ``ih*W + iw`` per plane.
    """
    x4, batched = check_input(x, unbatched_empty_c=True)
    size = adaptive_output_size(x4.shape[2:], output_size)
    out, indices = _adaptive_max(np.ascontiguousarray(x4), size)
    out, indices = unbatch(out, batched), unbatch(indices, batched)
    return (out, indices) if return_indices else out


def adaptive_max_pool2d_backward(dout: FloatArray, indices: IndexArray, x_shape: Sequence[int]) -> FloatArray:
    """Gradient of :func:`adaptive_max_pool2d`: each dout entry to its index (overlaps accumulate)."""
    return _scatter_backward(dout, indices, x_shape, unbatched_empty_c=True)


def adaptive_avg_pool2d(x: FloatArray, output_size: AdaptiveSize) -> FloatArray:
    """Adaptive average pooling, like ``torch.nn.functional.adaptive_avg_pool2d``.

    Bins as :func:`adaptive_max_pool2d`; each output is its bin's mean (no padding).
    """
    x4, batched = check_input(x, unbatched_empty_c=True)
    x4 = np.ascontiguousarray(x4)  # one summation order whatever the memory layout
    N, C, H, W = x4.shape
    out_h, out_w = adaptive_output_size((H, W), output_size)
    out = np.empty((N, C, out_h, out_w), dtype=x4.dtype)
    for i, j, h0, h1, w0, w1 in _adaptive_windows((H, W), (out_h, out_w)):
        out[:, :, i, j] = x4[:, :, h0:h1, w0:w1].sum(axis=(2, 3)) / x4.dtype.type((h1 - h0) * (w1 - w0))
    return unbatch(out, batched)


def adaptive_avg_pool2d_backward(dout: FloatArray, x_shape: Sequence[int], output_size: AdaptiveSize) -> FloatArray:
    """Gradient of :func:`adaptive_avg_pool2d`: dout / bin area to every cell of the bin."""
    shape4, batched = _batched_shape(x_shape, unbatched_empty_c=True)
    out_h, out_w = adaptive_output_size(shape4[2:], output_size)
    dtype = _grad_dtype(dout)
    out_shape = shape4[:2] + (out_h, out_w)
    dout4 = check_grad(dout, out_shape if batched else out_shape[1:], dtype).reshape(out_shape)
    dx = np.zeros(shape4, dtype=dtype)
    for i, j, h0, h1, w0, w1 in _adaptive_windows(shape4[2:], (out_h, out_w)):
        dx[:, :, h0:h1, w0:w1] += (dout4[:, :, i, j] / dtype.type((h1 - h0) * (w1 - w0)))[:, :, None, None]
    return unbatch(dx, batched)


# ----------------------------------------------------------------------------- global pooling


def global_max_pool2d(x: FloatArray, return_indices: bool = False) -> FloatArray | tuple[FloatArray, IndexArray]:
    """Max over each whole (H, W) plane: output (N, C, 1, 1); adaptive max pooling to 1x1."""
    return adaptive_max_pool2d(x, 1, return_indices)


def global_max_pool2d_backward(dout: FloatArray, indices: IndexArray, x_shape: Sequence[int]) -> FloatArray:
    """Gradient of :func:`global_max_pool2d`: each plane's dout goes to its argmax."""
    return adaptive_max_pool2d_backward(dout, indices, x_shape)


def global_avg_pool2d(x: FloatArray) -> FloatArray:
    """Mean of each whole (H, W) plane: output (N, C, 1, 1); adaptive average pooling to 1x1."""
    return adaptive_avg_pool2d(x, 1)


def global_avg_pool2d_backward(dout: FloatArray, x_shape: Sequence[int]) -> FloatArray:
    """Gradient of :func:`global_avg_pool2d`: dout / (H*W) to every cell of the plane."""
    return adaptive_avg_pool2d_backward(dout, x_shape, 1)
