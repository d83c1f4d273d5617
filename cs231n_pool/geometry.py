"""Pooling geometry: argument checks and the one output-size helper.

Every op, layer and kernel wrapper in the package gets its window placement from
:func:`pool_geometry`, so the output-size formula lives in exactly one place.

Output size per spatial dimension (PyTorch's rule), with ``k_eff = d*(k-1) + 1``:

* floor mode: ``out = (H + 2p - k_eff) // s + 1``
* ceil mode:  ``out = (H + 2p - k_eff + s - 1) // s + 1``, then ``out -= 1`` if
  ``(out-1)*s >= H + p`` (the last window must start inside the input or the
  left padding).
* ``padding='same'`` (TensorFlow/Keras rule, not in PyTorch): ``out = ceil(H/s)``,
  total padding ``max((out-1)*s + k_eff - H, 0)`` split with the extra cell on the
  bottom/right.
* ``padding='valid'`` is padding 0.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np
from numpy.typing import NDArray

IntOrPair: TypeAlias = int | Sequence[int]
"""kernel_size, stride, padding, dilation: an int for both dimensions, a pair (height, width), or (v,)."""
Padding: TypeAlias = IntOrPair | str
"""An :data:`IntOrPair`, or 'same' / 'valid'."""
FloatArray: TypeAlias = NDArray[np.floating[Any]]
"""Pooling data: float32 or float64."""
IndexArray: TypeAlias = NDArray[np.int64]
"""Flat ``ih*W + iw`` indices within each (n, c) plane, or argmax rows."""
Shape: TypeAlias = tuple[int, ...]

SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# Largest kernel/stride/padding/dilation/output size accepted: anything bigger would
# overflow the C integers the kernels and numpy index arithmetic use.
MAX_PARAM = 2**31 - 1


class PoolGeometry(NamedTuple):
    """Where the windows of one pooling op sit on an ``in_h x in_w`` plane.

    Window ``(oh, ow)`` starts at row ``oh*stride_h - pad_top`` and column
    ``ow*stride_w - pad_left`` and reads every ``dilation``-th cell. Cells outside
    the plane are padding. ``pad_bottom``/``pad_right`` are the declared padding
    on the far side (they matter for the average divisor).

    Examples
    --------
    >>> from cs231n_pool import pool_geometry
    >>> geom = pool_geometry((7, 6), 3, stride=2, padding="same")
    >>> (geom.pad_top, geom.pad_bottom), (geom.pad_left, geom.pad_right), (geom.out_h, geom.out_w)
    ((1, 1), (0, 1), (4, 3))
    """

    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    pad_bottom: int
    pad_right: int
    dilation_h: int
    dilation_w: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int

    @property
    def window_size(self) -> int:
        return self.kernel_h * self.kernel_w


def as_pair(value: Any, name: str, *, single: bool = False) -> tuple[int, int]:
    """An int means (value, value); a pair of ints means (height, width); |entries| <= MAX_PARAM.

    With ``single``, a one-entry tuple or list ``(v,)`` also means (v, v), as in torch's
    pooling ops (max_pool2d, avg_pool2d); max_unpool2d and the adaptive output_size take
    only an int or a pair there, so they do not pass it.
    """
    if single and isinstance(value, (tuple, list)) and len(value) == 1:
        value = (value[0], value[0])
    if is_int(value):
        pair = int(value), int(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        pair = int(value[0]), int(value[1])
    elif isinstance(value, (tuple, list)) and len(value) != 2:
        forms = "an int, one int in a tuple, or a pair of ints" if single else "an int or a pair of ints"
        raise ValueError(f"{name} must be {forms}, got {value!r} with {len(value)} entries")
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r} of type {type(value).__name__}")
    if max(abs(v) for v in pair) > MAX_PARAM:
        raise ValueError(f"{name} must be at most {MAX_PARAM} in absolute value, got {name}={value!r}")
    return pair


def positive_pair(value: Any, name: str, *, single: bool = False) -> tuple[int, int]:
    """:func:`as_pair` whose entries must both be > 0 (kernel_size, stride, dilation)."""
    pair = as_pair(value, name, single=single)
    if pair[0] <= 0 or pair[1] <= 0:
        raise ValueError(f"{name} must be > 0, got {name}={value!r}")
    return pair


def positive_int(value: Any, name: str) -> int:
    """A single int in [1, MAX_PARAM] (im2col's field_height, the naive loops' pool_height, ...)."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {name}={value!r} of type {type(value).__name__}")
    if not 0 < value <= MAX_PARAM:
        raise ValueError(f"{name} must be > 0 and at most {MAX_PARAM}, got {name}={value!r}")
    return int(value)


def is_int(value: Any) -> bool:
    """A Python or numpy integer, but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def pooled_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length along one dimension (the formula in the module docstring).

    Parameters
    ----------
    size, kernel, stride, padding, dilation : int
        The input length and the window along that dimension.
    ceil_mode : bool
        The ceil rule (the last window must start inside the input or the left padding).

    Returns
    -------
    int
        May be < 1 when the window does not fit (pool_geometry reports that).

    Raises
    ------
    TypeError, ValueError
        A non-positive kernel, stride or dilation, or a negative size or padding.

    Examples
    --------
    >>> from cs231n_pool import pooled_size
    >>> pooled_size(7, 3, 2, 1), pooled_size(6, 2, 2, 0, ceil_mode=True)
    (4, 3)
    """
    for name, value in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        positive_int(value, name)
    if not is_int(size) or not is_int(padding) or size < 0 or padding < 0:
        raise ValueError(f"size and padding must be ints >= 0, got size={size!r}, padding={padding!r}")
    effective = dilation * (kernel - 1) + 1
    span = size + 2 * padding - effective
    if ceil_mode:
        out = (span + stride - 1) // stride + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return span // stride + 1


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int, int]:
    """TensorFlow 'SAME': returns (out, pad_before, pad_after), extra cell after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return out, total // 2, total - total // 2


class PoolArgs(NamedTuple):
    """Checked pooling arguments, before the input size is known (from :func:`pool_args`).

    ``padding`` is None for 'same' (its amount depends on the input size). ``given`` keeps the
    arguments as passed, (kernel_size, stride, padding, dilation), for error messages.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int] | None
    ceil_mode: bool
    given: tuple[Any, Any, Any, Any]


def pool_args(
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
    *,
    limit_padding: bool = True,
) -> PoolArgs:
    """Check the pooling arguments that do not depend on the input.

    kernel_size, stride, dilation: int or (h, w), all > 0; stride defaults to kernel_size.
    padding: int or (h, w) >= 0 and at most kernel // 2 (when ``limit_padding``),
    or 'same' / 'valid'. As in torch, a one-entry tuple ``(v,)`` means (v, v) and an
    empty stride ``()`` means the default. Every int is at most MAX_PARAM. ceil_mode
    selects the ceil output-size rule.
    Raises ValueError/TypeError naming the offending parameter and value.
    """
    kernel_h, kernel_w = positive_pair(kernel_size, "kernel_size", single=True)
    default_stride = stride is None or isinstance(stride, (tuple, list)) and len(stride) == 0
    strides = (kernel_h, kernel_w) if default_stride else positive_pair(stride, "stride", single=True)
    dilations = positive_pair(dilation, "dilation", single=True)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    ceil_mode = bool(ceil_mode)

    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            padding = 0
        elif mode == "same":
            if ceil_mode:
                raise ValueError(
                    "ceil_mode=True cannot be combined with padding='same' "
                    "(its output size is fixed at ceil(H / stride))"
                )
            return PoolArgs(
                (kernel_h, kernel_w), strides, dilations, None, False, (kernel_size, stride, padding, dilation)
            )
        else:
            raise ValueError(f"padding must be an int, a pair of ints, 'same' or 'valid', got {padding!r}")

    pad_h, pad_w = as_pair(padding, "padding", single=True)
    if pad_h < 0 or pad_w < 0:
        raise ValueError(f"padding must be >= 0, got padding={padding!r}")
    if limit_padding and (pad_h > kernel_h // 2 or pad_w > kernel_w // 2):
        raise ValueError(
            f"padding={padding!r} must be at most half the kernel_size={kernel_size!r} "
            f"(kernel_size // 2 = {(kernel_h // 2, kernel_w // 2)})"
        )
    return PoolArgs(
        (kernel_h, kernel_w), strides, dilations, (pad_h, pad_w), ceil_mode, (kernel_size, stride, padding, dilation)
    )


def place_windows(args: PoolArgs, spatial_shape: Sequence[int]) -> PoolGeometry:
    """Place the windows of checked arguments on an (H, W) plane; raises ValueError when they do not fit."""
    in_h, in_w = (int(v) for v in spatial_shape)
    (kernel_h, kernel_w), (stride_h, stride_w), (dilation_h, dilation_w) = args.kernel, args.stride, args.dilation
    if args.padding is None:  # 'same'
        out_h, top, bottom = same_padding(in_h, kernel_h, stride_h, dilation_h)
        out_w, left, right = same_padding(in_w, kernel_w, stride_w, dilation_w)
        return PoolGeometry(
            kernel_h, kernel_w, stride_h, stride_w, top, left, bottom, right,
            dilation_h, dilation_w, in_h, in_w, out_h, out_w,
        )  # fmt: skip
    pad_h, pad_w = args.padding
    out_h = pooled_size(in_h, kernel_h, stride_h, pad_h, dilation_h, args.ceil_mode)
    out_w = pooled_size(in_w, kernel_w, stride_w, pad_w, dilation_w, args.ceil_mode)
    if out_h < 1 or out_w < 1:
        kernel_size, stride, padding, dilation = args.given
        raise ValueError(
            f"output size is too small: input (H, W)={(in_h, in_w)} with kernel_size={kernel_size!r}, "
            f"stride={stride!r}, padding={padding!r}, dilation={dilation!r} gives output {(out_h, out_w)}; "
            f"the window is larger than the padded input"
        )
    return PoolGeometry(
        kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, pad_h, pad_w,
        dilation_h, dilation_w, in_h, in_w, out_h, out_w,
    )  # fmt: skip


def pool_geometry(
    spatial_shape: Sequence[int],
    kernel_size: IntOrPair,
    stride: IntOrPair | None = None,
    padding: Padding = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
    *,
    limit_padding: bool = True,
) -> PoolGeometry:
    """Check the pooling arguments (:func:`pool_args`) and place the windows on an (H, W) plane
    (:func:`place_windows`).

    Parameters
    ----------
    spatial_shape : pair of int
        (H, W) of the input.
    kernel_size, stride, padding, dilation, ceil_mode
        As in :func:`cs231n_pool.functional.max_pool2d`.
    limit_padding : bool
        Whether padding is limited to half the window (not for im2col, which also serves
        convolutions).

    Returns
    -------
    PoolGeometry

    Raises
    ------
    TypeError, ValueError
        A bad argument, or windows that do not fit the padded input, named with their values.

    Examples
    --------
    >>> from cs231n_pool import pool_geometry
    >>> geom = pool_geometry((7, 6), 3, stride=2, padding=1)
    >>> geom.out_h, geom.out_w, geom.window_size
    (4, 3, 9)
    """
    args = pool_args(kernel_size, stride, padding, dilation, ceil_mode, limit_padding=limit_padding)
    return place_windows(args, spatial_shape)


def check_input(x: Any, name: str = "x", *, unbatched_empty_c: bool = False) -> tuple[FloatArray, bool]:
    """Validate a pooling input; return it as (N, C, H, W) plus whether it was batched.

    Accepts (N, C, H, W) or (C, H, W), float32 or float64, any memory order.
    N = 0 is allowed; C, H or W = 0 is an error, except C = 0 of a 3-D input when
    ``unbatched_empty_c`` (torch's adaptive pooling takes (0, H, W), treating the
    leading dimension of a 3-D input as a batch).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    check_dtype(x.dtype, name)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{name} must be 3-D (C, H, W) or 4-D (N, C, H, W), got {name}.ndim={x.ndim} with shape {x.shape}"
        )
    batched = x.ndim == 4
    x4 = x if batched else x[np.newaxis]
    if 0 in x4.shape[2:] or (x4.shape[1] == 0 and (batched or not unbatched_empty_c)):
        dims = "H and W" if unbatched_empty_c and not batched else "C, H and W"
        raise ValueError(f"{name} must have non-empty {dims}, got {name}.shape={x.shape}")
    return x4, batched


def check_shape(
    shape: Any, name: str = "x_shape", ndims: Sequence[int] = (3, 4), *, unbatched_empty_c: bool = False
) -> Shape:
    """A shape given as a tuple/list: (N, C, H, W) (or (C, H, W) when 3 is in ndims) of
    ints with N >= 0 and C, H, W > 0 (C >= 0 in a 3-D shape with ``unbatched_empty_c``,
    as :func:`check_input`); returned as a tuple of Python ints."""
    forms = " or ".join({3: "(C, H, W)", 4: "(N, C, H, W)"}[n] for n in sorted(ndims, reverse=True))
    if not (isinstance(shape, (tuple, list)) and len(shape) in ndims):
        raise ValueError(f"{name} must be a tuple {forms}, got {name}={shape!r}")
    if not all(is_int(v) for v in shape):
        raise TypeError(f"{name} must hold ints, got {name}={shape!r}")
    nonempty = shape[-2:] if unbatched_empty_c and len(shape) == 3 else shape[-3:]
    if min(shape) < 0 or 0 in nonempty:
        raise ValueError(f"{name} must have N >= 0 and non-empty C, H and W, got {name}={tuple(shape)!r}")
    return tuple(int(v) for v in shape)


def check_dtype(dtype: np.dtype[Any], name: str = "x") -> None:
    """Raise TypeError unless dtype is float32 or float64 in native byte order (what the kernels read)."""
    if dtype not in SUPPORTED_DTYPES:
        native = dtype.newbyteorder("=") if dtype.byteorder in ("<", ">") else dtype
        hint = f" in native byte order ({name}.astype(np.{native.name}))" if native in SUPPORTED_DTYPES else ""
        raise TypeError(f"{name} must have dtype float32 or float64{hint}, got {name}.dtype={dtype}")


def check_grad(dout: Any, expected_shape: Sequence[int], dtype: np.dtype[Any], name: str = "dout") -> FloatArray:
    """Validate an upstream gradient against the shape the forward produced."""
    if not isinstance(dout, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(dout).__name__}")
    if not (np.issubdtype(dout.dtype, np.floating) or np.issubdtype(dout.dtype, np.integer)):
        raise TypeError(f"{name} must have a real numeric dtype, got {name}.dtype={dout.dtype}")
    if dout.shape != tuple(expected_shape):
        raise ValueError(
            f"{name} must have the forward output's shape {tuple(expected_shape)}, got {name}.shape={dout.shape}"
        )
    return dout.astype(dtype, copy=False)


class AxisPlacement(NamedTuple):
    """Where the windows along one axis (rows or columns) meet the input, one entry per output position.

    ``start``: the window's first cell, ``o*stride - pad`` (negative inside the left/top padding).
    ``skip``: window steps before the first in-bounds cell (padding cells skipped in steps of the
    dilation). ``first = start + skip*dilation``: that cell. ``cells``: how many of the window's
    cells lie in the input (0 for a window that misses it, which only a dilated one can).
    """

    start: NDArray[np.intp]
    skip: NDArray[np.intp]
    first: NDArray[np.intp]
    cells: NDArray[np.intp]


def axis_placement(starts: NDArray[np.integer[Any]], kernel: int, dilation: int, size: int) -> AxisPlacement:
    """:class:`AxisPlacement` of windows starting at ``starts`` with ``kernel`` cells ``dilation`` apart
    on an axis of ``size`` cells."""
    start = np.asarray(starts, dtype=np.intp)
    skip = np.where(start < 0, (-start + dilation - 1) // dilation, 0)  # ceil(-start / d) for start < 0
    first = start + skip * dilation
    last = np.minimum(start + (kernel - 1) * dilation, size - 1)  # last cell the window may touch
    cells = np.where((skip < kernel) & (last >= first), (last - first) // dilation + 1, 0)
    return AxisPlacement(start, skip, first, cells)


def window_placement(geom: PoolGeometry) -> tuple[AxisPlacement, AxisPlacement]:
    """The placement of every window of ``geom``: (rows, columns). Window (oh, ow) reads the
    ``rows.cells[oh] x cols.cells[ow]`` in-bounds cells from ``(rows.first[oh], cols.first[ow])``
    on, ``dilation`` apart; its other cells are padding."""
    row_starts, col_starts = window_starts(geom)
    return (
        axis_placement(row_starts, geom.kernel_h, geom.dilation_h, geom.in_h),
        axis_placement(col_starts, geom.kernel_w, geom.dilation_w, geom.in_w),
    )


def window_cells(
    geom: PoolGeometry, oh: int, ow: int, placement: tuple[AxisPlacement, AxisPlacement] | None = None
) -> Iterator[tuple[int, int]]:
    """(ih, iw) of every in-bounds cell of window (oh, ow), in row-major scan order.

    placement: :func:`window_placement` of geom, when the caller walks many windows.
    """
    rows, cols = window_placement(geom) if placement is None else placement
    for i in range(int(rows.cells[oh])):
        for j in range(int(cols.cells[ow])):
            yield int(rows.first[oh]) + i * geom.dilation_h, int(cols.first[ow]) + j * geom.dilation_w


def window_starts(geom: PoolGeometry) -> tuple[NDArray[np.int_], NDArray[np.int_]]:
    """First row of each output row's window and first column of each output column's window (may be < 0)."""
    return (np.arange(geom.out_h) * geom.stride_h - geom.pad_top, np.arange(geom.out_w) * geom.stride_w - geom.pad_left)


def avg_divisors(
    geom: PoolGeometry, count_include_pad: bool = True, divisor_override: int | None = None
) -> NDArray[np.float64]:
    """The (out_h, out_w) float64 divisor of each average window (PyTorch's rules).

    The window spans ``[start, min(start + k, H + pad_bottom))``; its pool size is
    taken from that span before clipping to the input. divisor_override wins; else
    the pool size if count_include_pad; else the number of in-bounds cells.
    """
    if divisor_override is not None:
        check_divisor_override(divisor_override)
        return np.full((geom.out_h, geom.out_w), float(divisor_override))
    rows = _spans(window_starts(geom)[0], geom.kernel_h, geom.in_h, geom.pad_bottom, count_include_pad)
    cols = _spans(window_starts(geom)[1], geom.kernel_w, geom.in_w, geom.pad_right, count_include_pad)
    return np.outer(rows, cols).astype(np.float64)


def check_divisor_override(divisor_override: Any) -> None:
    """None, or a non-zero int of at most MAX_PARAM in absolute value (it may be negative, as in torch)."""
    if divisor_override is None:
        return
    if not is_int(divisor_override):
        raise TypeError(f"divisor_override must be an int or None, got {divisor_override!r}")
    if divisor_override == 0 or abs(divisor_override) > MAX_PARAM:
        raise ValueError(
            f"divisor_override must be non-zero and at most {MAX_PARAM} in absolute value, "
            f"got divisor_override={divisor_override!r}"
        )


def _spans(
    starts: NDArray[np.int_], kernel: int, size: int, pad_after: int, count_include_pad: bool
) -> NDArray[np.int_]:
    ends = np.minimum(starts + kernel, size + pad_after)
    if count_include_pad:
        return ends - starts
    return np.minimum(ends, size) - np.maximum(starts, 0)


def adaptive_bins(in_size: int, out_size: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Adaptive pooling's bins along one axis: bin i covers ``[floor(i*In/Out), ceil((i+1)*In/Out))``.

    Parameters
    ----------
    in_size, out_size : int
        The input and output lengths, both >= 1.

    Returns
    -------
    starts, ends : ndarray of intp
        (out_size,) each. Bins may overlap, and with out_size > in_size several share a cell.

    Examples
    --------
    >>> from cs231n_pool.geometry import adaptive_bins
    >>> adaptive_bins(5, 3)
    (array([0, 1, 3]), array([2, 4, 5]))
    """
    i = np.arange(out_size, dtype=np.intp)
    return (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)
