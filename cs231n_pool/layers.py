"""Pooling layers: thin views of the op table (:mod:`cs231n_pool.ops`) with ``forward`` / ``backward``.

Each layer builds its op once from the constructor's arguments (which checks them), keeps
the op's context from the last ``forward`` (a second forward replaces it), and hands it to
the op's backward; ``backward`` before any ``forward`` raises RuntimeError. Inputs are
(N, C, H, W) or (C, H, W), float32 or float64; outputs and gradients keep the input's
dtype and batching. Semantics are PyTorch's (see the functional module): max pooling
pads with -inf, ties go to the first maximum in row-major window order, NaN propagates
(index = last NaN), and indices are int64 flat ``ih*W + iw`` per (n, c) plane.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import ops
from .geometry import FloatArray, IndexArray, IntOrPair, Padding
from .ops import AdaptiveSize, Context, unbatch

__all__ = ["Maxpool", "Avgpool", "MaxUnpool", "AdaptiveMaxpool", "AdaptiveAvgpool", "GlobalMaxpool", "GlobalAvgpool"]


class _Layer:
    """Shared bookkeeping: the op's context from the last forward and the backward-before-forward check."""

    _op: Any

    def __init__(self) -> None:
        self._state: Context | None = None

    def _saved(self) -> Context:
        if self._state is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward; forward must run first")
        return self._state

    def _args(self) -> dict[str, Any]:
        """The constructor's arguments, for repr."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"

    def backward(self, dout: FloatArray) -> FloatArray:
        """Gradient of the last forward's output w.r.t. its input: dx with x's shape and dtype."""
        return self._op.backward(self._saved(), dout)


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
        self._op = ops.MaxPool2d(size, stride, padding, dilation, ceil_mode, method)
        self.size, self.stride, self.padding = size, stride, padding
        self.dilation, self.ceil_mode, self.method = dilation, ceil_mode, self._op.method
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
        """Max-pool x; keeps ``indices`` and (im2col) ``max_idx`` for backward."""
        out, self._state = self._op.forward(x)
        assert self._state.indices is not None  # max pooling always keeps them
        # the direct path gives max_idx None (its backward needs only the flat indices);
        # the property below derives the rows on first use
        self._max_idx, self.indices = self._state.max_idx, unbatch(self._state.indices, self._state.batched)
        return out

    @property
    def max_idx(self) -> IndexArray | None:
        """Argmax row ``i*kw + j`` of each im2col column after forward (None before)."""
        if self._max_idx is None and self._state is not None:
            assert self._state.indices is not None
            self._max_idx = ops.to_columns(ops.flat_to_rows(self._state.indices, self._state.plan))
        return self._max_idx


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
        self._op = ops.AvgPool2d(size, stride, padding, ceil_mode, count_include_pad, divisor_override, method)
        self.size, self.stride, self.padding, self.ceil_mode = size, stride, padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        self.method = self._op.method

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

    def forward(self, x: FloatArray) -> FloatArray:
        """Average-pool x."""
        out, self._state = self._op.forward(x)
        return out


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
        self._op = ops.MaxUnpool2d(size, stride, padding)
        self.size, self.stride, self.padding = size, stride, padding

    def _args(self) -> dict[str, Any]:
        return dict(size=self.size, stride=self.stride, padding=self.padding)

    def forward(
        self, x: FloatArray, indices: NDArray[np.integer[Any]], output_size: Sequence[int] | None = None
    ) -> FloatArray:
        """Place each value of x at its index in a zero output."""
        out, self._state = self._op.forward(x, indices, output_size)
        return out


class AdaptiveMaxpool(_Layer):
    """Adaptive max pooling layer (PyTorch's AdaptiveMaxPool2d).

    AdaptiveMaxpool(output_size): int or (h, w), None entries keep the input size. Output bin
    i covers rows ``[floor(i*H/h), ceil((i+1)*H/h))``; h > H works. After forward,
    ``self.indices`` holds the int64 flat argmax of each bin. backward(dout) sends each
    dout entry to its argmax; overlapping bins accumulate.
    """

    def __init__(self, output_size: AdaptiveSize) -> None:
        super().__init__()
        self._op = ops.AdaptiveMaxPool2d(output_size)
        self.output_size = output_size
        self.indices: IndexArray | None = None

    def _args(self) -> dict[str, Any]:
        return dict(output_size=self.output_size)

    def forward(self, x: FloatArray) -> FloatArray:
        """Max of each bin; keeps ``indices`` for backward."""
        out, self._state = self._op.forward(x)
        assert self._state.indices is not None  # max pooling always keeps them
        self.indices = unbatch(self._state.indices, self._state.batched)
        return out


class AdaptiveAvgpool(_Layer):
    """Adaptive average pooling layer (PyTorch's AdaptiveAvgPool2d); bins as :class:`AdaptiveMaxpool`.

    Each output is its bin's mean; backward adds dout / bin area to every cell of the bin.
    """

    def __init__(self, output_size: AdaptiveSize) -> None:
        super().__init__()
        self._op = ops.AdaptiveAvgPool2d(output_size)
        self.output_size = output_size

    def _args(self) -> dict[str, Any]:
        return dict(output_size=self.output_size)

    def forward(self, x: FloatArray) -> FloatArray:
        """Mean of each bin."""
        out, self._state = self._op.forward(x)
        return out


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
