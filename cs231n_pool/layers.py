"""Pooling layers: thin classes over :mod:`cs231n_pool.functional` with ``forward`` / ``backward``.

Each layer keeps what its backward needs from the last ``forward`` (a second forward
replaces it); ``backward`` before any ``forward`` raises RuntimeError. Inputs are
(N, C, H, W) or (C, H, W), float32 or float64; outputs and gradients keep the input's
dtype and batching. Semantics are PyTorch's (see the functional module): max pooling
pads with -inf, ties go to the first maximum in row-major window order, NaN propagates
(index = last NaN), and indices are int64 flat ``ih*W + iw`` per (n, c) plane.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from . import functional as F
from ._backend import check_method
from .functional import AdaptiveSize
from .geometry import (
    FloatArray,
    IndexArray,
    IntOrPair,
    Padding,
    PoolGeometry,
    Shape,
    check_grad,
    check_input,
    pool_geometry,
)

__all__ = ["Maxpool", "Avgpool", "MaxUnpool", "AdaptiveMaxpool", "AdaptiveAvgpool", "GlobalMaxpool", "GlobalAvgpool"]

# A plane larger than any window (dilation*(kernel-1)+1 < 2**62 since both are <= MAX_PARAM), so the
# constructors check their arguments with pool_geometry before the input is known, and only the
# forward's input can make a window too large (a fake "input (H, W)=" never shows in an error).
_PROBE_SIZE = (1 << 62, 1 << 62)


class _PoolState(NamedTuple):
    """What Maxpool/Avgpool keep from forward: the 4-D input shape, whether the input was batched,
    its dtype, the window geometry, and (Avgpool) the (H', W') divisors."""

    x_shape: tuple
    batched: bool
    dtype: np.dtype
    geom: PoolGeometry
    divisors: np.ndarray | None = None


class _ShapeState(NamedTuple):
    """What the unpooling and adaptive layers keep from forward."""

    x_shape: tuple
    dtype: np.dtype
    out_shape: tuple
    indices: np.ndarray | None = None  # MaxUnpool: where each input value went


class _Layer:
    """Shared bookkeeping: the state from the last forward and the backward-before-forward check."""

    def __init__(self) -> None:
        self._state: Any = None

    def _saved(self) -> Any:
        if self._state is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward; forward must run first")
        return self._state

    def _args(self) -> dict[str, Any]:
        """The constructor's arguments, for repr."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"


class Maxpool(_Layer):
    """Max pooling layer (PyTorch's MaxPool2d): im2col, argmax per column, col2im in backward.

    Maxpool(size, stride=None, padding=0, dilation=1, ceil_mode=False, method="im2col").
    size/stride/padding/dilation: int or (h, w); stride defaults to size; padding <= size // 2
    or 'same'/'valid' ('same' is the TensorFlow rule, beyond PyTorch).
    forward(x): x (N, C, H, W) or (C, H, W) -> (N, C, H', W'),
    ``H' = (H + 2p - d*(k-1) - 1) // s + 1`` (ceil_mode rounds up, last window starting
    inside the input or left padding). After forward, ``self.max_idx`` (int64, (N*C*H'*W',))
    holds the argmax row ``i*kw + j`` of each im2col column (column ``(h'*W' + w')*N*C + n*C + c``,
    CS231n style) and ``self.indices`` the flat PyTorch indices, int64 (N, C, H', W')
    (unbatched input: (C, H', W')).
    backward(dout) -> dx: each window's dout to its argmax cell; overlaps accumulate.
    method: "im2col" (default, the taught path), "direct" (loop kernels; max_idx is then
    derived from the indices when first read) or None (the fastest path that is built).
    """

    def __init__(
        self,
        size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: Padding = 0,
        dilation: IntOrPair = 1,
        ceil_mode: bool = False,
        method: str | None = "im2col",
    ) -> None:
        super().__init__()
        pool_geometry(_PROBE_SIZE, size, stride, padding, dilation, ceil_mode)
        self.size, self.stride, self.padding = size, stride, padding
        self.dilation, self.ceil_mode, self.method = dilation, ceil_mode, check_method(method)
        self._max_idx: IndexArray | None = None
        self.indices: IndexArray | None = None

    def _args(self) -> dict[str, Any]:
        return dict(
            size=self.size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            ceil_mode=self.ceil_mode,
            method=self.method,
        )

    def forward(self, x: FloatArray) -> FloatArray:
        x4, batched = check_input(x)
        geom = pool_geometry(x4.shape[2:], self.size, self.stride, self.padding, self.dilation, self.ceil_mode)
        max_idx: IndexArray | None
        if x4.shape[0] == 0:
            out = np.empty(x4.shape[:2] + (geom.out_h, geom.out_w), dtype=x4.dtype)
            indices, max_idx = np.empty(out.shape, dtype=np.int64), np.empty(0, dtype=np.int64)
        else:
            # the direct path gives max_idx None (its backward needs only the flat indices);
            # the property below derives the rows on first use
            out, indices, max_idx = F.max_forward(x4, geom, self.method)
        self._state = _PoolState(tuple(x4.shape), batched, x4.dtype, geom)
        self._max_idx, self.indices = max_idx, F.unbatch(indices, batched)
        return F.unbatch(out, batched)

    @property
    def max_idx(self) -> IndexArray | None:
        """Argmax row ``i*kw + j`` of each im2col column after forward (None before)."""
        if self._max_idx is None and self._state is not None and self.indices is not None:
            state = self._state
            indices4 = self.indices.reshape(state.x_shape[:2] + (state.geom.out_h, state.geom.out_w))
            self._max_idx = F.to_columns(F.flat_to_rows(indices4, state.geom))
        return self._max_idx

    def backward(self, dout: FloatArray) -> FloatArray:
        x_shape, batched, dtype, geom, _ = self._saved()
        indices, max_idx = self.indices, self.max_idx
        assert indices is not None and max_idx is not None  # forward set them with the state
        dout4 = check_grad(dout, indices.shape, dtype).reshape(x_shape[:2] + (geom.out_h, geom.out_w))
        if self.method == "im2col":
            dx = F.max_backward_cols(dout4, max_idx, x_shape, geom) if x_shape[0] else np.zeros(x_shape, dtype)
        else:
            dx = F.max_pool2d_backward(dout4, indices.reshape(dout4.shape), x_shape, method="direct")
        return F.unbatch(dx, batched)


class Avgpool(_Layer):
    """Average pooling layer (PyTorch's AvgPool2d) via im2col column sums.

    Avgpool(size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None, method="im2col"). Output size as :class:`Maxpool` (no dilation).
    Padding is 0. A window spans ``[start, min(start + k, H + p))``; its divisor is
    divisor_override (non-zero) if given, else that span's size if count_include_pad, else
    its in-bounds count. 'same' padding always excludes padded cells from the divisor.
    backward(dout) adds dout/divisor to each in-bounds window cell.
    method: "im2col" (default), "direct" or None (the fastest path that is built).
    """

    def __init__(
        self,
        size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: Padding = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
        method: str | None = "im2col",
    ) -> None:
        super().__init__()
        probe = pool_geometry(_PROBE_SIZE, size, stride, padding, 1, ceil_mode)
        F.pool_divisors(probe._replace(out_h=1, out_w=1), padding, count_include_pad, divisor_override)
        self.size, self.stride, self.padding, self.ceil_mode = size, stride, padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        self.method = check_method(method)

    def _args(self) -> dict[str, Any]:
        return dict(
            size=self.size,
            stride=self.stride,
            padding=self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
            divisor_override=self.divisor_override,
            method=self.method,
        )

    def _geometry(self, shape4: Shape) -> tuple[PoolGeometry, NDArray[np.float64]]:
        geom = pool_geometry(shape4[2:], self.size, self.stride, self.padding, 1, self.ceil_mode)
        return geom, F.pool_divisors(geom, self.padding, self.count_include_pad, self.divisor_override)

    def forward(self, x: FloatArray) -> FloatArray:
        x4, batched = check_input(x)
        geom, divisors = self._geometry(x4.shape)
        if x4.shape[0] == 0:
            out = np.empty(x4.shape[:2] + (geom.out_h, geom.out_w), dtype=x4.dtype)
        else:
            out = F.avg_forward(x4, geom, divisors, self.method)
        self._state = _PoolState(tuple(x4.shape), batched, x4.dtype, geom, divisors)
        return F.unbatch(out, batched)

    def backward(self, dout: FloatArray) -> FloatArray:
        x_shape, batched, dtype, geom, divisors = self._saved()
        out_shape = x_shape[:2] + (geom.out_h, geom.out_w)
        dout4 = check_grad(dout, out_shape if batched else out_shape[1:], dtype).reshape(out_shape)
        if x_shape[0] == 0:
            return F.unbatch(np.zeros(x_shape, dtype), batched)
        return F.unbatch(F.avg_backward(dout4, geom, divisors, x_shape, self.method), batched)


class MaxUnpool(_Layer):
    """Max unpooling layer (PyTorch's MaxUnpool2d): places x at the given indices, zeros elsewhere.

    MaxUnpool(size, stride=None, padding=0). forward(x, indices, output_size=None): x and
    indices (int, flat ``ih*W + iw`` as from Maxpool/max_pool2d) of one shape; output
    (N, C, H_out, W_out) with default ``H_out = (H - 1)*s - 2p + k``; an explicit
    output_size must lie strictly within ``default ± s``. backward(dout) gathers
    ``dout[n, c].flat[indices]`` back to x's shape.
    """

    def __init__(self, size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> None:
        super().__init__()
        F.unpool_output_size(_PROBE_SIZE, size, stride, padding)
        self.size, self.stride, self.padding = size, stride, padding

    def _args(self) -> dict[str, Any]:
        return dict(size=self.size, stride=self.stride, padding=self.padding)

    def forward(
        self, x: FloatArray, indices: NDArray[np.integer[Any]], output_size: Sequence[int] | None = None
    ) -> FloatArray:
        out = F.max_unpool2d(x, indices, self.size, self.stride, self.padding, output_size)
        self._state = _ShapeState(x.shape, x.dtype, out.shape, np.array(indices, dtype=np.int64))
        return out

    def backward(self, dout: FloatArray) -> FloatArray:
        state = self._saved()
        return F.max_unpool2d_backward(check_grad(dout, state.out_shape, state.dtype), state.indices)


class AdaptiveMaxpool(_Layer):
    """Adaptive max pooling layer (PyTorch's AdaptiveMaxPool2d).

    AdaptiveMaxpool(output_size): int or (h, w), None entries keep the input size. Output bin
    i covers rows ``[floor(i*H/h), ceil((i+1)*H/h))``; h > H works. After forward,
    ``self.indices`` holds the int64 flat argmax of each bin. backward(dout) sends each
    dout entry to its argmax; overlapping bins accumulate.
    """

    def __init__(self, output_size: AdaptiveSize) -> None:
        super().__init__()
        F.adaptive_output_size((1, 1), output_size)
        self.output_size = output_size
        self.indices: IndexArray | None = None

    def _args(self) -> dict[str, Any]:
        return dict(output_size=self.output_size)

    def forward(self, x: FloatArray) -> FloatArray:
        out, self.indices = F.adaptive_max_pool2d(x, self.output_size, return_indices=True)
        self._state = _ShapeState(x.shape, x.dtype, out.shape)
        return out

    def backward(self, dout: FloatArray) -> FloatArray:
        state = self._saved()
        assert self.indices is not None  # forward set them with the state
        return F.adaptive_max_pool2d_backward(
            check_grad(dout, state.out_shape, state.dtype), self.indices, state.x_shape
        )


class AdaptiveAvgpool(_Layer):
    """Adaptive average pooling layer (PyTorch's AdaptiveAvgPool2d); bins as :class:`AdaptiveMaxpool`.

    Each output is its bin's mean; backward adds dout / bin area to every cell of the bin.
    """

    def __init__(self, output_size: AdaptiveSize) -> None:
        super().__init__()
        F.adaptive_output_size((1, 1), output_size)
        self.output_size = output_size

    def _args(self) -> dict[str, Any]:
        return dict(output_size=self.output_size)

    def forward(self, x: FloatArray) -> FloatArray:
        out = F.adaptive_avg_pool2d(x, self.output_size)
        self._state = _ShapeState(x.shape, x.dtype, out.shape)
        return out

    def backward(self, dout: FloatArray) -> FloatArray:
        state = self._saved()
        return F.adaptive_avg_pool2d_backward(
            check_grad(dout, state.out_shape, state.dtype), state.x_shape, self.output_size
        )


class GlobalMaxpool(AdaptiveMaxpool):
    """Max over each whole (H, W) plane: (N, C, H, W) -> (N, C, 1, 1); ties/NaN as Maxpool."""

    def __init__(self) -> None:
        super().__init__(1)

    def _args(self) -> dict[str, Any]:
        return {}


class GlobalAvgpool(AdaptiveAvgpool):
    """Mean of each whole (H, W) plane: (N, C, H, W) -> (N, C, 1, 1)."""

    def __init__(self) -> None:
        super().__init__(1)

    def _args(self) -> dict[str, Any]:
        return {}
