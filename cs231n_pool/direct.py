"""Fused ("direct") pooling kernels: no column matrix, one pass over the input.

``method="direct"`` computes the same numbers as the taught im2col path with
PyTorch's CPU semantics (docs/semantics.md), straight on (N, C, H, W):

* Output size: ``out = (H + 2p - d*(k-1) - 1) // s + 1`` (floor) or the ceil-mode
  rule; the window placement comes from :func:`cs231n_pool.geometry.pool_geometry`.
* Max: padding counts as -inf (it is never read). The running max starts at -inf
  with the index of the window's first in-bounds cell and is replaced when
  ``val > cur or isnan(val)`` in row-major window order: ties go to the FIRST
  maximum, NaN propagates with the index of the LAST NaN. Indices are int64, flat
  ``ih*W + iw`` within each (n, c) plane of the unpadded input. Backward adds
  ``dout`` at the stored index (overlapping windows accumulate).
* Average: the in-bounds cells are summed in the input dtype in row-major window
  order and divided by ``avg_divisors(...)``; backward adds ``dout / divisor`` to
  the in-bounds cells of each window.

Every kernel runs an OpenMP loop over the N*C planes. The thread count is, in
order of precedence: the ``threads`` argument, :func:`set_num_threads`, the
``CS231N_POOL_NUM_THREADS`` environment variable, ``os.cpu_count()``; without a
``threads`` argument a call also uses at most one thread per ``GRAIN`` (32768)
elements, so small arrays never pay for waking threads. Without
OpenMP in the build the kernels run on one thread and a request for more warns
once. The kernels need the compiled extension ``cs231n_pool._direct``; without it
these functions raise ImportError (the im2col path keeps its numpy fallback).

The functions here take already-validated arrays (see geometry.check_input);
the op table (ops.py) calls them for ``method="direct"``.
"""

from __future__ import annotations

import functools
import numbers
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._backend import direct_kernels as _direct  # None when the extension is not built
from .geometry import SUPPORTED_DTYPES, FloatArray, IndexArray, PoolGeometry, window_placement, window_starts

AVAILABLE = _direct is not None
ENV_THREADS = "CS231N_POOL_NUM_THREADS"
GRAIN = 1 << 15  # elements per thread below which the default thread count is reduced (PyTorch's grain size)
HAVE_OPENMP = bool(_direct is not None and _direct.HAVE_OPENMP)

_threads_override = None
_warned_no_openmp = False


def _require_extension() -> Any:
    if _direct is None:
        raise ImportError(
            "method='direct' needs the compiled extension cs231n_pool._direct, which is not built; "
            "run `make build` (or `pip install -e .`), or use method='im2col'"
        )
    return _direct


def _check_threads(value: Any, name: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int >= 1, got {name}={value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {name}={value!r}")
    return int(value)


def set_num_threads(threads: int | None) -> None:
    """Set the thread count of the direct kernels (int >= 1); ``None`` restores the default."""
    global _threads_override
    _threads_override = None if threads is None else _check_threads(threads, "threads")


def get_num_threads() -> int:
    """Threads the direct kernels use when no ``threads`` argument is given.

    set_num_threads() wins over the CS231N_POOL_NUM_THREADS environment variable,
    which wins over os.cpu_count().
    """
    if _threads_override is not None:
        return _threads_override
    env = os.environ.get(ENV_THREADS)
    if env is not None and env.strip():
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"{ENV_THREADS} must be an int >= 1, got {ENV_THREADS}={env!r}") from None
        return _check_threads(value, ENV_THREADS)
    return os.cpu_count() or 1


def _resolve_threads(threads: int | None, work: int) -> int:
    """Threads for one call. An explicit ``threads`` is used as given; the default is capped
    at one thread per GRAIN elements of work, so small calls skip the cost of waking threads."""
    global _warned_no_openmp
    n = min(get_num_threads(), max(1, work // GRAIN)) if threads is None else _check_threads(threads, "threads")
    if n > 1 and not HAVE_OPENMP:
        if not _warned_no_openmp:
            warnings.warn(
                f"cs231n_pool._direct was built without OpenMP; running on 1 thread instead of {n}",
                RuntimeWarning,
                stacklevel=3,
            )
            _warned_no_openmp = True
        return 1
    return n


def _frozen(a: NDArray[np.integer[Any]]) -> NDArray[np.intp]:
    frozen = a.astype(np.intp)
    frozen.flags.writeable = False  # shared through the layout cache
    return frozen


@functools.lru_cache(maxsize=64)
def _layout(geom: PoolGeometry):
    """Kernel arguments describing the window placement (see _direct.pyx); cached per geometry."""
    rows, cols = window_placement(geom)
    row_start, row_count = _frozen(rows.first), _frozen(rows.cells)
    col_start, col_count = _frozen(cols.first), _frozen(cols.cells)
    # interior columns: the whole window row lies inside the plane
    inside = np.flatnonzero(cols.cells == geom.kernel_w)
    ow_lo, ow_hi = (int(inside[0]), int(inside[-1]) + 1) if inside.size else (0, 0)
    return (
        geom.kernel_w,
        geom.stride_w,
        geom.pad_left,
        geom.dilation_h,
        geom.dilation_w,
        row_start,
        row_count,
        col_start,
        col_count,
        ow_lo,
        ow_hi,
    )


def _separable(geom: PoolGeometry, layout: tuple) -> bool:
    """Square 2x2 windows at stride 1, or 3x3 at stride 1 or 2, undilated, every window with at least
    one in-bounds row and column: max over row runs first, then across rows (exact, fewer compares)."""
    row_count, col_count = layout[6], layout[8]
    return (
        geom.kernel_h == geom.kernel_w
        and geom.stride_h == geom.stride_w
        and (geom.kernel_w, geom.stride_w) in ((2, 1), (3, 1), (3, 2))
        and geom.dilation_h == geom.dilation_w == 1
        and geom.in_h > 0
        and row_count.size > 0
        and col_count.size > 0
        and row_count.min() > 0
        and col_count.min() > 0
    )


_NO_CLASSES = np.empty(0, dtype=np.int32)


@functools.lru_cache(maxsize=64)
def _run_classes(geom: PoolGeometry) -> np.ndarray:
    """For 3x3 windows at stride 1 with W == out_w: the class of the row run under every output
    (0 all three cells in the plane, 1 the first cell outside, 2 the last cell outside), tiled
    over the H rows, so the kernel does every run in one loop. Empty when that does not apply.
    (At stride 2 the kernel's border pass is one column and the one loop was slower: S2 2.8 vs
    2.4 ms; at stride 1 it wins: S4 1.03 vs 1.15 ms.)"""
    kw, sw, _, _, _, _, _, col_start, col_count, ow_lo, ow_hi = _layout(geom)
    if kw != 3 or sw != 1 or geom.in_w != geom.out_w or ow_hi <= ow_lo:
        return _NO_CLASSES
    starts = window_starts(geom)[1]
    classes = np.zeros(geom.out_w, dtype=np.int32)
    border = np.ones(geom.out_w, dtype=bool)
    border[ow_lo:ow_hi] = False
    drop_first = border & (col_count == 2) & (col_start == starts + 1)
    drop_last = border & (col_count == 2) & (col_start == starts)
    if np.any(border & ~drop_first & ~drop_last):
        return _NO_CLASSES
    classes[drop_first] = 1
    classes[drop_last] = 2
    classes = np.tile(classes, geom.in_h)
    classes.flags.writeable = False  # shared through the cache
    return classes


def _check_float4(a: Any, name: str, shape: Sequence[int] | None = None) -> None:
    """Cheap guards so a kernel never reads or writes out of bounds, even when called directly."""
    if not isinstance(a, np.ndarray) or a.dtype not in SUPPORTED_DTYPES or a.ndim != 4:
        what = f"{type(a).__name__} {getattr(a, 'dtype', '')} of ndim {getattr(a, 'ndim', '?')}"
        raise TypeError(f"{name} must be a 4-D float32/float64 numpy array, got a {what}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {name}.shape={a.shape}")


def _check_x_shape(x_shape: Any, geom: PoolGeometry | None = None) -> tuple[int, int, int, int]:
    shape = tuple(int(v) for v in x_shape)
    if len(shape) != 4 or min(shape) < 0 or (geom is not None and shape[2:] != (geom.in_h, geom.in_w)):
        raise ValueError(f"x_shape must be (N, C, H, W) matching the pooling geometry, got x_shape={x_shape!r}")
    return shape


def _check_geometry(x4: np.ndarray, geom: PoolGeometry) -> None:
    _check_float4(x4, "x")
    if x4.shape[2:] != (geom.in_h, geom.in_w):
        raise ValueError(f"x's (H, W)={x4.shape[2:]} differs from the geometry's {(geom.in_h, geom.in_w)}")


def _check_divisors(divisors: ArrayLike, geom: PoolGeometry) -> NDArray[np.float64]:
    divisors = np.ascontiguousarray(divisors, dtype=np.float64)
    if divisors.shape != (geom.out_h, geom.out_w):
        raise ValueError(f"divisors must have shape {(geom.out_h, geom.out_w)}, got divisors.shape={divisors.shape}")
    return divisors


def _divisors_as(divisors: NDArray[np.float64], dtype: np.dtype[Any]) -> FloatArray:
    """The (integer) divisors in the input dtype, for the whole-plane kernel's division in that dtype.

    For float32 this is PyTorch's rule (the sum divided by the divisor converted to float32), and
    it equals the float64 division rounded to float32 that the cell-at-a-time kernel does whenever
    float32 holds the divisor (|d| <= 2**24): a float64 quotient of two float32 values rounds to
    the correctly rounded float32 quotient, as 53 >= 2*24 + 2 bits."""
    return divisors.astype(dtype, copy=False)


def _planes(a: np.ndarray) -> np.ndarray:
    N, C, H, W = a.shape
    return np.ascontiguousarray(a).reshape(N * C, H, W)


def max_pool_forward_direct(
    x4: FloatArray, geom: PoolGeometry, threads: int | None = None
) -> tuple[FloatArray, IndexArray]:
    """Max pooling of a validated (N, C, H, W) float array.

    Returns ``(out, idx)``: out (N, C, out_h, out_w) of x4's dtype, idx int64 of the
    same shape holding the flat ``ih*W + iw`` argmax within each plane.
    """
    kernels = _require_extension()
    _check_geometry(x4, geom)
    N, C, H, W = x4.shape
    if np.iinfo(np.int32).max < H * W:
        raise ValueError(
            f"method='direct' supports planes of up to 2**31 - 1 cells, got x.shape={x4.shape}; use method='im2col'"
        )
    n_threads = _resolve_threads(threads, x4.size)
    layout = _layout(geom)
    out = np.empty((N, C, geom.out_h, geom.out_w), dtype=x4.dtype)
    idx = np.empty(out.shape, dtype=np.int64)
    # per-thread rows, each padded by 16 entries (a cache line or more) so that two threads never
    # write the same line (S1's unpadded 16-entry rows shared lines: 2 threads ran slower than 1)
    scratch = np.empty((n_threads, geom.out_w + 16), dtype=np.int32)  # running indices
    separable = _separable(geom, layout)
    run_cells = H * geom.out_w if separable else 1
    row_values = np.empty((n_threads, run_cells + 16), dtype=x4.dtype)
    row_indices = np.empty((n_threads, run_cells + 16), dtype=np.int32)
    kernels.max_forward(
        _planes(x4),
        out.reshape(N * C, geom.out_h, geom.out_w),
        idx.reshape(N * C, geom.out_h, geom.out_w),
        scratch,
        row_values,
        row_indices,
        separable,
        _run_classes(geom) if separable else _NO_CLASSES,
        *layout,
        n_threads,
    )
    return out, idx


@functools.lru_cache(maxsize=64)
def _plane_case(geom: PoolGeometry) -> tuple[int, int, bool] | None:
    """(kernel, stride, pad) for the whole-plane kernels, or None where they do not apply: square
    undilated windows of side 2 or 3 at stride 1 or 2. pad: whether a window reaches outside the
    plane (padding, or a ceil-mode window past the end), so the planes need a padded copy."""
    k, s = geom.kernel_h, geom.stride_h
    if not (k == geom.kernel_w in (2, 3) and s == geom.stride_w in (1, 2) and geom.dilation_h == geom.dilation_w == 1):
        return None
    if geom.out_h < 1 or geom.out_w < 1:
        return None
    rows, cols = (geom.out_h - 1) * s + k, (geom.out_w - 1) * s + k
    pad = bool(geom.pad_top or geom.pad_left or rows > geom.in_h or cols > geom.in_w)
    return k, s, pad


def _plane_values(
    x4: FloatArray, geom: PoolGeometry, out: FloatArray, divisors: FloatArray | None, n_threads: int
) -> None:
    """Run the whole-plane kernel (max values when divisors is None, else the average) into out."""
    kernel, stride, pad = _plane_case(geom)  # type: ignore[misc]  # the callers checked it applies
    N, C = x4.shape[:2]
    rows, cols = (geom.out_h - 1) * stride + kernel, (geom.out_w - 1) * stride + kernel
    ld = (cols + cols % 2 if stride == 2 else cols) if pad else geom.in_w  # the row stride (_direct.pyx)
    # per-thread rows padded by 16 entries, so two threads never write one cache line
    padded = np.empty((n_threads, rows * ld + 16 if pad else 1), dtype=x4.dtype)
    runs = np.empty((n_threads, 1 if divisors is not None else rows * ld + 16), dtype=x4.dtype)
    _require_extension().plane_values(
        _planes(x4),
        out.reshape(N * C, geom.out_h, geom.out_w),
        padded,
        runs,
        np.ones((1, 1), dtype=x4.dtype) if divisors is None else divisors,
        divisors is not None,
        pad,
        kernel,
        stride,
        geom.pad_top,
        geom.pad_left,
        n_threads,
    )


def max_pool_values_direct(x4: FloatArray, geom: PoolGeometry, threads: int | None = None) -> FloatArray:
    """Max pooling without indices: the ``out`` of :func:`max_pool_forward_direct`, bit for bit.

    Square undilated 2x2 or 3x3 windows at stride 1 or 2 take a kernel that writes no index
    (a third of the bytes the indexed kernel writes); other windows run the indexed kernel.
    """
    _require_extension()
    _check_geometry(x4, geom)
    if _plane_case(geom) is None:
        return max_pool_forward_direct(x4, geom, threads)[0]
    out = np.empty(x4.shape[:2] + (geom.out_h, geom.out_w), dtype=x4.dtype)
    _plane_values(x4, geom, out, None, _resolve_threads(threads, x4.size))
    return out


def max_pool_backward_direct(
    dout4: FloatArray, idx: NDArray[np.integer[Any]], x_shape: Sequence[int], threads: int | None = None
) -> FloatArray:
    """Gradient of max pooling: ``dx[n, c].flat[idx] += dout`` for every output.

    dout4: (N, C, out_h, out_w) float; idx: the int64 indices from the forward pass;
    x_shape: (N, C, H, W). Returns dx of dout4's dtype.
    """
    kernels = _require_extension()
    N, C, H, W = _check_x_shape(x_shape)
    _check_float4(dout4, "dout")
    if dout4.shape[:2] != (N, C):
        raise ValueError(f"dout.shape={dout4.shape} does not match x_shape={tuple(x_shape)} in (N, C)")
    if not (isinstance(idx, np.ndarray) and np.issubdtype(idx.dtype, np.integer) and idx.shape == dout4.shape):
        raise ValueError(
            f"idx must be an integer array of dout's shape {dout4.shape}, got "
            f"{getattr(idx, 'dtype', type(idx).__name__)} of shape {getattr(idx, 'shape', None)}"
        )
    dx = np.empty((N, C, H, W), dtype=dout4.dtype)
    kernels.max_backward(
        _planes(dout4),
        _planes(idx.astype(np.int64, copy=False)),
        dx.reshape(N * C, H, W),
        _resolve_threads(threads, dx.size),
    )
    return dx


def avg_pool_forward_direct(
    x4: FloatArray, geom: PoolGeometry, divisors: NDArray[np.float64], threads: int | None = None
) -> FloatArray:
    """Average pooling of a validated (N, C, H, W) float array.

    divisors: (out_h, out_w) float64 from geometry.avg_divisors. Returns out
    (N, C, out_h, out_w) of x4's dtype: the sum of each window's in-bounds cells / divisor.
    """
    kernels = _require_extension()
    _check_geometry(x4, geom)
    N, C = x4.shape[:2]
    out = np.empty((N, C, geom.out_h, geom.out_w), dtype=x4.dtype)
    divisors = _check_divisors(divisors, geom)
    if _plane_case(geom) is not None:
        _plane_values(x4, geom, out, _divisors_as(divisors, x4.dtype), _resolve_threads(threads, x4.size))
        return out
    kernels.avg_forward(
        _planes(x4),
        out.reshape(N * C, geom.out_h, geom.out_w),
        divisors,
        *_layout(geom),
        _resolve_threads(threads, x4.size),
    )
    return out


def avg_pool_backward_direct(
    dout4: FloatArray,
    geom: PoolGeometry,
    divisors: NDArray[np.float64],
    x_shape: Sequence[int],
    threads: int | None = None,
) -> FloatArray:
    """Gradient of average pooling: ``dout / divisor`` added to each window's in-bounds cells.

    Square undilated 2x2 and 3x3 windows at stride 1, 3x3 at stride 2, and tiles that cover the plane exactly,
    add the shares to each cell in the windows' row-major order (PyTorch's CPU order, so the
    result is PyTorch's bit for bit); other geometries spread a window row at a time.

    dout4: (N, C, out_h, out_w) float; x_shape: (N, C, H, W). Returns dx of dout4's dtype.
    """
    kernels = _require_extension()
    N, C, H, W = _check_x_shape(x_shape, geom)
    _check_float4(dout4, "dout", (N, C, geom.out_h, geom.out_w))
    dx = np.empty((N, C, H, W), dtype=dout4.dtype)
    divisors = _check_divisors(divisors, geom)
    case = _plane_case(geom)
    if case is not None:
        kernel, stride, pad = case
        tiles = stride == kernel and not pad and (geom.out_h * kernel, geom.out_w * kernel) == (H, W)
        if tiles or stride == 1 or kernel == 3:
            n_threads = _resolve_threads(threads, dx.size)
            cells = kernels.avg_backward_scratch(H, W, geom.out_h, geom.out_w, kernel, tiles, stride)
            kernels.avg_backward_planes(
                _planes(dout4),
                dx.reshape(N * C, H, W),
                _divisors_as(divisors, dout4.dtype),
                np.empty((n_threads, cells + 16), dtype=dout4.dtype),  # padded: no shared cache line
                kernel,
                tiles,
                stride,
                geom.pad_top,
                geom.pad_left,
                n_threads,
            )
            return dx
    scratch = np.empty((N * C, geom.out_w), dtype=dout4.dtype)
    kernels.avg_backward(
        _planes(dout4),
        dx.reshape(N * C, H, W),
        divisors,
        scratch,
        *_layout(geom),
        _resolve_threads(threads, dx.size),
    )
    return dx
