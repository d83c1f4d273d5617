"""The check cells of the notebooks: run your functions on fixed inputs and print the error.

Each check prints one line per case with CS231n's relative error (:func:`rel_error`) against
the expected value stored in expected.npz, and the size to expect. Checks take your
functions as arguments (e.g. ``check_im2col(pl.im2col_indices)``), so they also work on a
function you write in the notebook itself.

:func:`expected_calls` lists every stored value the checks look up; the course staff's
release tool computes exactly those.
"""

import numpy as np

from . import expected
from .gradient_check import rel_error
from .inputs import distinct, pool_param, spread

RECT_CASES = [((2, 3, 5, 7), 2, 3, 1), ((2, 3, 5, 7), 2, 3, 2)]  # shape, ph, pw, stride
IM2COL_CASES = [
    ((2, 3, 5, 5), 2, 2, 0, 2),
    ((2, 3, 5, 7), 2, 3, 0, 1),
    ((1, 2, 6, 4), 3, 2, 1, 2),
    ((4, 1, 8, 8), 3, 3, 1, 1),
]  # shape, fh, fw, pad, stride
LAYER_CASES = [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)]  # size, stride, padding
CONV_CASES = [(2, 2, 0), (3, 1, 1), (3, 2, 1)]  # k, stride, pad
RELU_CASES = [(2, 2), (3, 3), (3, 1)]  # k, stride
CEIL_OPTIONS = [(ceil, include) for ceil in (False, True) for include in (True, False)]
TIMING_SIZES = np.array([8, 16, 32, 64])
TIMING_REPEATS = 10


def _negative():
    return -1.0 - np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)


def _float32_batch():
    return spread((4, 3, 9, 8), seed=5).astype(np.float32)


def _index_input():
    return spread((3, 2, 7, 6), seed=6)


def _spaced(shape, seed=0):
    """Values 0.1 apart in shuffled order: no ties, no near-ties for a gradient check."""
    return distinct(shape, seed=seed) * 0.1


def _dout(shape):
    return spread(shape, seed=7)


def _pool(kind, x, ph, pw, stride, pad):
    return expected.value(f"{kind}_pool_forward", x, ph, pw, stride, pad)


def _line(label, error, target):
    print(f"{label}: error {error:.1e} (should be {target})")
    return error


# --- notebook 1 ---------------------------------------------------------------------------------


def check_padding_never_wins(max_forward, avg_forward):
    """All-negative 4x4 input, 3x3 window, stride 2, pad 1: no zero may appear; both poolings checked."""
    x, param = _negative(), pool_param(3, 3, 2, 1)
    out, _ = max_forward(x, param)
    print(out[0, 0])
    print("any zero in the max-pooled output? (should be False):", bool(np.any(out == 0)))
    _line("max pooling", rel_error(out, _pool("max", x, 3, 3, 2, 1)), "0")
    out_avg, _ = avg_forward(x, param)
    _line("average pooling (padded zeros count)", rel_error(out_avg, _pool("avg", x, 3, 3, 2, 1)), "around 1e-16 or 0")


def check_rectangular_windows(max_forward, avg_forward):
    """(2, 3) windows on a (2, 3, 5, 7) input, strides 1 and 2."""
    for shape, ph, pw, stride in RECT_CASES:
        x, param = distinct(shape), pool_param(ph, pw, stride)
        out_max, out_avg = max_forward(x, param)[0], avg_forward(x, param)[0]
        wanted = _pool("max", x, ph, pw, stride, 0)
        print(f"stride {stride}: output shape {out_max.shape} (expected {wanted.shape})")
        _line("  max", rel_error(out_max, wanted), "0")
        _line("  average", rel_error(out_avg, _pool("avg", x, ph, pw, stride, 0)), "around 1e-16")


def check_float32_forward(max_forward, avg_forward):
    """A float32 batch (4, 3, 9, 8), (3, 2) window, stride 2, pad 1: float32 out, right values."""
    x, param = _float32_batch(), pool_param(3, 2, 2, 1)
    out_max, out_avg = max_forward(x, param)[0], avg_forward(x, param)[0]
    print("dtypes:", out_max.dtype, out_avg.dtype, "(should be float32 float32)")
    _line("max", rel_error(out_max, _pool("max", x, 3, 2, 2, 1)), "0")
    _line("average", rel_error(out_avg, _pool("avg", x, 3, 2, 2, 1)), "below 1e-6 in float32")


def check_output_size(output_size):
    """output_size(size, kernel, stride, pad, ceil_mode) on every case of a grid; returns the mismatches."""
    table = expected.value("output_sizes")
    wrong = [
        tuple(int(v) for v in row)
        for row in table
        if output_size(int(row[0]), int(row[1]), int(row[2]), int(row[3]), bool(row[4])) != row[5]
    ]
    print(
        f"disagreements over {len(table)} cases (should be []), as (size, kernel, stride, pad, ceil, "
        f"expected): {wrong[:5]}"
    )
    return wrong


# --- notebook 2 ---------------------------------------------------------------------------------


def check_index_arrays(index_arrays):
    """Gather a (3, 2, 7, 6) input with your (k, i, j), 3x2 window, pad 1, stride 2; compare the columns."""
    x, fh, fw, pad, stride = _index_input(), 3, 2, 1, 2
    k, i, j = index_arrays(2, 7, 6, fh, fw, pad, stride)
    x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    gathered = x_padded[:, k, i, j]  # (N, C*fh*fw, H'*W')
    cols = gathered.transpose(1, 2, 0).reshape(2 * fh * fw, -1)  # (C*fh*fw, H'*W'*N)
    print("cols shape:", cols.shape)
    _line("gathered columns", rel_error(cols, expected.value("im2col", x, fh, fw, pad, stride)), "0")


def check_im2col(im2col_indices):
    """Square and rectangular windows, padding and stride."""
    for shape, fh, fw, pad, stride in IM2COL_CASES:
        x = spread(shape)
        mine = im2col_indices(x, fh, fw, padding=pad, stride=stride)
        _line(
            f"x{shape} window {fh}x{fw} pad {pad} stride {stride}: shape {mine.shape}",
            rel_error(mine, expected.value("im2col", x, fh, fw, pad, stride)),
            "0",
        )


def check_col2im(im2col_indices, col2im_indices):
    """The adjoint identity <im2col(x), y> = <x, col2im(y)>, and col2im against the expected image."""
    for shape, fh, fw, pad, stride in IM2COL_CASES:
        x = spread(shape)
        y = spread(expected.value("im2col", np.zeros(shape), fh, fw, pad, stride).shape, seed=1)
        lhs = np.sum(im2col_indices(x, fh, fw, padding=pad, stride=stride) * y)
        mine = col2im_indices(y, shape, fh, fw, padding=pad, stride=stride)
        gap = abs(lhs - np.sum(x * mine)) / abs(lhs)
        error = rel_error(mine, expected.value("col2im", y, *shape, fh, fw, pad, stride))
        print(
            f"x{shape} {fh}x{fw} pad {pad} stride {stride}: adjoint gap {gap:.1e} (should be around 1e-15), "
            f"error {error:.1e} (should be around 1e-16 or 0)"
        )


def reference_timings():
    """{label: ms per call} of the course library's im2col, measured when this folder was made (not here)."""
    return {"course library (staff machine)": list(expected.value("im2col_reference_ms", TIMING_SIZES, TIMING_REPEATS))}


# --- notebook 3 ---------------------------------------------------------------------------------


def check_max_pool_backward(max_forward, max_backward):
    """Overlapping windows (3x3, stride 2, pad 1) on a (2, 3, 7, 7) input: dx against the expected one."""
    x = _spaced((2, 3, 7, 7))
    out, cache = max_forward(x, pool_param(3, 3, 2, 1))
    dout = _dout(out.shape)
    _line(
        "dx",
        rel_error(max_backward(dout, cache), expected.value("max_pool_backward", x, 3, 3, 2, 1, dout)),
        "0 or around 1e-16",
    )


def check_maxpool_layer(Layer):
    """Layer(2) on (2, 3, 8, 8), then forward and backward for several (size, stride, padding)."""
    x = _spaced((2, 3, 8, 8))
    pool = Layer(2)
    out = pool.forward(x)
    print("output shape:", out.shape, "(should be (2, 3, 4, 4): the stride defaults to 2)")
    _line("forward", rel_error(out, _pool("max", x, 2, 2, 2, 0)), "0")
    print("argmax rows kept for backward:", getattr(pool, "max_idx", np.array([])).shape, "(should be (96,))")
    for size, stride, padding in LAYER_CASES:
        x = _spaced((2, 2, 7, 6), seed=size + stride)
        pool = Layer(size, stride, padding)
        out = pool.forward(x)
        dout = _dout(out.shape)
        wanted = expected.value("max_pool_backward", x, size, size, stride, padding, dout)
        print(
            f"size {size} stride {stride} pad {padding}: forward error "
            f"{rel_error(out, _pool('max', x, size, size, stride, padding)):.1e}, "
            f"backward error {rel_error(pool.backward(dout), wanted):.1e} (both should be 0)"
        )


def check_second_forward(Layer):
    """backward after two forward calls must belong to the second one."""
    pool = Layer(2)
    x1, x2 = _spaced((1, 2, 4, 4), seed=1), _spaced((1, 2, 4, 4), seed=2)
    pool.forward(x1)
    pool.forward(x2)
    dout = _dout((1, 2, 2, 2))
    _line(
        "backward after a second forward",
        rel_error(pool.backward(dout), expected.value("max_pool_backward", x2, 2, 2, 2, 0, dout)),
        "0",
    )


# --- notebook 4 ---------------------------------------------------------------------------------


def check_avg_pool_backward(avg_forward, avg_backward):
    """(3, 2) window, stride 1, pad 1 on a (2, 3, 7, 6) input: forward and dx against the expected ones."""
    x = spread((2, 3, 7, 6), seed=4)
    out, cache = avg_forward(x, pool_param(3, 2, 1, 1))
    dout = _dout(out.shape)
    _line("forward", rel_error(out, _pool("avg", x, 3, 2, 1, 1)), "around 1e-16")
    _line(
        "backward",
        rel_error(avg_backward(dout, cache), expected.value("avg_pool_backward", x, 3, 2, 1, 1, dout)),
        "around 1e-16",
    )


def ceil_mode_table():
    """Print PyTorch-style average pooling of 1..16 (4x4), 3x3, stride 2, pad 1, in every option combination.

    The outputs were computed by the course's reference library when this folder was made."""
    x = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
    for ceil, include in CEIL_OPTIONS:
        out = expected.value("avg_pool_options", x, 3, 2, 1, ceil, include)
        print(f"ceil_mode={ceil!s:5} count_include_pad={include!s:5} -> shape {out.shape[2:]}:\n{out[0, 0]}")


def check_avg_pool_as_conv(avg_pool_as_conv):
    """avg_pool_as_conv(x, k, stride, pad) against average pooling on a (2, 3, 8, 8) input."""
    x = spread((2, 3, 8, 8), seed=8)
    for k, stride, pad in CONV_CASES:
        _line(
            f"k={k} stride={stride} pad={pad}",
            rel_error(avg_pool_as_conv(x, k, stride, pad), _pool("avg", x, k, k, stride, pad)),
            "around 1e-14 or smaller",
        )


def check_max_pool_via_relu(max_pool_via_relu):
    """max_pool_via_relu(x, k, stride) -> (out, levels) against max pooling on a (2, 3, 9, 9) input."""
    x = spread((2, 3, 9, 9), seed=9)
    for k, stride in RELU_CASES:
        out, levels = max_pool_via_relu(x, k, stride)
        _line(
            f"{k}x{k}, stride {stride}: {levels} ReLU levels",
            rel_error(out, _pool("max", x, k, k, stride, 0)),
            "around 1e-16",
        )


# --- what the checks look up --------------------------------------------------------------------


def expected_calls():
    """Every (op, *args) whose stored value the checks above read."""
    calls = [
        ("max_pool_forward", _negative(), 3, 3, 2, 1),
        ("avg_pool_forward", _negative(), 3, 3, 2, 1),
        ("output_sizes",),
        ("im2col", _index_input(), 3, 2, 1, 2),
        ("im2col_reference_ms", TIMING_SIZES, TIMING_REPEATS),
    ]
    for shape, ph, pw, stride in RECT_CASES:
        calls += [(f"{kind}_pool_forward", distinct(shape), ph, pw, stride, 0) for kind in ("max", "avg")]
    calls += [(f"{kind}_pool_forward", _float32_batch(), 3, 2, 2, 1) for kind in ("max", "avg")]
    for shape, fh, fw, pad, stride in IM2COL_CASES:
        y_shape = (
            shape[1] * fh * fw,
            shape[0] * ((shape[2] + 2 * pad - fh) // stride + 1) * ((shape[3] + 2 * pad - fw) // stride + 1),
        )
        calls += [
            ("im2col", spread(shape), fh, fw, pad, stride),
            ("im2col", np.zeros(shape), fh, fw, pad, stride),
            ("col2im", spread(y_shape, seed=1), *shape, fh, fw, pad, stride),
        ]
    x = _spaced((2, 3, 7, 7))
    calls.append(("max_pool_backward", x, 3, 3, 2, 1, _dout((2, 3, 4, 4))))
    calls.append(("max_pool_forward", _spaced((2, 3, 8, 8)), 2, 2, 2, 0))
    for size, stride, padding in LAYER_CASES:
        x = _spaced((2, 2, 7, 6), seed=size + stride)
        out_shape = (2, 2, (7 + 2 * padding - size) // stride + 1, (6 + 2 * padding - size) // stride + 1)
        calls += [
            ("max_pool_forward", x, size, size, stride, padding),
            ("max_pool_backward", x, size, size, stride, padding, _dout(out_shape)),
        ]
    calls.append(("max_pool_backward", _spaced((1, 2, 4, 4), seed=2), 2, 2, 2, 0, _dout((1, 2, 2, 2))))
    x = spread((2, 3, 7, 6), seed=4)
    calls += [("avg_pool_forward", x, 3, 2, 1, 1), ("avg_pool_backward", x, 3, 2, 1, 1, _dout((2, 3, 7, 7)))]
    ceil_x = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
    calls += [("avg_pool_options", ceil_x, 3, 2, 1, ceil, include) for ceil, include in CEIL_OPTIONS]
    x = spread((2, 3, 8, 8), seed=8)
    calls += [("avg_pool_forward", x, k, k, stride, pad) for k, stride, pad in CONV_CASES]
    x = spread((2, 3, 9, 9), seed=9)
    calls += [("max_pool_forward", x, k, k, stride, 0) for k, stride in RELU_CASES]
    return calls
