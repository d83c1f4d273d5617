"""Assertions and checks shared by the graded tests (public and hidden).

A check calls the student's code through a session ``s`` (``s.call(name, ...)``,
``s.call_method(handle, name, ...)``, ``s.getattr(handle, name)``), which runs it in a separate
process, and compares the result with the expected value of the same call (expected.py).

A failed check raises AssertionError with a short message: what the test checks, the call,
the shapes and parameters of its inputs, then what differs: the type, the shape, the dtype, or
for values the number of elements that differ and the first of them (its index, the value
returned, the value expected). Arrays are never printed whole.

Upstream gradients (and col2im's columns) are passed as ``draw_*`` callables,
``shape -> ndarray``, because their shape is that of an expected output. A check calls its
draw once, after looking up the expected output and before the student's code runs.

The course staff's grader may install a *diagnosis* with :func:`use_diagnosis`: a function
that, when a check fails, may name the likely cause in one more line. Nothing is installed
here.
"""

import numpy as np

from . import expected
from .inputs import pool_param

# Tolerances by dtype of the expected value: a correct solution agrees to rounding error.
TOLERANCES = {np.dtype(np.float64): (1e-7, 1e-12), np.dtype(np.float32): (1e-5, 1e-6)}

_diagnose = None


def use_diagnosis(diagnose):
    """Install ``diagnose(op, args, actual, wanted, rtol, atol, context) -> str | None`` (None: none)."""
    global _diagnose
    _diagnose = diagnose


class Call:
    """One call of the student's code: its text, and the reference ``op(*args)`` it is checked against.

    ``context`` holds what a diagnosis needs beyond the arguments (e.g. how a layer was made).
    """

    def __init__(self, text, op=None, args=(), context=None):
        self.text, self.op, self.args, self.context = text, op, tuple(args), dict(context or {})


def describe(value):
    """A short description of an argument: shape and dtype for an array, repr otherwise."""
    if isinstance(value, np.ndarray):
        return f"shape {value.shape} {value.dtype}"
    return repr(value)


def _tolerance(wanted):
    return TOLERANCES.get(np.asarray(wanted).dtype, TOLERANCES[np.dtype(np.float64)])


def _close(actual, wanted, rtol, atol):
    """Boolean array: where actual agrees with wanted (NaN matches NaN, inf matches the same inf)."""
    actual, wanted = np.asarray(actual, dtype=np.float64), np.asarray(wanted, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        near = np.abs(actual - wanted) <= atol + rtol * np.abs(wanted)
    return near | (actual == wanted) | (np.isnan(actual) & np.isnan(wanted))


def _fmt_value(v):
    return repr(float(v)) if np.issubdtype(np.asarray(v).dtype, np.floating) else repr(v.item())


def differences(actual, wanted, rtol, atol):
    """'K of N values differ; the first at [i, j, ...]: returned A, expected B' ('' when none differ)."""
    ok = _close(actual, wanted, rtol, atol)
    bad = np.argwhere(~ok)
    if not len(bad):
        return ""
    first = tuple(int(i) for i in bad[0])
    where = "[" + ", ".join(map(str, first)) + "]"
    return (
        f"{len(bad)} of {ok.size} values differ; the first at {where}: returned "
        f"{_fmt_value(np.asarray(actual)[first])}, expected {_fmt_value(np.asarray(wanted)[first])}"
    )


def fail(what, call, problem, actual=None, wanted=None, rtol=None, atol=None):
    """Raise the AssertionError of a failed check, with the diagnosis line when one is installed."""
    __tracebackhide__ = True
    lines = [f"{what}: {call.text}" if what else call.text, f"  {problem}"]
    if _diagnose is not None and call.op is not None:
        if rtol is None:
            rtol, atol = _tolerance(wanted) if wanted is not None else TOLERANCES[np.dtype(np.float64)]
        cause = _diagnose(call.op, call.args, actual, wanted, rtol, atol, call.context)
        if cause:
            lines.append(cause)
    raise AssertionError("\n".join(lines))


def assert_array(actual, wanted, what, call):
    """actual is an ndarray with wanted's shape and dtype, and values within tolerance (NaN matches NaN)."""
    __tracebackhide__ = True
    wanted = np.asarray(wanted)
    if not isinstance(actual, np.ndarray):
        fail(
            what,
            call,
            f"returned {type(actual).__name__}, expected a numpy array of shape {wanted.shape}",
            actual,
            wanted,
        )
    if actual.shape != wanted.shape:
        fail(what, call, f"returned shape {actual.shape}, expected {wanted.shape}", actual, wanted)
    if actual.dtype != wanted.dtype:
        fail(what, call, f"returned dtype {actual.dtype}, expected {wanted.dtype} (the input's dtype)", actual, wanted)
    rtol, atol = _tolerance(wanted)
    problem = differences(actual, wanted, rtol, atol)
    if problem:
        fail(what, call, problem, actual, wanted, rtol, atol)


def assert_equal_ints(actual, wanted, what, call):
    """actual is an integer ndarray equal to wanted."""
    __tracebackhide__ = True
    if not isinstance(actual, np.ndarray) or actual.dtype.kind not in "iu":
        kind = actual.dtype if isinstance(actual, np.ndarray) else type(actual).__name__
        fail(what, call, f"returned {kind}, expected an integer array of shape {wanted.shape}")
    if actual.shape != wanted.shape:
        fail(what, call, f"returned shape {actual.shape}, expected {wanted.shape}")
    problem = differences(actual, wanted, 0, 0)
    if problem:
        fail(what, call, problem)


def _param_args(param):
    return param["pool_height"], param["pool_width"], param["stride"], param.get("pad", 0)


def _forward_call(kind, x, param):
    return Call(
        f"{kind}_pool_forward_naive(x, pool_param), x {describe(x)}, pool_param={param}",
        f"{kind}_pool_forward",
        (x, *_param_args(param)),
    )


def forward(s, kind, x, param, what):
    """(out, cache) of the submission's {kind}_pool_forward_naive(x, param); fails unless it returns a pair."""
    __tracebackhide__ = True
    result = s.call(f"{kind}_pool_forward_naive", x, param)
    if not (isinstance(result, tuple) and len(result) == 2):
        call = _forward_call(kind, x, param)
        got = describe(result) if isinstance(result, np.ndarray) else type(result).__name__
        call.op = f"{kind}_pool_forward:result"
        fail(
            what,
            call,
            f"returned {got}, expected a tuple (out, cache)",
            result,
            expected.value(f"{kind}_pool_forward", x, *_param_args(param)),
        )
    return result


def check_pool_forward(s, kind, x, param, what, wanted=None):
    """The submission's {kind}_pool_forward_naive(x, param) output is the expected one (kind: max|avg).

    ``wanted`` replaces the stored expected value (for worked examples written out in a test)."""
    __tracebackhide__ = True
    if wanted is None:
        wanted = expected.value(f"{kind}_pool_forward", x, *_param_args(param))
    out, _ = forward(s, kind, x, param, what)
    assert_array(out, wanted, what, _forward_call(kind, x, param))


def check_pool_backward(s, kind, x, param, what, draw_dout):
    """dx of the submission's {kind}_pool_backward_naive, given the cache of its own forward, is expected.

    dout = draw_dout(output shape).
    """
    __tracebackhide__ = True
    args = _param_args(param)
    dout = np.asarray(draw_dout(expected.value(f"{kind}_pool_forward", x, *args).shape), dtype=x.dtype)
    wanted = expected.value(f"{kind}_pool_backward", x, *args, dout)
    _, cache = forward(s, kind, x, param, what)
    dx = s.call(f"{kind}_pool_backward_naive", dout, cache)
    call = Call(
        f"{kind}_pool_backward_naive(dout, cache) after {kind}_pool_forward_naive(x, pool_param), "
        f"x {describe(x)}, pool_param={param}, dout {describe(dout)}",
        f"{kind}_pool_backward",
        (x, *args, dout),
    )
    assert_array(dx, wanted, what, call)


def check_im2col(s, x, fh, fw, padding, stride, what="", wanted=None):
    """The submission's im2col_indices(x, fh, fw, padding, stride) is the expected column matrix."""
    __tracebackhide__ = True
    if wanted is None:
        wanted = expected.value("im2col", x, fh, fw, padding, stride)
    cols = s.call("im2col_indices", x, fh, fw, padding=padding, stride=stride)
    call = Call(
        f"im2col_indices(x, {fh}, {fw}, padding={padding}, stride={stride}), x {describe(x)}",
        "im2col",
        (x, fh, fw, padding, stride),
    )
    assert_array(cols, wanted, what, call)


def check_col2im(s, x_shape, fh, fw, padding, stride, draw_cols, what="", dtype=np.float64, wanted=None):
    """The submission's col2im_indices of cols = draw_cols(im2col's output shape) is the expected image."""
    __tracebackhide__ = True
    cols_shape = expected.value("im2col", np.zeros(x_shape), fh, fw, padding, stride).shape
    cols = np.asarray(draw_cols(cols_shape), dtype=dtype)
    if wanted is None:
        wanted = expected.value("col2im", cols, *x_shape, fh, fw, padding, stride)
    x = s.call("col2im_indices", cols, x_shape, fh, fw, padding=padding, stride=stride)
    call = Call(
        f"col2im_indices(cols, {tuple(x_shape)}, {fh}, {fw}, padding={padding}, stride={stride}), "
        f"cols {describe(cols)}",
        "col2im",
        (cols, *x_shape, fh, fw, padding, stride),
    )
    assert_array(x, wanted, what, call)


def check_maxpool_layer(s, x, size, stride, padding, what, draw_dout, layer=None, made=None, earlier=()):
    """layer.forward(x), then layer.backward(dout), equal max pooling with a size x size window.

    `layer` is a handle to the submission's Maxpool, created as Maxpool(size, stride=stride,
    padding=padding) when None; stride and padding are the values it should be using, and
    `made` says how a given layer was created (e.g. "Maxpool(2)").
    `earlier` are the inputs of the forward calls this layer already made (oldest first).
    dout = draw_dout(output shape).
    """
    __tracebackhide__ = True
    if layer is None:
        made = f"Maxpool({size}, stride={stride}, padding={padding})"
        layer = s.call("Maxpool", size, stride=stride, padding=padding)
    made = made or "the layer"
    default_stride = made == f"Maxpool({size})"
    args = _param_args(pool_param(size, size, stride, padding))
    out = expected.value("max_pool_forward", x, *args)
    dout = np.asarray(draw_dout(out.shape), dtype=x.dtype)
    dx = expected.value("max_pool_backward", x, *args, dout)
    context = {"default_stride": default_stride, "earlier": tuple(earlier)}
    before = f" after {len(earlier)} earlier forward call(s)" if earlier else ""
    call = Call(f"{made}.forward(x){before}, x {describe(x)}", "maxpool_forward", (x, size, stride, padding), context)
    assert_array(s.call_method(layer, "forward", x), out, what, call)
    call = Call(
        f"{made}.backward(dout) after forward(x){before}, x {describe(x)}, dout {describe(dout)}",
        "maxpool_backward",
        (x, size, stride, padding, dout),
        context,
    )
    assert_array(s.call_method(layer, "backward", dout), dx, what, call)


# --- the notebook exercises ------------------------------------------------------------------------

OUTPUT_SIZES = "def _output_sizes(rows):\n    return [output_size(*row) for row in rows]\n"
FILTER_ONLY = "def conv_single_filter(x, w, k, stride, pad):\n    return w\n"


def check_output_size(s, rows, wanted, what):
    """output_size(size, kernel, stride, pad, ceil_mode) of the exercise session ``s`` on each row.

    ``s`` runs the exercise file with OUTPUT_SIZES appended; rows are (size, kernel, stride, pad, ceil)."""
    __tracebackhide__ = True
    cases = [[int(v) for v in row[:4]] + [bool(row[4])] for row in rows]
    call = Call(f"output_size(size, kernel, stride, pad, ceil_mode) on {len(cases)} cases")
    try:
        got = np.asarray(s.call("_output_sizes", cases), dtype=np.int64)
    except (TypeError, ValueError):
        fail(what, call, "returned something that is not a whole number for some case")
    wrong = np.flatnonzero(got != np.asarray(wanted))
    if len(wrong):
        size, kernel, stride, pad, ceil = cases[wrong[0]]
        fail(
            what,
            call,
            f"{len(wrong)} of {len(cases)} cases differ; the first: output_size({size}, {kernel}, "
            f"{stride}, {pad}, ceil_mode={ceil}) returned {got[wrong[0]]}, expected {wanted[wrong[0]]}",
        )


def check_index_arrays(s, x, fh, fw, padding, stride, what):
    """x_padded[:, k, i, j] with (k, i, j) = index_arrays(C, H, W, fh, fw, padding, stride), columns moved
    to the (h', w', n) order, is im2col's column matrix."""
    __tracebackhide__ = True
    n, c, h, w = x.shape
    call = Call(f"index_arrays({c}, {h}, {w}, {fh}, {fw}, {padding}, {stride}), gathering x {describe(x)}")
    result = s.call("index_arrays", c, h, w, fh, fw, padding, stride)
    if not (isinstance(result, tuple) and len(result) == 3 and all(isinstance(a, np.ndarray) for a in result)):
        fail(what, call, f"returned {type(result).__name__}, expected a tuple of three integer arrays (k, i, j)")
    if any(a.dtype.kind not in "iu" for a in result):
        fail(what, call, f"returned arrays of dtypes {[str(a.dtype) for a in result]}, expected integer arrays")
    x_padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k, i, j = result
    try:
        gathered = x_padded[:, k, i, j]
    except IndexError as exc:
        fail(what, call, f"x_padded[:, k, i, j] fails: {exc}")
    wanted = expected.value("im2col", x, fh, fw, padding, stride)
    if gathered.ndim != 3 or gathered.shape[1:] != (wanted.shape[0], wanted.shape[1] // n):
        fail(
            what,
            call,
            f"x_padded[:, k, i, j] has shape {gathered.shape}, expected {(n, wanted.shape[0], wanted.shape[1] // n)}",
        )
    assert_array(gathered.transpose(1, 2, 0).reshape(wanted.shape), wanted, what, call)


def check_average_filter(s, x, k, stride, pad, what):
    """The filter w that avg_pool_as_conv(x, k, stride, pad) hands to conv_single_filter gives average
    pooling: w @ im2col(x as (N*C, 1, H, W)) is the average-pooled x. ``s`` has FILTER_ONLY appended."""
    __tracebackhide__ = True
    n, c, h, width = x.shape
    call = Call(f"avg_pool_as_conv(x, {k}, {stride}, {pad}), x {describe(x)}: its filter w")
    w = s.call("avg_pool_as_conv", x, k, stride, pad)
    if not isinstance(w, np.ndarray) or w.shape != (1, k * k):
        got = f"shape {w.shape}" if isinstance(w, np.ndarray) else type(w).__name__
        fail(what, call, f"the filter w has {got}, expected shape (1, {k * k})")
    cols = expected.value("im2col", x.reshape(n * c, 1, h, width), k, k, pad, stride)
    out_h, out_w = (h + 2 * pad - k) // stride + 1, (width + 2 * pad - k) // stride + 1
    out = (w.astype(np.float64) @ cols).reshape(out_h, out_w, n, c).transpose(2, 3, 0, 1)
    rtol, atol = 1e-10, 1e-12  # a sum of k*k products: rounding of order 1e-16 per term
    wanted = expected.value("avg_pool_forward", x, k, k, stride, pad)
    problem = differences(out, wanted, rtol, atol)
    if problem:
        fail(what, call, "w @ cols is not the average pooling of x: " + problem)


def check_relu_max(s, a, b, what):
    """relu_max(a, b) is the elementwise maximum of a and b."""
    __tracebackhide__ = True
    assert_array(s.call("relu_max", a, b), np.maximum(a, b), what, Call(f"relu_max(a, b), a and b {describe(a)}"))
