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
        """Gradient of the last forward's output w.r.t. its input.

        Parameters
        ----------
        dout : ndarray
            Upstream gradient, the shape of the last forward's output.

        Returns
        -------
        dx : ndarray
            The last forward input's shape and dtype.

        Raises
        ------
        RuntimeError
            If forward has not run.
        TypeError, ValueError
            If dout is not a real array of the output's shape.
        """
        return self._op.backward(self._saved(), dout)


class Maxpool(_Layer):
    """Max pooling layer (PyTorch's MaxPool2d): im2col, argmax per column, col2im in backward.

    Parameters
    ----------
    size, stride, dilation : int or pair of ints
        Window size, step (default: size) and cell spacing, all > 0; ``(v,)`` means ``(v, v)``.
    padding : int, pair of ints, 'same' or 'valid'
        At most ``size // 2``; padded cells are -inf ('same' is the TensorFlow rule, beyond PyTorch).
    ceil_mode : bool
        Round the output size up (see :func:`cs231n_pool.functional.max_pool2d`).
    method : {'im2col', 'direct', None}
        'im2col' (the default, the taught path), 'direct' (the fused kernels) or None (the fastest
        that is built). All give identical results.

    Attributes
    ----------
    indices : ndarray of int64 or None
        After forward: flat ``ih*W + iw`` argmax per output, the output's shape (PyTorch's format).
    max_idx : ndarray of int64 or None
        After forward: the argmax row ``i*kw + j`` of each im2col column, (N*C*H'*W',), column
        ``(h'*W' + w')*N*C + n*C + c`` (CS231n style).

    Raises
    ------
    TypeError, ValueError
        A bad argument (in the constructor) or input (in forward), named with its value.

    Notes
    -----
    Output ``H' = (H + 2p - d*(k-1) - 1) // s + 1`` (ceil_mode rounds up). Ties go to the first
    maximum in row-major window order, NaN propagates (index: the last NaN). backward sends each
    window's dout to its argmax cell; overlapping windows accumulate.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import Maxpool
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> pool = Maxpool(2)
    >>> pool.forward(x)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    >>> pool.max_idx
    array([3, 3, 3, 3])
    >>> pool.backward(np.ones((1, 1, 2, 2)))[0, 0]
    array([[0., 0., 0., 0.],
           [0., 1., 0., 1.],
           [0., 0., 0., 0.],
           [0., 1., 0., 1.]])
    >>> Maxpool(3, 2, 1)
    Maxpool(size=3, stride=2, padding=1, dilation=1, ceil_mode=False, method='im2col')
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
        """Max-pool x and keep ``indices`` (and, on im2col, ``max_idx``) for backward.

        Parameters
        ----------
        x : ndarray
            (N, C, H, W) or (C, H, W), float32 or float64.

        Returns
        -------
        out : ndarray
            (N, C, H', W') of x's dtype and batching.
        """
        out, self._state = self._op.forward(x)
        assert self._state.indices is not None  # max pooling always keeps them
        # the direct path gives max_idx None (its backward needs only the flat indices);
        # the property below derives the rows on first use
        self._max_idx, self.indices = self._state.max_idx, unbatch(self._state.indices, self._state.batched)
        return out

    @property
    def max_idx(self) -> IndexArray | None:
        """Argmax row ``i*kw + j`` of each im2col column after forward (None before).

        Returns
        -------
        ndarray of int64 or None
            (N*C*H'*W',), in im2col column order; on the direct path it is derived from
            ``indices`` the first time it is read.
        """
        if self._max_idx is None and self._state is not None:
            assert self._state.indices is not None
            self._max_idx = ops.to_columns(ops.flat_to_rows(self._state.indices, self._state.plan))
        return self._max_idx


class Avgpool(_Layer):
    """Average pooling layer (PyTorch's AvgPool2d) via im2col column sums.

    Parameters
    ----------
    size, stride, padding, ceil_mode
        As in :class:`Maxpool` (no dilation); padded cells are 0.
    count_include_pad : bool
        Whether the declared padding counts in the divisor ('same' padding never does).
    divisor_override : int, optional
        A fixed divisor (non-zero; may be negative).
    method : {'im2col', 'direct', None}
        As in :class:`Maxpool`.

    Raises
    ------
    TypeError, ValueError
        A bad argument or input, named with its value.

    Notes
    -----
    A window spans ``[start, min(start + k, H + p))``; its divisor is divisor_override if given,
    else that span's size if count_include_pad, else its in-bounds count. backward adds
    ``dout / divisor`` to each in-bounds window cell.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import Avgpool
    >>> pool = Avgpool(2)
    >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> pool.backward(np.ones((1, 1, 2, 2)))[0, 0, 0]
    array([0.25, 0.25, 0.25, 0.25])
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
        """Average-pool x.

        Parameters
        ----------
        x : ndarray
            (N, C, H, W) or (C, H, W), float32 or float64.

        Returns
        -------
        out : ndarray
            (N, C, H', W') of x's dtype and batching.
        """
        out, self._state = self._op.forward(x)
        return out


class MaxUnpool(_Layer):
    """Max unpooling layer (PyTorch's MaxUnpool2d): places x at the given indices, zeros elsewhere.

    Parameters
    ----------
    size, stride, padding : int or pair of ints
        The pooling's arguments; default output ``H_out = (H - 1)*s - 2p + k``.

    Raises
    ------
    TypeError, ValueError
        A bad argument, output size or index, named with its value.

    Notes
    -----
    forward(x, indices, output_size=None) takes x and its int indices (flat ``ih*W + iw``, as from
    :class:`Maxpool`); an explicit output_size must lie strictly within ``default ± s``.
    backward(dout) gathers ``dout[n, c].flat[indices]`` back to x's shape.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import Maxpool
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> from cs231n_pool import MaxUnpool
    >>> pool, unpool = Maxpool(2), MaxUnpool(2)
    >>> unpool.forward(pool.forward(x), pool.indices)[0, 0]
    array([[ 0.,  0.,  0.,  0.],
           [ 0.,  5.,  0.,  7.],
           [ 0.,  0.,  0.,  0.],
           [ 0., 13.,  0., 15.]])
    >>> unpool.backward(x)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
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
        """Place each value of x at its index in a zero output.

        Parameters
        ----------
        x : ndarray
            Pooled values, (N, C, H, W) or (C, H, W).
        indices : ndarray of int
            Their flat indices into the unpooled plane, x's shape.
        output_size : tuple of int, optional
            (h, w) or (N, C, h, w), strictly within ``default ± stride``.

        Returns
        -------
        out : ndarray
            (N, C, H_out, W_out) of x's dtype and batching.
        """
        out, self._state = self._op.forward(x, indices, output_size)
        return out


class AdaptiveMaxpool(_Layer):
    """Adaptive max pooling layer (PyTorch's AdaptiveMaxPool2d).

    Parameters
    ----------
    output_size : int or pair
        (h, w); a None entry keeps that input size.

    Attributes
    ----------
    indices : ndarray of int64 or None
        After forward: the flat argmax of each bin.

    Raises
    ------
    TypeError, ValueError
        A bad output size or input.

    Notes
    -----
    Bin i covers rows ``[floor(i*H/h), ceil((i+1)*H/h))``; h > H works. backward sends each dout
    entry to its argmax; overlapping bins accumulate. A 3-D (0, H, W) input is valid, as in torch.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import AdaptiveMaxpool
    >>> pool = AdaptiveMaxpool((1, 2))
    >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4)), pool.indices
    (array([[[[13., 15.]]]]), array([[[[13, 15]]]]))
    >>> pool.backward(np.ones((1, 1, 1, 2)))[0, 0, 3]
    array([0., 1., 0., 1.])
    """

    def __init__(self, output_size: AdaptiveSize) -> None:
        super().__init__()
        self._op = ops.AdaptiveMaxPool2d(output_size)
        self.output_size = output_size
        self.indices: IndexArray | None = None

    def _args(self) -> dict[str, Any]:
        return dict(output_size=self.output_size)

    def forward(self, x: FloatArray) -> FloatArray:
        """Max of each bin; keeps ``indices`` for backward.

        Parameters
        ----------
        x : ndarray
            (N, C, H, W) or (C, H, W), float32 or float64.

        Returns
        -------
        out : ndarray
            (N, C, h, w) of x's dtype and batching.
        """
        out, self._state = self._op.forward(x)
        assert self._state.indices is not None  # max pooling always keeps them
        self.indices = unbatch(self._state.indices, self._state.batched)
        return out


class AdaptiveAvgpool(_Layer):
    """Adaptive average pooling layer (PyTorch's AdaptiveAvgPool2d); bins as :class:`AdaptiveMaxpool`.

    Parameters
    ----------
    output_size : int or pair
        (h, w); a None entry keeps that input size.

    Raises
    ------
    TypeError, ValueError
        A bad output size or input.

    Notes
    -----
    Each output is its bin's mean; backward adds dout / bin area to every cell of the bin.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import AdaptiveAvgpool
    >>> pool = AdaptiveAvgpool((2, 1))
    >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
    array([[ 3.5],
           [11.5]])
    >>> pool.backward(np.ones((1, 1, 2, 1)))[0, 0, 0]
    array([0.125, 0.125, 0.125, 0.125])
    """

    def __init__(self, output_size: AdaptiveSize) -> None:
        super().__init__()
        self._op = ops.AdaptiveAvgPool2d(output_size)
        self.output_size = output_size

    def _args(self) -> dict[str, Any]:
        return dict(output_size=self.output_size)

    def forward(self, x: FloatArray) -> FloatArray:
        """Mean of each bin.

        Parameters
        ----------
        x : ndarray
            (N, C, H, W) or (C, H, W), float32 or float64.

        Returns
        -------
        out : ndarray
            (N, C, h, w) of x's dtype and batching.
        """
        out, self._state = self._op.forward(x)
        return out


class GlobalMaxpool(AdaptiveMaxpool):
    """Max over each whole (H, W) plane: (N, C, H, W) -> (N, C, 1, 1); ties/NaN as Maxpool.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import GlobalMaxpool
    >>> pool = GlobalMaxpool()
    >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[15.]]]])
    >>> pool.backward(np.ones((1, 1, 1, 1)))[0, 0, 3]
    array([0., 0., 0., 1.])
    """

    def __init__(self) -> None:
        super().__init__(1)

    def _args(self) -> dict[str, Any]:
        return {}


class GlobalAvgpool(AdaptiveAvgpool):
    """Mean of each whole (H, W) plane: (N, C, H, W) -> (N, C, 1, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool import GlobalAvgpool
    >>> pool = GlobalAvgpool()
    >>> pool.forward(np.arange(16.0).reshape(1, 1, 4, 4))
    array([[[[7.5]]]])
    >>> pool.backward(np.ones((1, 1, 1, 1)))[0, 0, 0]
    array([0.0625, 0.0625, 0.0625, 0.0625])
    """

    def __init__(self) -> None:
        super().__init__(1)

    def _args(self) -> dict[str, Any]:
        return {}
