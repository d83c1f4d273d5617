"""CS231n-style pooling with plain loops: the reference the fast paths are tested against.

``forward(x, pool_param) -> (out, cache)`` and ``backward(dout, cache) -> dx``, as in
CS231n assignment 2. The loops walk every window cell in row-major order, so the
rules are visible in the code:

* x: (N, C, H, W) or (C, H, W), float32 or float64; out has x's dtype and batching.
* pool_param: ``pool_height``, ``pool_width``, ``stride`` (int or (h, w)) and optional
  ``pad`` (int or (h, w), default 0, at most half the window). Floor mode, no dilation:
  ``H' = (H + 2*pad - pool_height) // stride + 1`` (geometry.pool_geometry).
* Max: padding is -inf (it never wins); ties go to the FIRST maximum in the scan; a NaN
  wins (output NaN, index = the LAST NaN in the scan); a window of -inf picks its first
  in-bounds cell. The backward gives each window's dout to that one cell.
* Average: padded zeros count in the divisor (count_include_pad=True), so every
  window divides by pool_height*pool_width; backward spreads dout/divisor over the
  window's in-bounds cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .geometry import (
    FloatArray,
    PoolGeometry,
    avg_divisors,
    check_grad,
    check_input,
    pool_geometry,
    positive_int,
    window_cells,
    window_placement,
)

POOL_PARAM_KEYS = ("pool_height", "pool_width", "stride", "pad")
REQUIRED_KEYS = POOL_PARAM_KEYS[:3]


class MaxPoolCache(NamedTuple):
    """What max_pool_backward_naive needs: the input shape, the windows and each window's argmax.

    indices: int64 (N, C, H', W'), flat ``ih*W + iw`` into the unpadded (H, W) plane.
    """

    x_shape: tuple
    batched: bool
    dtype: np.dtype
    geom: PoolGeometry
    indices: np.ndarray


class AvgPoolCache(NamedTuple):
    """What avg_pool_backward_naive needs: the input shape, dtype and the windows."""

    x_shape: tuple
    batched: bool
    dtype: np.dtype
    geom: PoolGeometry


def pool_param_geometry(pool_param: dict[str, Any], spatial_shape: Sequence[int]) -> PoolGeometry:
    """Check a CS231n pool_param dict and place its windows on an (H, W) plane."""
    if not isinstance(pool_param, dict):
        raise TypeError(f"pool_param must be a dict, got {type(pool_param).__name__}")
    unknown = sorted(set(pool_param) - set(POOL_PARAM_KEYS), key=str)
    if unknown:
        raise ValueError(f"pool_param has unknown key(s) {unknown}; allowed keys are {list(POOL_PARAM_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in pool_param:
            raise ValueError(f"pool_param is missing the key {key!r}; got keys {sorted(pool_param, key=str)}")
    kernel = tuple(positive_int(pool_param[key], f"pool_param[{key!r}]") for key in ("pool_height", "pool_width"))
    pad = pool_param.get("pad", 0)
    if isinstance(pad, str):  # 'same' has its own divisor rule, which these loops do not implement
        raise TypeError(
            f"pool_param['pad'] must be an int or (h, w) (use avg_pool2d/max_pool2d for "
            f"'same'/'valid'), got pad={pad!r}"
        )
    return pool_geometry(spatial_shape, kernel, pool_param["stride"], pad)


def max_pool_forward_naive(x: FloatArray, pool_param: dict[str, Any]) -> tuple[FloatArray, MaxPoolCache]:
    """Max pooling with plain loops over windows and window cells (CS231n's signature).

    Parameters
    ----------
    x : ndarray
        (N, C, H, W) or (C, H, W), float32 or float64.
    pool_param : dict
        ``pool_height``, ``pool_width``, ``stride`` (int or pair) and optional ``pad`` (int or pair,
        default 0, at most half the window). Floor mode, no dilation.

    Returns
    -------
    out : ndarray
        (N, C, H', W') (or (C, H', W')) of x's dtype.
    cache : MaxPoolCache
        What :func:`max_pool_backward_naive` needs.

    Raises
    ------
    TypeError, ValueError
        A bad input or pool_param, named with its value.

    Notes
    -----
    Padding is -inf; ties go to the first maximum in row-major order; NaN propagates (index: the
    last NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import max_pool_forward_naive
    >>> out, cache = max_pool_forward_naive(np.arange(16.0).reshape(1, 1, 4, 4),
    ...                                     dict(pool_height=2, pool_width=2, stride=2))
    >>> out[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    x4, batched = check_input(x)
    geom = pool_param_geometry(pool_param, x4.shape[2:])
    N, C = x4.shape[:2]
    out = np.empty((N, C, geom.out_h, geom.out_w), dtype=x4.dtype)
    indices = np.empty(out.shape, dtype=np.int64)
    placement = window_placement(geom)  # where each window meets the plane, computed once
    for oh in range(geom.out_h):
        for ow in range(geom.out_w):
            cells = list(window_cells(geom, oh, ow, placement))
            best = np.full((N, C), -np.inf, dtype=x4.dtype)
            first_h, first_w = cells[0]
            best_idx = np.full((N, C), first_h * geom.in_w + first_w, dtype=np.int64)
            for ih, iw in cells:  # every (n, c) plane scans this window at once
                val = x4[:, :, ih, iw]
                better = (val > best) | np.isnan(val)
                best = np.where(better, val, best)
                best_idx = np.where(better, ih * geom.in_w + iw, best_idx)
            out[:, :, oh, ow] = best
            indices[:, :, oh, ow] = best_idx
    cache = MaxPoolCache(tuple(x4.shape), batched, x4.dtype, geom, indices)
    return (out if batched else out[0]), cache


def max_pool_backward_naive(dout: FloatArray, cache: MaxPoolCache) -> FloatArray:
    """Backward of :func:`max_pool_forward_naive`: each window's dout goes to its argmax cell.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient of the forward output's shape.
    cache : MaxPoolCache
        From the forward.

    Returns
    -------
    dx : ndarray
        x's shape and dtype; overlapping windows that share an argmax accumulate.

    Raises
    ------
    TypeError, ValueError
        A cache that is not a MaxPoolCache, or dout of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import max_pool_backward_naive, max_pool_forward_naive
    >>> out, cache = max_pool_forward_naive(np.arange(16.0).reshape(1, 1, 4, 4),
    ...                                     dict(pool_height=2, pool_width=2, stride=2))
    >>> max_pool_backward_naive(np.ones_like(out), cache)[0, 0, 1]
    array([0., 1., 0., 1.])
    """
    if not isinstance(cache, MaxPoolCache):
        raise TypeError(f"cache must be the MaxPoolCache from max_pool_forward_naive, got {type(cache).__name__}")
    N, C, H, W = cache.x_shape
    out_shape = cache.indices.shape if cache.batched else cache.indices.shape[1:]
    dout4 = check_grad(dout, out_shape, cache.dtype).reshape(cache.indices.shape)
    dx = np.zeros((N, C, H * W), dtype=cache.dtype)
    for n in range(N):
        for c in range(C):
            for oh in range(cache.geom.out_h):
                for ow in range(cache.geom.out_w):
                    dx[n, c, cache.indices[n, c, oh, ow]] += dout4[n, c, oh, ow]
    dx = dx.reshape(N, C, H, W)
    return dx if cache.batched else dx[0]


def avg_pool_forward_naive(x: FloatArray, pool_param: dict[str, Any]) -> tuple[FloatArray, AvgPoolCache]:
    """Average pooling with plain loops; padded zeros count (divisor pool_height*pool_width).

    Parameters
    ----------
    x : ndarray
        (N, C, H, W) or (C, H, W), float32 or float64.
    pool_param : dict
        As in :func:`max_pool_forward_naive`.

    Returns
    -------
    out : ndarray
        (N, C, H', W') (or (C, H', W')) of x's dtype.
    cache : AvgPoolCache
        What :func:`avg_pool_backward_naive` needs.

    Raises
    ------
    TypeError, ValueError
        A bad input or pool_param.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import avg_pool_forward_naive
    >>> out, cache = avg_pool_forward_naive(np.arange(16.0).reshape(1, 1, 4, 4),
    ...                                     dict(pool_height=2, pool_width=2, stride=2))
    >>> out[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    x4, batched = check_input(x)
    geom = pool_param_geometry(pool_param, x4.shape[2:])
    divisors = avg_divisors(geom, count_include_pad=True)
    N, C = x4.shape[:2]
    out = np.empty((N, C, geom.out_h, geom.out_w), dtype=x4.dtype)
    placement = window_placement(geom)  # where each window meets the plane, computed once
    for oh in range(geom.out_h):
        for ow in range(geom.out_w):
            total = np.zeros((N, C), dtype=x4.dtype)
            for ih, iw in window_cells(geom, oh, ow, placement):
                total += x4[:, :, ih, iw]
            out[:, :, oh, ow] = total / x4.dtype.type(divisors[oh, ow])
    cache = AvgPoolCache(tuple(x4.shape), batched, x4.dtype, geom)
    return (out if batched else out[0]), cache


def avg_pool_backward_naive(dout: FloatArray, cache: AvgPoolCache) -> FloatArray:
    """Backward of :func:`avg_pool_forward_naive`: dout/divisor to each in-bounds window cell.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient of the forward output's shape.
    cache : AvgPoolCache
        From the forward.

    Returns
    -------
    dx : ndarray
        x's shape and dtype.

    Raises
    ------
    TypeError, ValueError
        A cache that is not an AvgPoolCache, or dout of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import avg_pool_backward_naive, avg_pool_forward_naive
    >>> out, cache = avg_pool_forward_naive(np.arange(16.0).reshape(1, 1, 4, 4),
    ...                                     dict(pool_height=2, pool_width=2, stride=2))
    >>> avg_pool_backward_naive(np.ones_like(out), cache)[0, 0, 1]
    array([0.25, 0.25, 0.25, 0.25])
    """
    if not isinstance(cache, AvgPoolCache):
        raise TypeError(f"cache must be the AvgPoolCache from avg_pool_forward_naive, got {type(cache).__name__}")
    N, C, H, W = cache.x_shape
    geom = cache.geom
    out_shape = (N, C, geom.out_h, geom.out_w)
    dout4 = check_grad(dout, out_shape if cache.batched else out_shape[1:], cache.dtype).reshape(out_shape)
    divisors = avg_divisors(geom, count_include_pad=True)
    dx = np.zeros((N, C, H, W), dtype=cache.dtype)
    placement = window_placement(geom)  # where each window meets the plane, computed once
    for oh in range(geom.out_h):
        for ow in range(geom.out_w):
            share = dout4[:, :, oh, ow] / cache.dtype.type(divisors[oh, ow])
            for ih, iw in window_cells(geom, oh, ow, placement):
                dx[:, :, ih, iw] += share
    return dx if cache.batched else dx[0]
