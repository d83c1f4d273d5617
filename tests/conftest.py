"""One checker per pooling op: forward, backward and indices against PyTorch and the naive loops.

Each fixture returns a function that runs one configuration through torch (forward,
indices, and backward via autograd with a random dout), through our functional API and
our layer, and, where the naive CS231n loops apply, through those too. A torch config
that torch rejects must be rejected by us as well (ValueError/TypeError).
torch is imported lazily, so tests that do not use these fixtures run without it.
"""

import numpy as np
import pytest
from helpers import METHODS, assert_close, expect_rejected, pool_param, torch_module, torch_run

from cs231n_pool import direct, layers, naive
from cs231n_pool import functional as fn


@pytest.fixture
def single_thread_direct(monkeypatch):
    """Run the direct kernels on one thread: these inputs are tiny, and on a busy 2-core machine
    OpenMP start-up and barriers cost more than the work (tests/test_direct.py covers threads)."""
    monkeypatch.setenv(direct.ENV_THREADS, "1")


@pytest.fixture
def check_max_pool2d(single_thread_direct):
    """check(x, kernel_size, stride, padding, dilation, ceil_mode) against torch, on every kernel
    (functional and layer), and against the naive loops when they apply (floor mode, no dilation)."""

    def check(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        F = torch_module().nn.functional
        args = (kernel_size, stride, padding, dilation, ceil_mode)
        ref = torch_run(lambda t: F.max_pool2d(t, *args, return_indices=True), x)
        for method in METHODS:

            def make_layer(method=method):
                return layers.Maxpool(kernel_size, stride, padding, dilation, ceil_mode, method=method)

            if ref is None:  # the layer may reject the arguments in its constructor or in forward
                expect_rejected(
                    lambda method=method: fn.max_pool2d(x, *args, method=method), lambda: make_layer().forward(x)
                )
                continue
            layer = make_layer()
            out, idx, dx, dout = ref
            got, got_idx = fn.max_pool2d(x, *args, return_indices=True, method=method)
            assert_close(got, out, x.dtype, f"max_pool2d forward ({method})")
            assert got_idx.dtype == np.int64
            np.testing.assert_array_equal(got_idx, idx, err_msg=f"max_pool2d indices ({method})")
            assert_close(
                fn.max_pool2d_backward(dout, got_idx, x.shape, method=method),
                dx,
                x.dtype,
                f"max_pool2d_backward ({method})",
            )
            assert_close(layer.forward(x), out, x.dtype, f"Maxpool.forward ({method})")
            np.testing.assert_array_equal(layer.indices, idx, err_msg=f"Maxpool.indices ({method})")
            assert_close(layer.backward(dout), dx, x.dtype, f"Maxpool.backward ({method})")
        if ref is not None and dilation == 1 and not ceil_mode:
            _check_naive_max(x, kernel_size, stride, padding, *ref)

    return check


def _check_naive_max(x, kernel_size, stride, padding, out, idx, dx, dout):
    got, cache = naive.max_pool_forward_naive(x, pool_param(kernel_size, stride, padding))
    assert_close(got, out, x.dtype, "max_pool_forward_naive")
    np.testing.assert_array_equal(cache.indices.reshape(idx.shape), idx, err_msg="naive indices")
    assert_close(naive.max_pool_backward_naive(dout, cache), dx, x.dtype, "max_pool_backward_naive")


@pytest.fixture
def check_avg_pool2d(single_thread_direct):
    """check(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override) against torch
    on every kernel (functional and layer), and against the naive loops when they apply."""

    def check(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        F = torch_module().nn.functional
        args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        ref = torch_run(lambda t: F.avg_pool2d(t, *args), x)
        for method in METHODS:

            def make_layer(method=method):
                return layers.Avgpool(*args, method=method)

            if ref is None:  # the layer may reject the arguments in its constructor or in forward
                expect_rejected(
                    lambda method=method: fn.avg_pool2d(x, *args, method=method), lambda: make_layer().forward(x)
                )
                continue
            layer = make_layer()
            out, _, dx, dout = ref
            assert_close(fn.avg_pool2d(x, *args, method=method), out, x.dtype, f"avg_pool2d forward ({method})")
            assert_close(
                fn.avg_pool2d_backward(dout, x.shape, *args, method=method),
                dx,
                x.dtype,
                f"avg_pool2d_backward ({method})",
            )
            assert_close(layer.forward(x), out, x.dtype, f"Avgpool.forward ({method})")
            assert_close(layer.backward(dout), dx, x.dtype, f"Avgpool.backward ({method})")
        if ref is not None and not ceil_mode and count_include_pad and divisor_override is None:
            out, _, dx, dout = ref
            got, cache = naive.avg_pool_forward_naive(x, pool_param(kernel_size, stride, padding))
            assert_close(got, out, x.dtype, "avg_pool_forward_naive")
            assert_close(naive.avg_pool_backward_naive(dout, cache), dx, x.dtype, "avg_pool_backward_naive")

    return check


@pytest.fixture
def check_max_unpool2d():
    """check(x, kernel_size, stride, padding, output_size): round trip through max_pool2d's indices."""

    def check(x, kernel_size, stride=None, padding=0, output_size=None):
        torch = torch_module()
        F = torch.nn.functional
        pooled, idx = fn.max_pool2d(x, kernel_size, stride, padding, return_indices=True)
        args = (kernel_size, stride, padding, output_size)
        idx_t = torch.tensor(idx)
        ref = torch_run(lambda t: F.max_unpool2d(t, idx_t, *args), pooled)
        if ref is None:  # the layer may reject the arguments in its constructor or in forward
            expect_rejected(
                lambda: fn.max_unpool2d(pooled, idx, *args),
                lambda: layers.MaxUnpool(kernel_size, stride, padding).forward(pooled, idx, output_size),
            )
            return
        layer = layers.MaxUnpool(kernel_size, stride, padding)
        out, _, dx, dout = ref
        assert_close(fn.max_unpool2d(pooled, idx, *args), out, x.dtype, "max_unpool2d forward")
        assert_close(fn.max_unpool2d_backward(dout, idx), dx, x.dtype, "max_unpool2d_backward")
        assert_close(layer.forward(pooled, idx, output_size), out, x.dtype, "MaxUnpool.forward")
        assert_close(layer.backward(dout), dx, x.dtype, "MaxUnpool.backward")

    return check


@pytest.fixture
def check_adaptive_max_pool2d():
    """check(x, output_size): adaptive (or, with output_size=None, global) max pooling."""

    def check(x, output_size):
        F = torch_module().nn.functional
        if output_size is None:
            ref = torch_run(lambda t: F.adaptive_max_pool2d(t, 1, return_indices=True), x)
            got, got_idx = fn.global_max_pool2d(x, return_indices=True)
            layer, backward = layers.GlobalMaxpool(), fn.global_max_pool2d_backward
        else:
            ref = torch_run(lambda t: F.adaptive_max_pool2d(t, output_size, return_indices=True), x)
            got, got_idx = fn.adaptive_max_pool2d(x, output_size, return_indices=True)
            layer, backward = layers.AdaptiveMaxpool(output_size), fn.adaptive_max_pool2d_backward
        out, idx, dx, dout = ref
        assert_close(got, out, x.dtype, "adaptive max forward")
        np.testing.assert_array_equal(got_idx, idx, err_msg="adaptive max indices")
        assert_close(backward(dout, got_idx, x.shape), dx, x.dtype, "adaptive max backward")
        assert_close(layer.forward(x), out, x.dtype, "AdaptiveMaxpool.forward")
        np.testing.assert_array_equal(layer.indices, idx, err_msg="AdaptiveMaxpool.indices")
        assert_close(layer.backward(dout), dx, x.dtype, "AdaptiveMaxpool.backward")

    return check


@pytest.fixture
def check_adaptive_avg_pool2d():
    """check(x, output_size): adaptive (or, with output_size=None, global) average pooling."""

    def check(x, output_size):
        F = torch_module().nn.functional
        ref = torch_run(lambda t: F.adaptive_avg_pool2d(t, 1 if output_size is None else output_size), x)
        out, _, dx, dout = ref
        if output_size is None:
            got, dgot = fn.global_avg_pool2d(x), fn.global_avg_pool2d_backward(dout, x.shape)
            layer = layers.GlobalAvgpool()
        else:
            got = fn.adaptive_avg_pool2d(x, output_size)
            dgot = fn.adaptive_avg_pool2d_backward(dout, x.shape, output_size)
            layer = layers.AdaptiveAvgpool(output_size)
        assert_close(got, out, x.dtype, "adaptive avg forward")
        assert_close(dgot, dx, x.dtype, "adaptive avg backward")
        assert_close(layer.forward(x), out, x.dtype, "AdaptiveAvgpool.forward")
        assert_close(layer.backward(dout), dx, x.dtype, "AdaptiveAvgpool.backward")

    return check
