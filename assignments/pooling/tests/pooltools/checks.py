"""Assertions and checks shared by the graded tests (public and hidden).

A check calls the student's code through a session ``s`` (``s.call(name, ...)``,
``s.call_method(handle, name, ...)``, ``s.getattr(handle, name)``), which runs it in a separate
process, and compares the result with the expected value of the same call (expected.py). A
failed check raises AssertionError; its message starts with what was called (the test's
description, the function, x.shape and the pool_param), then says what differs: the type,
the shape, the dtype or the values.

Upstream gradients (and col2im's columns) are passed as ``draw_*`` callables,
``shape -> ndarray``, because their shape is that of an expected output. A check calls its
draw once, after looking up the expected output and before the student's code runs.
"""
import numpy as np

from . import expected
from .inputs import pool_param

# float64 expected values: a correct solution agrees to rounding error.
RTOL, ATOL = 1e-7, 1e-12


def assert_array(actual, wanted, what):
    """actual is an ndarray with wanted's shape and dtype, and values within RTOL/ATOL (NaN matches NaN)."""
    if not isinstance(actual, np.ndarray):
        raise AssertionError(f"{what}: expected a numpy array, got {type(actual).__name__}")
    if actual.shape != wanted.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {wanted.shape}")
    if actual.dtype != wanted.dtype:
        raise AssertionError(f"{what}: dtype {actual.dtype}, expected {wanted.dtype}")
    np.testing.assert_allclose(actual, wanted, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


def assert_float32(value, what):
    """value is a float32 ndarray (the result of a float32 input keeps the input's dtype)."""
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"{what}: expected a numpy array, got {type(value).__name__}")
    if value.dtype != np.float32:
        raise AssertionError(f"{what}: float32 input gave dtype {value.dtype}; keep the input's dtype")


def _param_args(param):
    return param["pool_height"], param["pool_width"], param["stride"], param.get("pad", 0)


def check_pool_forward(s, kind, x, param, what):
    """The submission's {kind}_pool_forward_naive(x, param) output is the expected one (kind: max|avg)."""
    wanted = expected.value(f"{kind}_pool_forward", x, *_param_args(param))
    out, _ = s.call(f"{kind}_pool_forward_naive", x, param)
    assert_array(out, wanted, f"{what}: {kind}_pool_forward_naive, x.shape={x.shape}, {param}")


def check_pool_backward(s, kind, x, param, what, draw_dout):
    """dx of the submission's {kind}_pool_backward_naive, given the cache of its own forward, is expected.

    dout = draw_dout(output shape).
    """
    dout = draw_dout(expected.value(f"{kind}_pool_forward", x, *_param_args(param)).shape)
    wanted = expected.value(f"{kind}_pool_backward", x, *_param_args(param), dout)
    _, cache = s.call(f"{kind}_pool_forward_naive", x, param)
    dx = s.call(f"{kind}_pool_backward_naive", dout, cache)
    assert_array(dx, wanted, f"{what}: dx of {kind}_pool_backward_naive, x.shape={x.shape}, {param}")


def check_im2col(s, x, fh, fw, padding, stride):
    """The submission's im2col_indices(x, fh, fw, padding, stride) is the expected column matrix."""
    wanted = expected.value("im2col", x, fh, fw, padding, stride)
    cols = s.call("im2col_indices", x, fh, fw, padding=padding, stride=stride)
    assert_array(cols, wanted, f"im2col_indices(x of shape {x.shape}, {fh}, {fw}, padding={padding}, stride={stride})")


def check_col2im(s, x_shape, fh, fw, padding, stride, draw_cols):
    """The submission's col2im_indices of cols = draw_cols(im2col's output shape) is the expected image."""
    cols = draw_cols(expected.value("im2col", np.zeros(x_shape), fh, fw, padding, stride).shape)
    wanted = expected.value("col2im", cols, *x_shape, fh, fw, padding, stride)
    x = s.call("col2im_indices", cols, x_shape, fh, fw, padding=padding, stride=stride)
    assert_array(x, wanted, f"col2im_indices(cols, {x_shape}, {fh}, {fw}, padding={padding}, stride={stride})")


def check_maxpool_layer(s, x, size, stride, padding, what, draw_dout, layer=None):
    """layer.forward(x), then layer.backward(dout), equal max pooling with a size x size window.

    `layer` is a handle to the submission's Maxpool, created as Maxpool(size, stride=stride,
    padding=padding) when None; stride and padding are the values it should be using.
    dout = draw_dout(output shape).
    """
    if layer is None:
        layer = s.call("Maxpool", size, stride=stride, padding=padding)
    args = _param_args(pool_param(size, size, stride, padding))
    out = expected.value("max_pool_forward", x, *args)
    dout = draw_dout(out.shape)
    dx = expected.value("max_pool_backward", x, *args, dout)
    what = f"{what}, x.shape={x.shape}"
    assert_array(s.call_method(layer, "forward", x), out, f"{what}: Maxpool.forward")
    assert_array(s.call_method(layer, "backward", dout), dx, f"{what}: Maxpool.backward")
