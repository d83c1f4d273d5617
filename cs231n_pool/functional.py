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

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._backend import check_method
from .geometry import FloatArray, IndexArray, IntOrPair, Padding, Shape, check_grad, check_shape
from .ops import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AdaptiveSize,
    AvgPool2d,
    MaxPool2d,
    MaxUnpool2d,
    check_indices,
    scatter_flat,
    unbatch,
    unpool_gather,
)

__all__ = [
    "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward", "max_unpool2d",
    "max_unpool2d_backward", "adaptive_max_pool2d", "adaptive_max_pool2d_backward", "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_backward", "global_max_pool2d", "global_max_pool2d_backward", "global_avg_pool2d",
    "global_avg_pool2d_backward", "AdaptiveSize",
]  # fmt: skip


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


# ----------------------------------------------------------------------------- max pooling


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
    out, ctx = MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode, method).forward(x)
    assert ctx.indices is not None  # max pooling always keeps them
    return (out, unbatch(ctx.indices, ctx.batched)) if return_indices else out


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
    idx = check_indices(indices, dout.shape, shape4[2] * shape4[3])
    dout4, idx4 = (dout, idx) if batched else (dout[None], idx[None])
    return unbatch(scatter_flat(dout4, idx4, shape4, check_method(method)), batched)


# ----------------------------------------------------------------------------- average pooling


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
    op = AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, method)
    return op.forward(x)[0]


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
    op = AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, method)
    shape4, batched = _batched_shape(x_shape)
    return op.backward(op.context(shape4, batched, _grad_dtype(dout)), dout)


# ----------------------------------------------------------------------------- max unpooling


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
    return MaxUnpool2d(kernel_size, stride, padding).forward(x, indices, output_size)[0]


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
    idx = check_indices(indices, indices.shape, dout.shape[-2] * dout.shape[-1], plane=f" of dout.shape={dout.shape}")
    return unpool_gather(dout, idx)


# ----------------------------------------------------------------------------- adaptive pooling


def adaptive_max_pool2d(
    x: FloatArray, output_size: AdaptiveSize, return_indices: bool = False
) -> FloatArray | tuple[FloatArray, IndexArray]:
    """Adaptive max pooling, like ``torch.nn.functional.adaptive_max_pool2d``.

    x: (N, C, H, W) or (C, H, W); output_size: int or (h, w) (None keeps that input size).
    Output bin i covers rows ``[floor(i*H/h), ceil((i+1)*H/h))`` (bins may overlap; h > H
    works). Ties go to the first max, NaN propagates (index = last NaN); indices are int64
    flat ``ih*W + iw`` per plane.
    """
    out, ctx = AdaptiveMaxPool2d(output_size).forward(x)
    assert ctx.indices is not None  # max pooling always keeps them
    return (out, unbatch(ctx.indices, ctx.batched)) if return_indices else out


def adaptive_max_pool2d_backward(dout: FloatArray, indices: IndexArray, x_shape: Sequence[int]) -> FloatArray:
    """Gradient of :func:`adaptive_max_pool2d`: each dout entry to its index (overlaps accumulate)."""
    return _scatter_backward(dout, indices, x_shape, unbatched_empty_c=True)


def adaptive_avg_pool2d(x: FloatArray, output_size: AdaptiveSize) -> FloatArray:
    """Adaptive average pooling, like ``torch.nn.functional.adaptive_avg_pool2d``.

    Bins as :func:`adaptive_max_pool2d`; each output is its bin's mean (no padding).
    """
    return AdaptiveAvgPool2d(output_size).forward(x)[0]


def adaptive_avg_pool2d_backward(dout: FloatArray, x_shape: Sequence[int], output_size: AdaptiveSize) -> FloatArray:
    """Gradient of :func:`adaptive_avg_pool2d`: dout / bin area to every cell of the bin."""
    shape4, batched = _batched_shape(x_shape, unbatched_empty_c=True)
    op = AdaptiveAvgPool2d(output_size)
    return op.backward(op.context(shape4, batched, _grad_dtype(dout)), dout)


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
