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

    Parameters
    ----------
    x : ndarray
        (N, C, H, W) or (C, H, W), float32 or float64, any memory order.
    kernel_size, stride, dilation : int or pair of ints
        Window size, step (default: kernel_size) and spacing of the window's cells, all > 0.
        ``(v,)`` means ``(v, v)`` and ``stride=()`` the default, as in torch.
    padding : int, pair of ints, 'same' or 'valid'
        At most ``kernel_size // 2``; padded cells are -inf. 'same' is TensorFlow's rule.
    ceil_mode : bool
        Round the output size up (the last window must start inside the input or left padding).
    return_indices : bool
        Also return where each maximum is.
    method : {None, 'im2col', 'direct'}
        The kernels; None takes the fastest that is built. All give identical results.

    Returns
    -------
    out : ndarray
        (N, C, H', W') of x's dtype (x's batching), ``H' = (H + 2p - d*(k-1) - 1) // s + 1``.
    indices : ndarray of int64, only with ``return_indices``
        Shaped like out: flat ``ih*W + iw`` within each (n, c) plane of the unpadded input.

    Raises
    ------
    TypeError, ValueError
        A bad input or argument, named with its value; a dilated window that holds no input
        cell (PyTorch returns -inf there with an index outside the plane).

    Notes
    -----
    Each window is scanned row-major and a value replaces the running max when it is greater or
    NaN: ties go to the first maximum, a NaN propagates (index: the last NaN), a window of -inf
    points at its first in-bounds cell. See docs/semantics.md.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, idx = F.max_pool2d(x, 2, return_indices=True)
    >>> out[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    >>> idx[0, 0]
    array([[ 5,  7],
           [13, 15]])
    >>> F.max_pool2d(x, 3, stride=2, padding=1)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    out, ctx = MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode, method, return_indices).forward(x)
    if not return_indices:
        return out
    assert ctx.indices is not None  # kept when asked for
    return out, unbatch(ctx.indices, ctx.batched)


def max_pool2d_backward(
    dout: FloatArray, indices: IndexArray, x_shape: Sequence[int], method: str | None = None
) -> FloatArray:
    """Gradient of :func:`max_pool2d` w.r.t. x, from the forward's indices.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient, the forward output's shape; an integer dout is taken as float64.
    indices : ndarray of int
        The forward's indices (flat ``ih*W + iw`` per plane), dout's shape.
    x_shape : tuple of int
        The forward input's shape, (N, C, H, W) or (C, H, W).
    method : {None, 'im2col', 'direct'}
        "im2col" scatters with numpy, "direct" with the loop kernel; both add repeated indices
        in output order in dout's dtype, as PyTorch does, so they agree with it bit for bit.

    Returns
    -------
    dx : ndarray
        x_shape, dout's dtype (float64 for an integer dout): each dout entry added at its index;
        repeated indices accumulate.

    Raises
    ------
    TypeError, ValueError
        dout or indices of the wrong type or shape, or an index outside the plane.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, idx = F.max_pool2d(x, 2, return_indices=True)
    >>> F.max_pool2d_backward(np.ones_like(out), idx, x.shape)[0, 0]
    array([[0., 0., 0., 0.],
           [0., 1., 0., 1.],
           [0., 0., 0., 0.],
           [0., 1., 0., 1.]])
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

    Parameters
    ----------
    x : ndarray
        (N, C, H, W) or (C, H, W), float32 or float64.
    kernel_size, stride, padding, ceil_mode, method
        As in :func:`max_pool2d` (no dilation); padded cells are 0.
    count_include_pad : bool
        Whether the declared padding counts in the divisor.
    divisor_override : int, optional
        A fixed divisor (non-zero; negative values are allowed, as in torch).

    Returns
    -------
    out : ndarray
        (N, C, H', W') of x's dtype: each window's sum over its divisor.

    Raises
    ------
    TypeError, ValueError
        A bad input or argument, named with its value.

    Notes
    -----
    A window spans ``[start, min(start + k, H + p))``; its divisor is divisor_override if given,
    else that span's size if count_include_pad, else its number of in-bounds cells.
    ``padding='same'`` never counts padded cells. Sums run in x's dtype in row-major order.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.avg_pool2d(x, 2)[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)[0, 0]
    array([[ 2.5,  4. ],
           [ 8.5, 10. ]])
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
    """Gradient of :func:`avg_pool2d` w.r.t. x.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient of the forward output's shape.
    x_shape : tuple of int
        The forward input's shape, (N, C, H, W) or (C, H, W).
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, method
        The forward's arguments.

    Returns
    -------
    dx : ndarray
        x_shape, dout's dtype (float64 for an integer dout): ``dout / divisor`` added to every
        in-bounds cell of each window; padding receives nothing.

    Raises
    ------
    TypeError, ValueError
        A bad argument, or dout of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> F.avg_pool2d_backward(np.ones((1, 1, 2, 2)), (1, 1, 4, 4), 2)[0, 0]
    array([[0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25],
           [0.25, 0.25, 0.25, 0.25]])
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

    Parameters
    ----------
    x : ndarray
        Pooled values, (N, C, H, W) or (C, H, W), float32 or float64.
    indices : ndarray of int
        Flat indices into the unpooled plane (what max_pool2d returns), x's shape.
    kernel_size, stride, padding : int or pair of ints
        The pooling's arguments (``(v,)`` is refused here, as torch refuses it).
    output_size : tuple of int, optional
        (h, w) or (N, C, h, w); strictly within ``default ± stride`` per dimension.

    Returns
    -------
    out : ndarray
        (N, C, H_out, W_out) of x's dtype, default ``H_out = (H - 1)*s - 2p + k``: zeros except
        ``out[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j]``.

    Raises
    ------
    TypeError, ValueError
        A bad argument, output size, or an index outside [0, H_out*W_out).

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, idx = F.max_pool2d(x, 2, return_indices=True)
    >>> F.max_unpool2d(out, idx, 2)[0, 0]
    array([[ 0.,  0.,  0.,  0.],
           [ 0.,  5.,  0.,  7.],
           [ 0.,  0.,  0.,  0.],
           [ 0., 13.,  0., 15.]])
    """
    return MaxUnpool2d(kernel_size, stride, padding).forward(x, indices, output_size)[0]


def max_unpool2d_backward(dout: FloatArray, indices: NDArray[np.integer[Any]]) -> FloatArray:
    """Gradient of :func:`max_unpool2d` w.r.t. x.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient of the unpooled output's shape.
    indices : ndarray of int
        The forward's indices (x's shape).

    Returns
    -------
    dx : ndarray
        ``dx[n, c, i, j] = dout[n, c].flat[indices[n, c, i, j]]``, dout's dtype (float64 for an
        integer dout).

    Raises
    ------
    TypeError, ValueError
        Mismatched shapes, or an index outside the plane.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, idx = F.max_pool2d(x, 2, return_indices=True)
    >>> F.max_unpool2d_backward(x, idx)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
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

    Parameters
    ----------
    x : ndarray
        (N, C, H, W) or (C, H, W), float32 or float64; a 3-D input may have C = 0, as in torch.
    output_size : int or pair
        (h, w); a None entry keeps that input size.
    return_indices : bool
        Also return where each maximum is (flat ``ih*W + iw`` per plane, int64).

    Returns
    -------
    out : ndarray
        (N, C, h, w) of x's dtype.
    indices : ndarray of int64, only with ``return_indices``

    Raises
    ------
    TypeError, ValueError
        A bad input or output size, named with its value.

    Notes
    -----
    Bin i covers rows ``[floor(i*H/h), ceil((i+1)*H/h))`` (bins may overlap; h > H works). Ties and
    NaN as in :func:`max_pool2d`.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, idx = F.adaptive_max_pool2d(x, (1, 2), return_indices=True)
    >>> out[0, 0], idx[0, 0]
    (array([[13., 15.]]), array([[13, 15]]))
    """
    out, ctx = AdaptiveMaxPool2d(output_size).forward(x)
    assert ctx.indices is not None  # max pooling always keeps them
    return (out, unbatch(ctx.indices, ctx.batched)) if return_indices else out


def adaptive_max_pool2d_backward(dout: FloatArray, indices: IndexArray, x_shape: Sequence[int]) -> FloatArray:
    """Gradient of :func:`adaptive_max_pool2d`: each dout entry to its index (overlaps accumulate).

    Parameters
    ----------
    dout : ndarray
        Upstream gradient of the output's shape.
    indices : ndarray of int
        The forward's indices.
    x_shape : tuple of int
        The forward input's shape.

    Returns
    -------
    dx : ndarray
        x_shape, dout's dtype (float64 for an integer dout).

    Raises
    ------
    TypeError, ValueError
        As :func:`max_pool2d_backward`.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, idx = F.adaptive_max_pool2d(x, (1, 2), return_indices=True)
    >>> F.adaptive_max_pool2d_backward(np.ones_like(out), idx, x.shape)[0, 0]
    array([[0., 0., 0., 0.],
           [0., 0., 0., 0.],
           [0., 0., 0., 0.],
           [0., 1., 0., 1.]])
    """
    return _scatter_backward(dout, indices, x_shape, unbatched_empty_c=True)


def adaptive_avg_pool2d(x: FloatArray, output_size: AdaptiveSize) -> FloatArray:
    """Adaptive average pooling, like ``torch.nn.functional.adaptive_avg_pool2d``.

    Parameters
    ----------
    x : ndarray
        (N, C, H, W) or (C, H, W), float32 or float64; a 3-D input may have C = 0.
    output_size : int or pair
        (h, w); a None entry keeps that input size.

    Returns
    -------
    out : ndarray
        (N, C, h, w) of x's dtype: the mean of each bin (bins as :func:`adaptive_max_pool2d`).

    Raises
    ------
    TypeError, ValueError
        A bad input or output size.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.adaptive_avg_pool2d(x, (2, 1))[0, 0]
    array([[ 3.5],
           [11.5]])
    """
    return AdaptiveAvgPool2d(output_size).forward(x)[0]


def adaptive_avg_pool2d_backward(dout: FloatArray, x_shape: Sequence[int], output_size: AdaptiveSize) -> FloatArray:
    """Gradient of :func:`adaptive_avg_pool2d`: dout / bin area to every cell of the bin.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient of the output's shape.
    x_shape : tuple of int
        The forward input's shape.
    output_size : int or pair
        The forward's output_size.

    Returns
    -------
    dx : ndarray
        x_shape, dout's dtype (float64 for an integer dout).

    Raises
    ------
    TypeError, ValueError
        A bad shape or output size.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> F.adaptive_avg_pool2d_backward(np.ones((1, 1, 2, 1)), (1, 1, 4, 4), (2, 1))[0, 0]
    array([[0.125, 0.125, 0.125, 0.125],
           [0.125, 0.125, 0.125, 0.125],
           [0.125, 0.125, 0.125, 0.125],
           [0.125, 0.125, 0.125, 0.125]])
    """
    shape4, batched = _batched_shape(x_shape, unbatched_empty_c=True)
    op = AdaptiveAvgPool2d(output_size)
    return op.backward(op.context(shape4, batched, _grad_dtype(dout)), dout)


# ----------------------------------------------------------------------------- global pooling


def global_max_pool2d(x: FloatArray, return_indices: bool = False) -> FloatArray | tuple[FloatArray, IndexArray]:
    """Max over each whole (H, W) plane: adaptive max pooling to 1x1.

    Parameters
    ----------
    x : ndarray
        (N, C, H, W) or (C, H, W), float32 or float64.
    return_indices : bool
        Also return the flat argmax of each plane.

    Returns
    -------
    out : ndarray
        (N, C, 1, 1) of x's dtype.
    indices : ndarray of int64, only with ``return_indices``

    Raises
    ------
    TypeError, ValueError
        A bad input.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.global_max_pool2d(x, return_indices=True)
    (array([[[[15.]]]]), array([[[[15]]]]))
    """
    return adaptive_max_pool2d(x, 1, return_indices)


def global_max_pool2d_backward(dout: FloatArray, indices: IndexArray, x_shape: Sequence[int]) -> FloatArray:
    """Gradient of :func:`global_max_pool2d`: each plane's dout goes to its argmax.

    Parameters
    ----------
    dout : ndarray
        (N, C, 1, 1) upstream gradient.
    indices : ndarray of int
        The forward's indices.
    x_shape : tuple of int
        The forward input's shape.

    Returns
    -------
    dx : ndarray
        x_shape, dout's dtype.

    Raises
    ------
    TypeError, ValueError
        As :func:`max_pool2d_backward`.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, idx = F.global_max_pool2d(x, return_indices=True)
    >>> F.global_max_pool2d_backward(np.ones_like(out), idx, x.shape)[0, 0, 3]
    array([0., 0., 0., 1.])
    """
    return adaptive_max_pool2d_backward(dout, indices, x_shape)


def global_avg_pool2d(x: FloatArray) -> FloatArray:
    """Mean of each whole (H, W) plane: adaptive average pooling to 1x1.

    Parameters
    ----------
    x : ndarray
        (N, C, H, W) or (C, H, W), float32 or float64.

    Returns
    -------
    out : ndarray
        (N, C, 1, 1) of x's dtype.

    Raises
    ------
    TypeError, ValueError
        A bad input.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.global_avg_pool2d(x)
    array([[[[7.5]]]])
    """
    return adaptive_avg_pool2d(x, 1)


def global_avg_pool2d_backward(dout: FloatArray, x_shape: Sequence[int]) -> FloatArray:
    """Gradient of :func:`global_avg_pool2d`: dout / (H*W) to every cell of the plane.

    Parameters
    ----------
    dout : ndarray
        (N, C, 1, 1) upstream gradient.
    x_shape : tuple of int
        The forward input's shape.

    Returns
    -------
    dx : ndarray
        x_shape, dout's dtype.

    Raises
    ------
    TypeError, ValueError
        A bad shape.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import functional as F
    >>> F.global_avg_pool2d_backward(np.ones((1, 1, 1, 1)), (1, 1, 2, 2))[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    return adaptive_avg_pool2d_backward(dout, x_shape, 1)
