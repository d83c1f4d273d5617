"""Name the likely cause of a failed check: the misconceptions students really have.

When a graded check fails, pooltools' check helpers call :func:`diagnose` (installed by the
grader's conftest with ``pooltools.checks.use_diagnosis``) with the reference operation, its
arguments and what the student's code returned. Each :class:`Misconception` is a reference
implementation of one bug (the one-bug mutants the kit's tests keep, plus the missing cache),
run here, in the grading process, on the same input. When the student's result matches a
misconception's result (within the check's tolerance) and not the correct one, the check adds
one line ``Likely cause: ...`` saying what the code does and what the rule is.

This module is the grader's: it is never shipped in the student bundle (the release
self-check makes sure), so a student cannot read the answers off it.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import cs231n_pool as lib

PREFIX = "Likely cause: "
MAX_ARGS = 5  # pooling ops: x, pool_height, pool_width, stride, pad


@dataclass(frozen=True)
class Misconception:
    """One bug: where it applies, what it computes and how it is explained.

    Parameters
    ----------
    name : str
        The name of the one-bug mutant it stands for (or of the mistake, when no mutant has it).
    ops : tuple of str
        The reference operations (pooltools' check ops) whose failures it may explain.
    compute : callable
        ``compute(args, context) -> ndarray | numpy.ma.MaskedArray | None``: the buggy result on
        the same arguments (masked entries: any value; None: the bug gives no array here).
    cause : str
        The sentence after ``Likely cause:``: what the code does, then the rule.
    """

    name: str
    ops: tuple
    compute: Callable
    cause: str


# --- helpers: the naive loops, with the knobs the bugs turn ------------------------------------------


def _pad(x, pad, value, where="both"):
    widths = (pad, pad) if where == "both" else (0, 2 * pad)
    return np.pad(x, ((0, 0), (0, 0), widths, widths), constant_values=value)


def _pool(x, ph, pw, stride, pad, reduce=np.max, pad_value=-np.inf, out_hw=None, window=None):
    """Naive pooling; windows are clipped to the padded input, as numpy slicing does."""
    n, c, h, w = x.shape
    out_h, out_w = out_hw or ((h + 2 * pad - ph) // stride + 1, (w + 2 * pad - pw) // stride + 1)
    wh, ww = window or (ph, pw)
    if out_h <= 0 or out_w <= 0:
        return None
    x_pad = _pad(x, pad, pad_value)
    out = np.empty((n, c, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            win = x_pad[:, :, i * stride : i * stride + wh, j * stride : j * stride + ww]
            if win.size == 0:
                return None
            out[:, :, i, j] = reduce(win, axis=(2, 3))
    return out


def _max_backward(
    x, ph, pw, stride, pad, dout, route="first", accumulate=True, crop="pad", pad_value=-np.inf, argmax=np.argmax
):
    """Naive max-pool backward; `route` picks which maxima of a window get its gradient."""
    n, c, h, w = x.shape
    out_h, out_w = dout.shape[2], dout.shape[3]
    x_pad = _pad(x, pad, pad_value)
    dx_pad = np.zeros_like(x_pad)
    for i in range(out_h):
        for j in range(out_w):
            rows, cols = slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)
            win = x_pad[:, :, rows, cols].reshape(n, c, ph * pw)
            g = dout[:, :, i, j][:, :, None]
            if route in ("first", "last"):
                pick = argmax(win[:, :, ::-1], axis=2) if route == "last" else argmax(win, axis=2)
                pick = ph * pw - 1 - pick if route == "last" else pick
                dwin = np.zeros_like(win)
                np.put_along_axis(dwin, pick[:, :, None], g, axis=2)
            else:
                mask = win == win.max(axis=2, keepdims=True)
                dwin = mask * g if route == "all" else mask / mask.sum(axis=2, keepdims=True) * g
            dwin = dwin.reshape(n, c, ph, pw)
            if accumulate:
                dx_pad[:, :, rows, cols] += dwin
            else:
                dx_pad[:, :, rows, cols] = dwin
    return dx_pad[:, :, pad : pad + h, pad : pad + w] if crop == "pad" else dx_pad[:, :, :h, :w]


def _avg_backward(x, ph, pw, stride, pad, dout, divisor):
    n, c, h, w = x.shape
    out_h, out_w = dout.shape[2], dout.shape[3]
    dx_pad = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=x.dtype)
    div = {"padded area": (h + 2 * pad) * (w + 2 * pad), "window count": out_h * out_w, "square": ph * ph, "none": 1}[
        divisor
    ]
    for i in range(out_h):
        for j in range(out_w):
            dx_pad[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += (dout[:, :, i, j] / div)[
                :, :, None, None
            ]
    return dx_pad[:, :, pad : pad + h, pad : pad + w]


def _avg_excluding_padding(x, ph, pw, stride, pad):
    inside = _pool(np.ones_like(x[:1, :1]), ph, pw, stride, pad, reduce=np.sum, pad_value=0.0)
    return _pool(x, ph, pw, stride, pad, reduce=np.sum, pad_value=0.0) / inside


def _out_sizes(h, w, fh, fw, padding, stride):
    return (h + 2 * padding - fh) // stride + 1, (w + 2 * padding - fw) // stride + 1


def _im2col_image_major(x, fh, fw, padding, stride):
    n, c, h, w = x.shape
    out_h, out_w = _out_sizes(h, w, fh, fw, padding, stride)
    cols = lib.im2col_indices(x, fh, fw, padding=padding, stride=stride)  # (rows, (h', w', n))
    return cols.reshape(-1, out_h, out_w, n).transpose(0, 3, 1, 2).reshape(cols.shape)


def _im2col_square_field(x, fh, fw, padding, stride):
    """Offsets j >= fh were never written (np.empty keeps whatever was there): any value."""
    if fh >= fw:
        return None  # with fh > fw the loop indexes past the window and raises
    cols = lib.im2col_indices(x, fh, fw, padding=padding, stride=stride)
    unset = np.tile(np.arange(fw) >= fh, fh * x.shape[1])
    return np.ma.masked_array(cols, mask=np.broadcast_to(unset[:, None], cols.shape))


def _im2col_no_padding(x, fh, fw, padding, stride):
    return lib.im2col_indices(_pad(x, padding, 0.0, where="end"), fh, fw, padding=0, stride=stride) if padding else None


def _col2im_loops(cols, n, c, h, w, fh, fw, padding, stride, assign=False, crop="pad", image_major=False):
    out_h, out_w = _out_sizes(h, w, fh, fw, padding, stride)
    order = (c, fh, fw, n, out_h, out_w) if image_major else (c, fh, fw, out_h, out_w, n)
    blocks = cols.reshape(order)
    x_pad = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for i in range(fh):
        for j in range(fw):
            block = blocks[:, i, j].transpose(1, 0, 2, 3) if image_major else blocks[:, i, j].transpose(3, 0, 1, 2)
            at_rows, at_cols = slice(i, i + stride * out_h, stride), slice(j, j + stride * out_w, stride)
            target = (slice(None), slice(None), at_rows, at_cols)
            if assign:
                x_pad[target] = block
            else:
                x_pad[target] += block
    return x_pad[:, :, padding : padding + h, padding : padding + w] if crop == "pad" else x_pad[:, :, :h, :w]


def _maxpool_wrong_reshape(x, size, stride, padding):
    n, c = x.shape[:2]
    out = lib.max_pool_forward_naive(x, _param(size, size, stride, padding))[0]  # (N, C, H', W')
    return out.transpose(2, 3, 0, 1).reshape(out.shape)  # the (h', w', n*C + c) order read as (N, C, H', W')


def _stale_backward(args, context):
    x, size, stride, padding, dout = args
    earlier = context.get("earlier") or ()
    if not earlier or earlier[0].shape != x.shape:
        return None
    return lib.max_pool_backward_naive(
        dout, lib.max_pool_forward_naive(earlier[0], _param(size, size, stride, padding))[1]
    )


def _param(ph, pw, stride, pad):
    return {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def _rounds_up(x, ph, pw, stride, pad):
    h, w = x.shape[2:]
    return _pool(
        x,
        ph,
        pw,
        stride,
        pad,
        out_hw=((h + 2 * pad - ph + stride - 1) // stride + 1, (w + 2 * pad - pw + stride - 1) // stride + 1),
    )


def _no_plus_one(x, ph, pw, stride, pad):
    h, w = x.shape[2:]
    return _pool(x, ph, pw, stride, pad, out_hw=((h + 2 * pad - ph) // stride, (w + 2 * pad - pw) // stride))


def _sizes_swapped(x, ph, pw, stride, pad):
    h, w = x.shape[2:]
    return _pool(x, ph, pw, stride, pad, out_hw=((h + 2 * pad - pw) // stride + 1, (w + 2 * pad - ph) // stride + 1))


def _forward(fn):
    return lambda args, context: fn(*args[:MAX_ARGS])


def _backward(**knobs):
    return lambda args, context: _max_backward(*args, **knobs)


def _layer(fn):
    return lambda args, context: fn(*args[:4])


MAX_FWD, MAX_BWD, AVG_FWD, AVG_BWD = "max_pool_forward", "max_pool_backward", "avg_pool_forward", "avg_pool_backward"
LAYER_FWD, LAYER_BWD = "maxpool_forward", "maxpool_backward"

MISCONCEPTIONS = (
    Misconception(
        "output_size_missing_plus_one",
        (MAX_FWD, AVG_FWD),
        _forward(_no_plus_one),
        "the output size is computed as (H + 2*pad - pool_height) // stride without the + 1, so the last "
        "window of each row and column is dropped; H' = (H + 2*pad - pool_height) // stride + 1.",
    ),
    Misconception(
        "output_size_rounds_up",
        (MAX_FWD, AVG_FWD),
        _forward(_rounds_up),
        "the output size rounds up (ceil), so a window that does not fit at the edge becomes an extra output; "
        "floor mode drops it: H' = (H + 2*pad - pool_height) // stride + 1.",
    ),
    Misconception(
        "rectangular_window_swapped",
        (MAX_FWD, AVG_FWD),
        _forward(lambda x, ph, pw, s, p: _pool(x, ph, pw, s, p, window=(pw, ph))),
        "the window's rows are sliced with pool_width and its columns with pool_height; pool_height goes with "
        "H (rows) and pool_width with W (columns).",
    ),
    Misconception(
        "rectangular_output_size_swapped",
        (MAX_FWD, AVG_FWD),
        _forward(_sizes_swapped),
        "H' is computed from pool_width and W' from pool_height; H' uses pool_height and W' uses pool_width.",
    ),
    Misconception(
        "max_pool_pads_with_zeros",
        (MAX_FWD,),
        _forward(lambda x, ph, pw, s, p: _pool(x, ph, pw, s, p, pad_value=0.0)),
        "max pooling pads with zeros, so an all-negative window at the border returns 0; pad with -inf so "
        "padding never wins.",
    ),
    Misconception(
        "max_forward_ignores_nan",
        (MAX_FWD,),
        _forward(lambda x, ph, pw, s, p: _pool(x, ph, pw, s, p, reduce=np.nanmax)),
        "NaN is skipped (np.nanmax or a comparison that is False for NaN), so a window holding NaN returns "
        "its largest number; NaN must propagate: np.max returns NaN for such a window.",
    ),
    Misconception(
        "max_backward_assigns_instead_of_adding",
        (MAX_BWD,),
        _backward(accumulate=False),
        "the backward pass assigns (=) each window's gradient, so where windows overlap a later window "
        "overwrites an earlier one; add (+=) so an element gets the sum over every window it is the max of.",
    ),
    Misconception(
        "max_backward_forgets_pad_offset",
        (MAX_BWD,),
        _backward(crop="corner"),
        "dx is cut from the top-left corner of the padded gradient (dx_pad[:, :, :H, :W]); the input sits "
        "at offset pad: dx = dx_pad[:, :, pad:pad + H, pad:pad + W].",
    ),
    Misconception(
        "max_backward_to_every_tied_max",
        (MAX_BWD,),
        _backward(route="all"),
        "the gradient goes to every element equal to the window's max (a mask window == max), so tied maxima "
        "each get the full gradient; only the first maximum in row-major order (np.argmax) gets it.",
    ),
    Misconception(
        "max_backward_splits_ties",
        (MAX_BWD,),
        _backward(route="split"),
        "the gradient is shared equally between tied maxima; the whole gradient goes to the first maximum in "
        "row-major order (np.argmax).",
    ),
    Misconception(
        "max_backward_last_tied_max",
        (MAX_BWD,),
        _backward(route="last"),
        "the gradient goes to the last of several tied maxima (a scan with >=); it goes to the first one in "
        "row-major order (a scan with >, or np.argmax).",
    ),
    Misconception(
        "max_backward_ignores_nan",
        (MAX_BWD,),
        _backward(argmax=np.nanargmax),
        "the backward pass skips NaN (np.nanargmax), so a window holding NaN sends its gradient to its "
        "largest number; it goes to the NaN, which is that window's output (np.argmax picks it).",
    ),
    Misconception(
        "avg_forward_excludes_padding",
        (AVG_FWD,),
        _forward(_avg_excluding_padding),
        "each window is divided by its number of in-bounds cells (count_include_pad=False); here padded zeros "
        "count: always divide by pool_height * pool_width.",
    ),
    Misconception(
        "avg_backward_divides_by_padded_area",
        (AVG_BWD,),
        lambda args, context: _avg_backward(*args, divisor="padded area"),
        "the backward pass divides by the padded input's area (H + 2*pad) * (W + 2*pad); each window spreads "
        "dout / (pool_height * pool_width) over its cells.",
    ),
    Misconception(
        "avg_backward_divides_by_window_count",
        (AVG_BWD,),
        lambda args, context: _avg_backward(*args, divisor="window count"),
        "the backward pass divides by the number of windows H' * W'; each window spreads "
        "dout / (pool_height * pool_width) over its cells.",
    ),
    Misconception(
        "avg_backward_square_divisor",
        (AVG_BWD,),
        lambda args, context: _avg_backward(*args, divisor="square"),
        "the backward pass divides by pool_height**2, as if the window were square; divide by "
        "pool_height * pool_width.",
    ),
    Misconception(
        "avg_backward_no_divisor",
        (AVG_BWD,),
        lambda args, context: _avg_backward(*args, divisor="none"),
        "the backward pass sends the whole dout to every cell of the window; each cell gets "
        "dout / (pool_height * pool_width), its share of the average.",
    ),
    Misconception(
        "im2col_square_field_only",
        ("im2col",),
        _forward(_im2col_square_field),
        "the loop over window columns runs over range(field_height), so with field_width > field_height the "
        "last offsets of each window are never filled; offsets j go over range(field_width).",
    ),
    Misconception(
        "im2col_image_major_columns",
        ("im2col",),
        _forward(_im2col_image_major),
        "the columns are ordered image first, (n, h', w'); the layout puts the image last: column "
        "(h'*W' + w')*N + n holds window (h', w') of image n.",
    ),
    Misconception(
        "im2col_pads_nothing",
        ("im2col",),
        _forward(_im2col_no_padding),
        "the input is not padded on the top and left, so every window reads cells shifted by `padding`; pad "
        "`padding` zeros on every side before taking windows.",
    ),
    Misconception(
        "col2im_keeps_padding_rows",
        ("col2im",),
        lambda args, context: _col2im_loops(*args, crop="corner"),
        "the image is cut from the top-left corner of the padded image; the input sits at offset padding: "
        "x = x_padded[:, :, padding:padding + H, padding:padding + W].",
    ),
    Misconception(
        "col2im_overwrites_overlaps",
        ("col2im",),
        lambda args, context: _col2im_loops(*args, assign=True),
        "col2im assigns (=) where windows overlap, so only one window's entry survives; it must add them "
        "(+= or np.add.at): col2im is the adjoint of im2col.",
    ),
    Misconception(
        "col2im_image_major_columns",
        ("col2im",),
        lambda args, context: _col2im_loops(*args, image_major=True),
        "the columns are read image first, (n, h', w'); column (h'*W' + w')*N + n holds window (h', w') of "
        "image n, the order im2col_indices writes.",
    ),
    Misconception(
        "maxpool_stride_defaults_to_1",
        (LAYER_FWD,),
        lambda args, context: (
            lib.max_pool_forward_naive(args[0], _param(args[1], args[1], 1, args[3]))[0]
            if context.get("default_stride")
            else None
        ),
        "Maxpool(size) slides its window by 1; without a stride it must use stride = size, so the windows "
        "tile the input.",
    ),
    Misconception(
        "maxpool_stale_indices",
        (LAYER_BWD,),
        _stale_backward,
        "backward routes the gradient with the indices of the first forward call; every forward must replace "
        "the stored max_idx and shape, so backward belongs to the latest forward.",
    ),
    Misconception(
        "maxpool_zero_padding_via_im2col",
        (LAYER_FWD,),
        _layer(lambda x, size, s, p: _pool(x, size, size, s, p, pad_value=0.0)),
        "the layer lets im2col_indices pad with zeros, so padding can win the max; pad with -inf yourself "
        "before im2col (im2col_indices(..., padding=0) on the padded input).",
    ),
    Misconception(
        "maxpool_wrong_output_reshape",
        (LAYER_FWD,),
        _layer(_maxpool_wrong_reshape),
        "the maxima of the columns are reshaped straight to (N, C, H', W'), but the columns are ordered "
        "(h', w', n*C + c): reshape to (H', W', N, C), then transpose to (N, C, H', W').",
    ),
)

DTYPE_CAUSE = (
    "{function} returns {got} for a {wanted} input: an array made without dtype= (np.empty, "
    "np.zeros and np.full default to float64) upcasts the result; make it with dtype=x.dtype "
    "(or np.zeros_like)."
)
MISSING_CACHE_CAUSE = (
    "{function} returns only out, so its result cannot be unpacked as out, cache; "
    "return (out, cache): backward needs the cache."
)
FUNCTIONS = {
    MAX_FWD: "max_pool_forward_naive",
    MAX_BWD: "max_pool_backward_naive",
    AVG_FWD: "avg_pool_forward_naive",
    AVG_BWD: "avg_pool_backward_naive",
    "im2col": "im2col_indices",
    "col2im": "col2im_indices",
    LAYER_FWD: "Maxpool.forward",
    LAYER_BWD: "Maxpool.backward",
}


def _matches(actual, candidate, rtol, atol):
    """actual has candidate's shape and, where candidate is not masked, its values (NaN matches NaN)."""
    if candidate is None or not isinstance(actual, np.ndarray) or actual.shape != np.shape(candidate):
        return False
    mask = np.ma.getmaskarray(candidate)
    values = np.ma.getdata(candidate).astype(np.float64)
    got = actual.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        near = (np.abs(got - values) <= atol + rtol * np.abs(values)) | (got == values)
    near |= np.isnan(got) & np.isnan(values)
    return bool(np.all(near | mask))


def diagnose(op, args, actual, wanted, rtol, atol, context=None):
    """The ``Likely cause: ...`` line for a failed check of ``op(*args)``, or None when no misconception fits.

    Parameters
    ----------
    op : str
        The check's reference operation (e.g. ``"max_pool_forward"``); ``"<op>:result"`` when the
        function's result was not the (out, cache) pair.
    args : tuple
        Its arguments, as the check passed them to the expected-value lookup.
    actual : object
        What the student's code returned.
    wanted : numpy.ndarray or None
        The correct result.
    rtol, atol : float
        The check's tolerance.
    context : dict, optional
        What the check knows beyond the arguments (``default_stride``, ``earlier`` inputs of a layer).
    """
    context = context or {}
    base, _, part = op.partition(":")
    function = FUNCTIONS.get(base, base)
    if part == "result":
        if _matches(actual, wanted, rtol, atol):
            return PREFIX + MISSING_CACHE_CAUSE.format(function=function)
        return None
    if (
        wanted is not None
        and isinstance(actual, np.ndarray)
        and actual.shape == np.shape(wanted)
        and actual.dtype != np.asarray(wanted).dtype
        and _matches(actual, wanted, rtol, atol)
    ):
        return PREFIX + DTYPE_CAUSE.format(function=function, got=actual.dtype, wanted=np.asarray(wanted).dtype)
    if wanted is not None and _matches(actual, wanted, rtol, atol):
        return None  # the values are right; the check failed on something no misconception explains
    for misconception in MISCONCEPTIONS:
        if base not in misconception.ops:
            continue
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows of the NaN-skipping bugs
                candidate = misconception.compute(args, context)
        except (ValueError, IndexError, ZeroDivisionError, FloatingPointError):
            continue  # the bug would have raised on this input, not returned an array
        if candidate is None or (
            wanted is not None
            and _matches(np.ma.getdata(candidate), wanted, rtol, atol)
            and not np.ma.is_masked(candidate)
        ):
            continue  # this input does not tell the bug from the rule
        if _matches(actual, candidate, rtol, atol):
            return PREFIX + misconception.cause
    return None


# The upcasting mutants, by the op whose float32 result they turn into float64.
UPCASTS = {
    "max_forward_upcasts_float32": MAX_FWD,
    "avg_backward_upcasts_float32": AVG_BWD,
    "im2col_upcasts_float32": "im2col",
}


def causes():
    """{name: the full ``Likely cause:`` line it gives}, for the tests and the release self-check."""
    lines = {m.name: PREFIX + m.cause for m in MISCONCEPTIONS}
    lines["max_forward_returns_no_cache"] = PREFIX + MISSING_CACHE_CAUSE.format(function=FUNCTIONS[MAX_FWD])
    for name, op in UPCASTS.items():
        lines[name] = PREFIX + DTYPE_CAUSE.format(function=FUNCTIONS[op], got="float64", wanted="float32")
    return lines
