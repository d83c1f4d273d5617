"""The table of pooling ops: each op's checks and geometry, forward and backward, defined once.

In the spirit of ``torch.autograd.Function``: an op object is built from its arguments
(checked there, once), ``forward(x)`` checks the input and returns ``(out, ctx)``, and
``backward(ctx, dout)`` checks the upstream gradient and returns dx. The functional API
(:mod:`cs231n_pool.functional`) and the layers (:mod:`cs231n_pool.layers`) are thin views
of these objects; :data:`OPS` lists them by name.

The shared template (:class:`PoolOp`) adds the batch axis to a (C, H, W) input, handles
inputs without a plane to pool (N = 0, or C = 0 of an unbatched adaptive input) in one
place, and drops the batch axis again on the way out.

The taught im2col path of max pooling reads as the lesson: im2col (each window a column)
-> reduce each column (argmax) -> gather the results back to (N, C, H', W') order;
:func:`~cs231n_pool.im2col.columns_to_planes` fuses the gather with turning argmax rows
into flat indices. The backward is col2im of the one-hot column matrix (dout in each column's
argmax row), never built: each 1 sits at the cell its flat index names, so
:func:`~cs231n_pool.im2col.scatter_planes` adds each dout there. Average pooling is im2col
-> mean per column -> gather, with col2im of the constant columns for the backward. The
column matrix is built and reduced a band of output rows at a time (:data:`BAND_BYTES`).
Every backward adds overlapping windows in PyTorch's order (row-major windows, plane by
plane), so the gradients are torch's bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np
from numpy.typing import NDArray

from . import direct
from ._backend import adaptive_kernels, check_method
from .geometry import (
    FloatArray,
    IndexArray,
    IntOrPair,
    Padding,
    PoolArgs,
    PoolGeometry,
    Shape,
    adaptive_bins,
    as_pair,
    avg_divisors,
    axis_placement,
    check_divisor_override,
    check_grad,
    check_input,
    place_windows,
    pool_args,
    positive_pair,
    window_starts,
)
from .im2col import (
    col2im_spread_geometry,
    column_argmax_into,
    column_mean_planes,
    columns_to_planes,
    im2col_band,
    im2col_geometry,
    scatter_planes,
)

AdaptiveSize: TypeAlias = int | Sequence[int | None] | None
"""An adaptive output size: an int, or (h, w) whose None entries keep the input's size."""


class Context(NamedTuple):
    """What an op's backward needs from its forward.

    x_shape: the input as (N, C, H, W) (a (C, H, W) input gains N = 1; ``batched`` says which).
    out_shape: the output as (N, C, H', W'). plan: the op's window placement (a PoolGeometry,
    its average divisors, or the adaptive bins, an AdaptivePlan). indices: the max ops' flat argmax
    ``ih*W + iw`` per output, (N, C, H', W'); max_idx: the im2col max path's argmax row of each
    column, (H'*W'*N*C,), or None where the op did not compute it.
    """

    x_shape: Shape
    batched: bool
    dtype: np.dtype[Any]
    out_shape: Shape
    plan: Any
    indices: IndexArray | None = None
    max_idx: IndexArray | None = None


def unbatch(a: NDArray[Any], batched: bool) -> NDArray[Any]:
    """Drop the batch axis that check_input added to an unbatched (C, H, W) input."""
    return a if batched else a[0]


class PoolOp:
    """The template every pooling op follows; subclasses give the plan, forward and backward."""

    unbatched_empty_c = False  # adaptive ops: a (0, H, W) input is valid, as in torch

    def _plan(self, x_shape: Shape) -> tuple[Any, tuple[int, int]]:
        """(plan, (H', W')) for an (N, C, H, W) input; raises when the windows do not fit."""
        raise NotImplementedError

    def _forward(self, x4: FloatArray, plan: Any) -> tuple[FloatArray, tuple[IndexArray | None, IndexArray | None]]:
        """(out, (indices, max_idx)) of a non-empty (N, C, H, W) input."""
        raise NotImplementedError

    def _backward(self, ctx: Context, dout4: FloatArray) -> FloatArray:
        """dx (N, C, H, W) from a checked (N, C, H', W') dout of ctx.dtype."""
        raise NotImplementedError

    def forward(self, x: Any) -> tuple[FloatArray, Context]:
        """Check x and pool it.

        Parameters
        ----------
        x : ndarray
            (N, C, H, W) or (C, H, W), float32 or float64.

        Returns
        -------
        out : ndarray
            The pooled values, with x's dtype and batching.
        ctx : Context
            What :meth:`backward` needs (and the max ops' indices).
        """
        x4, batched = check_input(x, unbatched_empty_c=self.unbatched_empty_c)
        plan, (out_h, out_w) = self._plan(tuple(x4.shape))
        out_shape = tuple(x4.shape[:2]) + (out_h, out_w)
        saved: tuple[IndexArray | None, IndexArray | None]
        if 0 in x4.shape[:2]:  # no plane to pool: the one place this case is handled
            out, saved = np.empty(out_shape, dtype=x4.dtype), self._no_planes(out_shape)
        else:
            out, saved = self._forward(x4, plan)
        ctx = Context(tuple(x4.shape), batched, x4.dtype, out_shape, plan, *saved)
        return unbatch(out, batched), ctx

    def _no_planes(self, out_shape: Shape) -> tuple[IndexArray | None, IndexArray | None]:
        return None, None

    def context(self, x_shape: Shape, batched: bool, dtype: np.dtype[Any]) -> Context:
        """The context of a forward on an input of shape x_shape (N, C, H, W) that was not run
        (the functional backward passes get x_shape instead of a forward's context)."""
        plan, (out_h, out_w) = self._plan(x_shape)
        return Context(x_shape, batched, dtype, tuple(x_shape[:2]) + (out_h, out_w), plan)

    def backward(self, ctx: Context, dout: Any) -> FloatArray:
        """Gradient w.r.t. the forward's input.

        Parameters
        ----------
        ctx : Context
            From :meth:`forward` (or :meth:`context`).
        dout : ndarray
            Upstream gradient of the forward output's shape (x's batching).

        Returns
        -------
        dx : ndarray
            x's shape, ctx.dtype.
        """
        expected = ctx.out_shape if ctx.batched else ctx.out_shape[1:]
        dout4 = check_grad(dout, expected, ctx.dtype).reshape(ctx.out_shape)
        if 0 in ctx.x_shape[:2]:
            return unbatch(np.zeros(ctx.x_shape, dtype=ctx.dtype), ctx.batched)
        return unbatch(self._backward(ctx, dout4), ctx.batched)


def _planes(x4: FloatArray) -> FloatArray:
    """(N, C, H, W) -> (N*C, 1, H, W): every channel pools alone."""
    N, C, H, W = x4.shape
    return x4.reshape(N * C, 1, H, W)


# ----------------------------------------------------------------------------- index formats


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


def _check_windows(geom: PoolGeometry) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
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


def scatter_flat(dout4: FloatArray, indices4: IndexArray, x_shape: Shape, method: str) -> FloatArray:
    """``dx[n, c].flat[indices[n, c, ...]] += dout[n, c, ...]`` for checked arrays; repeated indices
    accumulate in dout's dtype in output order, as PyTorch's max-pool backward adds them.
    "im2col": the im2col kernels' scatter (col2im of the one-hot columns); "direct": the loop kernel."""
    if method == "direct":
        return direct.max_pool_backward_direct(np.ascontiguousarray(dout4), np.ascontiguousarray(indices4), x_shape)
    N, C, H, W = x_shape
    planes = (N * C, dout4.shape[2] * dout4.shape[3])
    dout2 = np.ascontiguousarray(dout4).reshape(planes)
    dx = scatter_planes(dout2, np.ascontiguousarray(indices4, dtype=np.int64).reshape(planes), H * W)
    return dx.reshape(N, C, H, W)


# ----------------------------------------------------------------------------- max pooling


# The column matrix is built and reduced a band of output rows at a time, about this many
# bytes each: the band stays in cache between im2col and the argmax, and no call allocates
# (and page-faults in) the whole matrix, which is 9x the input for 3x3 windows at stride 1.
# Measured in a training loop (other work between calls, python -m cs231n_pool.loop_timing),
# one thread, on a shared machine: S4 forward 30 -> 17 ms when glibc keeps freed memory
# (MALLOC_MMAP_MAX_=0), 91 -> 18-25 ms with its defaults, where every call page-faulted in
# the 58 MB matrix.
BAND_BYTES = 1 << 20


def max_im2col(x4: FloatArray, geom: PoolGeometry) -> tuple[FloatArray, IndexArray, IndexArray]:
    """The taught path: (out, indices, max_idx); max_idx is the argmax row of each column (1-D)."""
    N, C = x4.shape[:2]
    first, corner, offset = _argmax_tables(geom)
    planes = np.ascontiguousarray(_planes(x4))
    row_columns = geom.out_w * N * C  # columns per output row; a band's columns are contiguous
    values = np.empty(geom.out_h * row_columns, dtype=x4.dtype)
    max_idx = np.empty(geom.out_h * row_columns, dtype=np.int64)
    band = max(1, BAND_BYTES // (geom.window_size * row_columns * x4.dtype.itemsize))
    for oh0 in range(0, geom.out_h, band):
        oh1 = min(oh0 + band, geom.out_h)
        cols = im2col_band(planes, geom, oh0, oh1, pad_value=-np.inf)  # 1. im2col: (kh*kw, band's columns)
        done = slice(oh0 * row_columns, oh1 * row_columns)
        column_argmax_into(cols, values[done], max_idx[done])  # 2. reduce each column
    # 3. gather back to (N, C, H', W') order, with flat indices; an all -inf window's row -1
    #    becomes its first in-bounds cell
    out, indices = columns_to_planes(values, max_idx, first, corner, offset)
    shape = (N, C, geom.out_h, geom.out_w)
    return out.reshape(shape), indices.reshape(shape), max_idx


class MaxPool2d(PoolOp):
    """Max pooling (torch's max_pool2d): windows padded with -inf, first maximum wins, NaN propagates.

    Parameters
    ----------
    kernel_size, stride, padding, dilation, ceil_mode, method
        As in :func:`cs231n_pool.functional.max_pool2d`; checked here, once.
    indices : bool
        Keep the argmax (backward needs it). False lets the direct kernels skip writing the
        indices (a third of the bytes); the values are the same bit for bit, but then a direct
        forward keeps no indices and :meth:`backward` raises.

    Raises
    ------
    TypeError, ValueError
        A bad argument, named with its value.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool.ops import MaxPool2d
    >>> op = MaxPool2d(2, method="im2col")
    >>> out, ctx = op.forward(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> out[0, 0], ctx.out_shape
    (array([[ 5.,  7.],
           [13., 15.]]), (1, 1, 2, 2))
    >>> op.backward(ctx, np.ones_like(out))[0, 0, 1]
    array([0., 1., 0., 1.])
    """

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: Padding = 0,
        dilation: IntOrPair = 1,
        ceil_mode: bool = False,
        method: str | None = None,
        indices: bool = True,
    ) -> None:
        self.args: PoolArgs = pool_args(kernel_size, stride, padding, dilation, ceil_mode)
        self.method = check_method(method)
        self.indices = bool(indices)

    def _plan(self, x_shape: Shape) -> tuple[PoolGeometry, tuple[int, int]]:
        geom = place_windows(self.args, x_shape[2:])
        return geom, (geom.out_h, geom.out_w)

    def _no_planes(self, out_shape: Shape) -> tuple[IndexArray, IndexArray]:
        return np.empty(out_shape, dtype=np.int64), np.empty(0, dtype=np.int64)

    def _forward(
        self, x4: FloatArray, geom: PoolGeometry
    ) -> tuple[FloatArray, tuple[IndexArray | None, IndexArray | None]]:
        if self.method == "im2col":
            out, indices, max_idx = max_im2col(x4, geom)
            return out, (indices, max_idx)
        _check_windows(geom)
        if not self.indices:
            return direct.max_pool_values_direct(x4, geom), (None, None)
        # the direct kernels give flat indices only; Maxpool.max_idx derives the rows on first use
        out, indices = direct.max_pool_forward_direct(x4, geom)
        return out, (indices, None)

    def _backward(self, ctx: Context, dout4: FloatArray) -> FloatArray:
        if ctx.indices is None:  # a direct forward built with indices=False
            raise ValueError(
                "this MaxPool2d was built with indices=False: its forward kept no indices to backpropagate through"
            )
        return scatter_flat(dout4, ctx.indices, ctx.x_shape, self.method)


# ----------------------------------------------------------------------------- average pooling


def pool_divisors(
    geom: PoolGeometry, padding: Padding, count_include_pad: bool, divisor_override: int | None
) -> NDArray[np.float64]:
    """avg_divisors, except that 'same' padding never counts its padded cells (the TF rule)."""
    check_count_include_pad(count_include_pad)
    same = isinstance(padding, str) and padding.lower() == "same"
    return avg_divisors(geom, count_include_pad and not same, divisor_override)


def check_count_include_pad(count_include_pad: Any) -> None:
    """count_include_pad must be a bool (numpy's too)."""
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be a bool, got count_include_pad={count_include_pad!r}")


def avg_im2col(x4: FloatArray, geom: PoolGeometry, divisors: NDArray[np.float64]) -> FloatArray:
    """The taught path: im2col, each column's sum (rows added in order) over its window's divisor,
    gathered back to (N, C, H', W')."""
    N, C = x4.shape[:2]
    cols = im2col_geometry(_planes(x4), geom, pad_value=0.0)  # (kh*kw, H'*W'*N*C)
    out = column_mean_planes(cols, divisors.astype(x4.dtype).ravel())  # (N*C, H'*W')
    return out.reshape(N, C, geom.out_h, geom.out_w)


def avg_backward_cols(
    dout4: FloatArray, geom: PoolGeometry, divisors: NDArray[np.float64], x_shape: Shape
) -> FloatArray:
    """col2im of the column matrix whose every row is dout / divisor (built only virtually)."""
    N, C, H, W = x_shape
    share = (dout4 / divisors.astype(dout4.dtype)).reshape(N * C, geom.out_h * geom.out_w)
    return col2im_spread_geometry(share.T, (N * C, 1, H, W), geom).reshape(N, C, H, W)


class AvgPool2d(PoolOp):
    """Average pooling (torch's avg_pool2d): padding is 0; divisors by torch's rules ('same': real cells).

    Parameters
    ----------
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, method
        As in :func:`cs231n_pool.functional.avg_pool2d`; checked here, once.

    Raises
    ------
    TypeError, ValueError
        A bad argument, named with its value.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool.ops import AvgPool2d
    >>> op = AvgPool2d(2)
    >>> out, ctx = op.forward(np.arange(16.0).reshape(1, 4, 4))  # unbatched
    >>> out.shape, op.backward(ctx, np.ones((1, 2, 2)))[0, 1]
    ((1, 2, 2), array([0.25, 0.25, 0.25, 0.25]))
    """

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: Padding = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
        method: str | None = None,
    ) -> None:
        self.args: PoolArgs = pool_args(kernel_size, stride, padding, 1, ceil_mode)
        check_count_include_pad(count_include_pad)
        check_divisor_override(divisor_override)
        self.padding, self.count_include_pad, self.divisor_override = padding, count_include_pad, divisor_override
        self.method = check_method(method)

    def _plan(self, x_shape: Shape) -> tuple[tuple[PoolGeometry, NDArray[np.float64]], tuple[int, int]]:
        geom = place_windows(self.args, x_shape[2:])
        divisors = pool_divisors(geom, self.padding, self.count_include_pad, self.divisor_override)
        return (geom, divisors), (geom.out_h, geom.out_w)

    def _forward(
        self, x4: FloatArray, plan: tuple[PoolGeometry, NDArray[np.float64]]
    ) -> tuple[FloatArray, tuple[None, None]]:
        geom, divisors = plan
        if self.method == "im2col":
            return avg_im2col(x4, geom, divisors), (None, None)
        return direct.avg_pool_forward_direct(x4, geom, divisors), (None, None)

    def _backward(self, ctx: Context, dout4: FloatArray) -> FloatArray:
        geom, divisors = ctx.plan
        if self.method == "im2col":
            return avg_backward_cols(dout4, geom, divisors, ctx.x_shape)
        return direct.avg_pool_backward_direct(np.ascontiguousarray(dout4), geom, divisors, ctx.x_shape)


# ----------------------------------------------------------------------------- max unpooling


def check_indices(
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


def _unpool_args(
    kernel_size: IntOrPair, stride: IntOrPair | None, padding: IntOrPair
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    kernel = positive_pair(kernel_size, "kernel_size")
    strides = kernel if stride is None else positive_pair(stride, "stride")
    pad = as_pair(padding, "padding")
    if min(pad) < 0:
        raise ValueError(f"padding must be >= 0, got padding={padding!r}")
    return kernel, strides, pad


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
    kernel, strides, pad = _unpool_args(kernel_size, stride, padding)
    default = tuple((n - 1) * s - 2 * p + k for n, k, s, p in zip(in_size, kernel, strides, pad, strict=True))
    if output_size is None:
        size = default
    else:
        if not isinstance(output_size, (tuple, list)) or len(output_size) not in (2, 4):
            raise ValueError(f"output_size must be (H, W) or (N, C, H, W), got output_size={output_size!r}")
        size = tuple(as_pair(tuple(output_size[-2:]), "output_size"))
        for dim, (o, d, s) in enumerate(zip(size, default, strides, strict=True)):
            if not d - s < o < d + s:
                raise ValueError(
                    f"output_size={tuple(output_size)!r} is invalid: dim {dim} must be strictly "
                    f"between {d - s} and {d + s}"
                )
    if min(size) < 1:
        raise ValueError(
            f"the unpooled output size {size} must be positive (kernel_size={kernel_size!r}, "
            f"stride={strides!r}, padding={padding!r}, input size {tuple(in_size)})"
        )
    return size[0], size[1]


def unpool_gather(dout: FloatArray, indices: IndexArray) -> FloatArray:
    """``dx[..., i, j] = dout[...].flat[indices[..., i, j]]`` per plane, for checked arrays."""
    n_planes = int(np.prod(dout.shape[:-2]))
    planes = dout.reshape(n_planes, dout.shape[-2] * dout.shape[-1])
    dx = np.take_along_axis(planes, indices.reshape(n_planes, indices.shape[-2] * indices.shape[-1]), axis=1)
    return dx.reshape(indices.shape)


class MaxUnpool2d:
    """Max unpooling (torch's max_unpool2d): each value to its flat index, zeros elsewhere.

    Parameters
    ----------
    kernel_size, stride, padding
        As in :func:`cs231n_pool.functional.max_unpool2d`; checked here, once.

    Raises
    ------
    TypeError, ValueError
        A bad argument, output size or index, named with its value.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool.ops import MaxPool2d, MaxUnpool2d
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> pooled, pool_ctx = MaxPool2d(2).forward(x)
    >>> op = MaxUnpool2d(2)
    >>> out, ctx = op.forward(pooled, pool_ctx.indices)
    >>> out[0, 0, 1], op.backward(ctx, x)[0, 0, 0]
    (array([0., 5., 0., 7.]), array([5., 7.]))
    """

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> None:
        _unpool_args(kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Any, indices: Any, output_size: Sequence[int] | None = None) -> tuple[FloatArray, Context]:
        """(out, context): ``out[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j]``, zeros elsewhere."""
        x4, batched = check_input(x)
        out_h, out_w = unpool_output_size(x4.shape[2:], self.kernel_size, self.stride, self.padding, output_size)
        idx4 = check_indices(indices, x.shape, out_h * out_w).reshape(x4.shape)
        N, C = x4.shape[:2]
        out = np.zeros((N * C, out_h * out_w), dtype=x4.dtype)
        n_in = x4.shape[2] * x4.shape[3]
        np.put_along_axis(out, idx4.reshape(N * C, n_in), x4.reshape(N * C, n_in), axis=1)
        ctx = Context(tuple(x4.shape), batched, x4.dtype, (N, C, out_h, out_w), None, idx4)
        return unbatch(out.reshape(N, C, out_h, out_w), batched), ctx

    def backward(self, ctx: Context, dout: Any) -> FloatArray:
        """dx with x's shape: the dout entry at each value's index."""
        assert ctx.indices is not None  # set by forward
        expected = ctx.out_shape if ctx.batched else ctx.out_shape[1:]
        dout4 = check_grad(dout, expected, ctx.dtype).reshape(ctx.out_shape)
        return unbatch(unpool_gather(dout4, ctx.indices), ctx.batched)


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


class AdaptivePlan(NamedTuple):
    """Where adaptive pooling's bins sit (geometry.adaptive_bins): output row oh reads input rows
    ``[hs[oh], he[oh])``, output column ow columns ``[ws[ow], we[ow])``; ``mean`` marks a 1x1
    output, which torch computes as a mean of the plane (its own summation and divisor)."""

    size: tuple[int, int]
    hs: NDArray[np.intp]
    he: NDArray[np.intp]
    ws: NDArray[np.intp]
    we: NDArray[np.intp]

    @property
    def mean(self) -> bool:
        return self.size == (1, 1)


def adaptive_plan(in_size: Sequence[int], out_size: tuple[int, int]) -> AdaptivePlan:
    """The bins of an (H, W) plane pooled to out_size."""
    hs, he = adaptive_bins(int(in_size[0]), out_size[0])
    ws, we = adaptive_bins(int(in_size[1]), out_size[1])
    return AdaptivePlan(out_size, hs, he, ws, we)


def _adaptive_threads(work: int) -> int:
    """The direct kernels' thread rule (direct.get_num_threads, capped by the work)."""
    return direct._resolve_threads(None, work)


def _bin_offsets(plan: AdaptivePlan, H: int, W: int) -> Iterator[tuple[NDArray[np.bool_], NDArray[np.intp]]]:
    """For every cell offset (a, t) of a bin, row-major: which bins (OH, OW) have that cell, and
    its flat index ``ih*W + iw`` (clamped into the bin where it has none). The numpy kernels
    walk these, so each bin is scanned in row-major order, as torch scans it."""
    kh, kw = plan.he - plan.hs, plan.we - plan.ws
    for a in range(int(kh.max())):
        rows = np.minimum(plan.hs + a, plan.he - 1)
        for t in range(int(kw.max())):
            cols = np.minimum(plan.ws + t, plan.we - 1)
            yield (a < kh)[:, None] & (t < kw)[None, :], rows[:, None] * W + cols[None, :]


def adaptive_max_numpy(planes: FloatArray, plan: AdaptivePlan) -> tuple[FloatArray, IndexArray]:
    """(out, indices) (P, OH, OW) of (P, H, W) planes: torch's scan rule, the numpy way."""
    P, H, W = planes.shape
    flat = planes.reshape(P, H * W)
    best = np.full((P,) + plan.size, -np.inf, dtype=planes.dtype)
    where = np.broadcast_to(plan.hs[:, None] * W + plan.ws[None, :], best.shape).astype(np.int64)
    for valid, cells in _bin_offsets(plan, H, W):
        v = flat[:, cells]
        take = valid & ((v > best) | np.isnan(v))
        best = np.where(take, v, best)
        where = np.where(take, cells, where)
    return best, where


def adaptive_avg_numpy(planes: FloatArray, plan: AdaptivePlan) -> FloatArray:
    """(P, OH, OW) bin means of (P, H, W) planes, in the kernels' order (see _adaptive.pyx)."""
    P, H, W = planes.shape
    dtype = planes.dtype.type
    flat = planes.reshape(P, H * W)
    if plan.mean:  # numpy's pairwise sum of each plane, from 0
        return ((dtype(0) + flat.sum(axis=1)) / dtype(H * W)).reshape(P, 1, 1)
    total = np.zeros((P,) + plan.size, dtype=planes.dtype)
    for valid, cells in _bin_offsets(plan, H, W):
        total = np.where(valid, total + flat[:, cells], total)
    kh, kw = (plan.he - plan.hs).astype(dtype), (plan.we - plan.ws).astype(dtype)
    return total / kh[:, None] / kw[None, :]


def adaptive_avg_backward_numpy(dout: FloatArray, plan: AdaptivePlan, H: int, W: int) -> FloatArray:
    """(P, H, W) gradient of (P, OH, OW) dout: each bin's share to its cells, bins in row-major order."""
    P = dout.shape[0]
    dtype = dout.dtype.type
    kh, kw = plan.he - plan.hs, plan.we - plan.ws
    if plan.mean:  # torch's mean backward: every cell is dout / (H*W) itself
        return np.ascontiguousarray(np.broadcast_to(dout / dtype(H * W), (P, H, W)))
    share = dout / kh.astype(dtype)[:, None] / kw.astype(dtype)[None, :]
    bins, cells = [], []  # every (bin, cell) pair, bin-major, then row-major in the bin
    for oh in range(plan.size[0]):
        rows = np.arange(plan.hs[oh], plan.he[oh])
        for ow in range(plan.size[1]):
            block = rows[:, None] * W + np.arange(plan.ws[ow], plan.we[ow])[None, :]
            cells.append(block.ravel())
            bins.append(np.full(block.size, oh * plan.size[1] + ow))
    order, targets = np.concatenate(bins), np.concatenate(cells)
    dx = np.zeros((P, H * W), dtype=dout.dtype)
    # np.add.at adds in index order: for each plane, the (bin, cell) pairs in the order above
    np.add.at(dx, (np.arange(P)[:, None], targets[None, :]), share.reshape(P, -1)[:, order])
    return dx.reshape(P, H, W)


class _Adaptive(PoolOp):
    unbatched_empty_c = True

    def __init__(self, output_size: AdaptiveSize) -> None:
        adaptive_output_size((1, 1), output_size)
        self.output_size = output_size

    def _plan(self, x_shape: Shape) -> tuple[AdaptivePlan, tuple[int, int]]:
        size = adaptive_output_size(x_shape[2:], self.output_size)
        return adaptive_plan(x_shape[2:], size), size


class AdaptiveMaxPool2d(_Adaptive):
    """Adaptive max pooling (torch's adaptive_max_pool2d): bins of the input, their max and argmax.

    Parameters
    ----------
    output_size : int or pair
        As in :func:`cs231n_pool.functional.adaptive_max_pool2d`.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool.ops import AdaptiveMaxPool2d
    >>> op = AdaptiveMaxPool2d((1, 2))
    >>> out, ctx = op.forward(np.zeros((0, 4, 4)))  # no channels: valid, as in torch
    >>> out.shape, op.backward(ctx, out).shape
    ((0, 1, 2), (0, 4, 4))
    """

    def _no_planes(self, out_shape: Shape) -> tuple[IndexArray, None]:
        return np.empty(out_shape, dtype=np.int64), None

    def _forward(self, x4: FloatArray, plan: AdaptivePlan) -> tuple[FloatArray, tuple[IndexArray, None]]:
        N, C, H, W = x4.shape
        planes = np.ascontiguousarray(x4).reshape(N * C, H, W)
        if adaptive_kernels is None:
            out, indices = adaptive_max_numpy(planes, plan)
        else:
            out = np.empty((N * C,) + plan.size, dtype=x4.dtype)
            indices = np.empty(out.shape, dtype=np.int64)
            adaptive_kernels.max_forward(
                planes, out, indices, plan.hs, plan.he, plan.ws, plan.we, _adaptive_threads(x4.size)
            )
        shape = (N, C) + plan.size
        return out.reshape(shape), (indices.reshape(shape), None)

    def _backward(self, ctx: Context, dout4: FloatArray) -> FloatArray:
        assert ctx.indices is not None  # set by every forward
        return scatter_flat(dout4, ctx.indices, ctx.x_shape, check_method(None))


class AdaptiveAvgPool2d(_Adaptive):
    """Adaptive average pooling (torch's adaptive_avg_pool2d): the mean of each bin.

    Parameters
    ----------
    output_size : int or pair
        As in :func:`cs231n_pool.functional.adaptive_avg_pool2d`.

    Examples
    --------
    >>> import numpy as np
    >>> from cs231n_pool.ops import AdaptiveAvgPool2d
    >>> op = AdaptiveAvgPool2d(1)
    >>> out, ctx = op.forward(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> out, op.backward(ctx, np.ones((1, 1, 1, 1)))[0, 0, 0]
    (array([[[[7.5]]]]), array([0.0625, 0.0625, 0.0625, 0.0625]))
    """

    def _forward(self, x4: FloatArray, plan: AdaptivePlan) -> tuple[FloatArray, tuple[None, None]]:
        N, C, H, W = x4.shape
        planes = np.ascontiguousarray(x4).reshape(N * C, H, W)  # one summation order whatever the layout
        if adaptive_kernels is None:
            out = adaptive_avg_numpy(planes, plan)
        else:
            out = np.empty((N * C,) + plan.size, dtype=x4.dtype)
            adaptive_kernels.avg_forward(
                planes, out, plan.hs, plan.he, plan.ws, plan.we, plan.mean, _adaptive_threads(x4.size)
            )
        return out.reshape((N, C) + plan.size), (None, None)

    def _backward(self, ctx: Context, dout4: FloatArray) -> FloatArray:
        N, C, H, W = ctx.x_shape
        plan: AdaptivePlan = ctx.plan
        dout = np.ascontiguousarray(dout4).reshape((N * C,) + plan.size)
        if adaptive_kernels is None:
            return adaptive_avg_backward_numpy(dout, plan, H, W).reshape(ctx.x_shape)
        dx = np.empty((N * C, H, W), dtype=ctx.dtype)
        threads = _adaptive_threads(dx.size)
        adaptive_kernels.avg_backward(dout, dx, plan.hs, plan.he, plan.ws, plan.we, plan.mean, threads)
        return dx.reshape(ctx.x_shape)


OPS: dict[str, type] = {
    "max_pool2d": MaxPool2d,
    "avg_pool2d": AvgPool2d,
    "max_unpool2d": MaxUnpool2d,
    "adaptive_max_pool2d": AdaptiveMaxPool2d,
    "adaptive_avg_pool2d": AdaptiveAvgPool2d,
}
"""Every op of the table by its functional name (global pooling is adaptive pooling to 1x1)."""
