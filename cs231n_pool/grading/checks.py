"""Assertion helpers and input makers shared by the pooling assignment's graded tests.

The public tests (shipped to students in the released bundle) and the hidden ones both import
this module, so every rule is checked, and every failure explained, the same way. Expected
values come from the library's references, computed in the grading process:
cs231n_pool.naive for the pooling functions and the Maxpool layer, cs231n_pool.im2col for
im2col_indices / col2im_indices. Only the student's code runs in the sandbox, through
``s.call`` / ``s.call_method`` on a ``submission.session()``.

A failed check raises AssertionError. Its message starts with what was called (the test's
description, the function, x.shape and the pool_param), then says what differs: the type,
the shape, the dtype or the values (numpy's report of the mismatched elements).

Upstream gradients (and col2im's columns) are passed as ``draw_*`` callables,
``shape -> ndarray``, because the shape comes from the reference. A check calls its draw
once, after the reference and before the submission runs, so a test drawing from the
``rng`` fixture draws in the order its own lines read.
"""
import numpy as np

from ..im2col import col2im_indices, im2col_indices
from ..naive import avg_pool_backward_naive, avg_pool_forward_naive, max_pool_backward_naive, max_pool_forward_naive

# float64 references: a correct solution agrees to rounding error.
RTOL, ATOL = 1e-7, 1e-12
REFERENCES = {"max": (max_pool_forward_naive, max_pool_backward_naive),
              "avg": (avg_pool_forward_naive, avg_pool_backward_naive)}


# --- assertions ---------------------------------------------------------------------------------

def assert_array(actual, expected, what):
    """actual is an ndarray with expected's shape and dtype, and values within RTOL/ATOL.

    NaN matches NaN (a max window holding NaN outputs NaN). `what` starts every message.
    """
    if not isinstance(actual, np.ndarray):
        raise AssertionError(f"{what}: expected a numpy array, got {type(actual).__name__}")
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {expected.shape}")
    if actual.dtype != expected.dtype:
        raise AssertionError(f"{what}: dtype {actual.dtype}, expected {expected.dtype}")
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


def assert_float32(value, what):
    """value is a float32 ndarray (the result of a float32 input keeps the input's dtype)."""
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{what}: expected a numpy array, got {type(value).__name__}")
    if value.dtype != np.float32:
        raise AssertionError(f"{what}: float32 input gave dtype {value.dtype}; keep the input's dtype")


# --- inputs -------------------------------------------------------------------------------------

def pool_param(ph, pw, stride, pad=0):
    """The CS231n pool_param dict: pool_height, pool_width, stride, pad."""
    return {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def distinct(shape, offset=0.0):
    """float64 array of the shuffled values offset + 0, 1, ..., size-1: no ties, 1 apart.

    Deterministic: the shuffle is seeded by sum(shape).
    """
    values = np.random.default_rng(sum(shape)).permutation(int(np.prod(shape)))
    return values.reshape(shape).astype(np.float64) + offset


def normal_values(shape, seed=0):
    """Deterministic float64 standard-normal array, seeded by seed + sum(shape)."""
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def batch(rng, h, w, images=(1, 3)):
    """Shape (N, C, h, w) with N drawn from rng.integers(*images) and C from rng.integers(1, 4)."""
    return (int(rng.integers(*images)), int(rng.integers(1, 4)), h, w)


def positive_dout(rng):
    """A draw_dout: shape -> rng.uniform(0.5, 2.0, shape). No gradient is zero (or near it),
    so one sent to the wrong cell always shows."""
    return lambda shape: rng.uniform(0.5, 2.0, size=shape)


# --- checks against the references --------------------------------------------------------------

def check_pool_forward(s, kind, x, param, what):
    """The submission's {kind}_pool_forward_naive(x, param) output equals the reference (kind: max|avg)."""
    ref_forward, _ = REFERENCES[kind]
    out, _ = s.call(f"{kind}_pool_forward_naive", x, param)
    what = f"{what}: {kind}_pool_forward_naive, x.shape={x.shape}, {param}"
    assert_array(out, ref_forward(x, param)[0], what)


def check_pool_backward(s, kind, x, param, what, draw_dout):
    """dx of the submission's {kind}_pool_backward_naive equals the reference's.

    dout = draw_dout(output shape); the submission's backward gets the cache of its own forward.
    """
    ref_forward, ref_backward = REFERENCES[kind]
    expected_out, ref_cache = ref_forward(x, param)
    dout = draw_dout(expected_out.shape)
    _, cache = s.call(f"{kind}_pool_forward_naive", x, param)
    dx = s.call(f"{kind}_pool_backward_naive", dout, cache)
    what = f"{what}: dx of {kind}_pool_backward_naive, x.shape={x.shape}, {param}"
    assert_array(dx, ref_backward(dout, ref_cache), what)


def check_im2col(s, x, fh, fw, padding, stride):
    """The submission's im2col_indices(x, fh, fw, padding, stride) equals the reference."""
    what = f"im2col_indices(x of shape {x.shape}, {fh}, {fw}, padding={padding}, stride={stride})"
    cols = s.call("im2col_indices", x, fh, fw, padding=padding, stride=stride)
    assert_array(cols, im2col_indices(x, fh, fw, padding=padding, stride=stride), what)


def check_col2im(s, x_shape, fh, fw, padding, stride, draw_cols):
    """The submission's col2im_indices equals the reference on cols = draw_cols(im2col's output shape)."""
    cols = draw_cols(im2col_indices(np.zeros(x_shape), fh, fw, padding=padding, stride=stride).shape)
    what = f"col2im_indices(cols, {x_shape}, {fh}, {fw}, padding={padding}, stride={stride})"
    x = s.call("col2im_indices", cols, x_shape, fh, fw, padding=padding, stride=stride)
    assert_array(x, col2im_indices(cols, x_shape, fh, fw, padding=padding, stride=stride), what)


def check_maxpool_layer(s, x, size, stride, padding, what, draw_dout, layer=None):
    """layer.forward(x) and then layer.backward(dout) equal max pooling with a size x size window.

    `layer` is a handle to the submission's Maxpool, created here as
    Maxpool(size, stride=stride, padding=padding) when None; stride and padding are the
    values it should be using. dout = draw_dout(output shape).
    """
    if layer is None:
        layer = s.call("Maxpool", size, stride=stride, padding=padding)
    out, cache = max_pool_forward_naive(x, pool_param(size, size, stride, padding))
    dout = draw_dout(out.shape)
    what = f"{what}, x.shape={x.shape}"
    assert_array(s.call_method(layer, "forward", x), out, f"{what}: Maxpool.forward")
    dx = s.call_method(layer, "backward", dout)
    assert_array(dx, max_pool_backward_naive(dout, cache), f"{what}: Maxpool.backward")
