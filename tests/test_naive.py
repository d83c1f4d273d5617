"""The naive loops: the always-available oracle for the fast paths (no torch needed).

The fast functional paths and layers must match the loops on every floor-mode,
undilated configuration, and the loops' backward must pass a finite-difference check.
"""

import itertools

import numpy as np
import pytest
from helpers import METHODS, distinct_values, normal_values

from cs231n_pool import functional as fn
from cs231n_pool import layers, naive
from cs231n_pool.geometry import as_pair
from cs231n_pool.gradient_check import eval_numerical_gradient_array, rel_error

pytestmark = pytest.mark.usefixtures("single_thread_direct")


def _padding_fits(kernel, pad):
    return all(p <= k // 2 for k, p in zip(as_pair(kernel, "k"), as_pair(pad, "p"), strict=True))


CONFIGS = [
    (k, s, p)
    for k, s, p in itertools.product([2, 3, (3, 2), (1, 3)], [1, 2, (2, 1), (1, 3)], [0, 1, (1, 0)])
    if _padding_fits(k, p)
]


TOL = {np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6), np.dtype(np.float64): dict(rtol=1e-12, atol=1e-14)}


def pool_param(kernel, stride, pad):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return dict(pool_height=kh, pool_width=kw, stride=stride, pad=pad)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype,batched", [(np.float64, True), (np.float32, False)])
@pytest.mark.parametrize("kernel,stride,pad", CONFIGS)
def test_fast_max_pool_matches_naive(kernel, stride, pad, dtype, batched, method):
    x = distinct_values((2, 3, 7, 8), dtype, seed=2)
    x = x if batched else x[0]
    out, cache = naive.max_pool_forward_naive(x, pool_param(kernel, stride, pad))
    dout = normal_values(out.shape, dtype, seed=3)
    dx = naive.max_pool_backward_naive(dout, cache)
    tol = TOL[np.dtype(dtype)]  # overlapping windows sum their gradients in a different order
    fast, idx = fn.max_pool2d(x, kernel, stride, pad, return_indices=True, method=method)
    np.testing.assert_array_equal(fast, out)
    np.testing.assert_array_equal(idx, cache.indices.reshape(idx.shape))
    np.testing.assert_allclose(fn.max_pool2d_backward(dout, idx, x.shape, method=method), dx, **tol)
    layer = layers.Maxpool(kernel, stride, pad, method=method)
    np.testing.assert_array_equal(layer.forward(x), out)
    np.testing.assert_allclose(layer.backward(dout), dx, **tol)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype,batched", [(np.float64, True), (np.float32, False)])
@pytest.mark.parametrize("kernel,stride,pad", CONFIGS)
def test_fast_avg_pool_matches_naive(kernel, stride, pad, dtype, batched, method):
    x = normal_values((2, 3, 7, 8), dtype, seed=4)
    x = x if batched else x[0]
    out, cache = naive.avg_pool_forward_naive(x, pool_param(kernel, stride, pad))
    dout = normal_values(out.shape, dtype, seed=5)
    dx = naive.avg_pool_backward_naive(dout, cache)
    tol = TOL[np.dtype(dtype)]
    np.testing.assert_allclose(fn.avg_pool2d(x, kernel, stride, pad, method=method), out, **tol)
    np.testing.assert_allclose(fn.avg_pool2d_backward(dout, x.shape, kernel, stride, pad, method=method), dx, **tol)
    layer = layers.Avgpool(kernel, stride, pad, method=method)
    np.testing.assert_allclose(layer.forward(x), out, **tol)
    np.testing.assert_allclose(layer.backward(dout), dx, **tol)


@pytest.mark.parametrize(
    "forward,backward",
    [
        (naive.max_pool_forward_naive, naive.max_pool_backward_naive),
        (naive.avg_pool_forward_naive, naive.avg_pool_backward_naive),
    ],
)
@pytest.mark.parametrize("kernel,stride,pad", [(2, 2, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 1))])
def test_naive_backward_passes_finite_differences(forward, backward, kernel, stride, pad):
    # values spaced 2/N apart, far more than the step h: no argmax changes inside +-h
    x = distinct_values((2, 2, 6, 5), np.float64, seed=6)
    param = pool_param(kernel, stride, pad)
    out, cache = forward(x, param)
    dout = normal_values(out.shape, np.float64, seed=7)
    numeric = eval_numerical_gradient_array(lambda v: forward(v, param)[0], x, dout)
    assert rel_error(backward(dout, cache), numeric) < 1e-8


def test_cache_is_a_named_tuple_with_named_fields():
    x = distinct_values((1, 2, 4, 4), np.float32)
    out, cache = naive.max_pool_forward_naive(x, dict(pool_height=2, pool_width=2, stride=2))
    assert cache.x_shape == (1, 2, 4, 4) and cache.dtype == np.float32 and cache.batched
    assert cache.indices.dtype == np.int64 and cache.indices.shape == out.shape
    assert (cache.geom.out_h, cache.geom.out_w, cache.geom.pad_top) == (2, 2, 0)  # pad defaults to 0
    _, avg_cache = naive.avg_pool_forward_naive(x, dict(pool_height=2, pool_width=2, stride=2))
    assert avg_cache._fields == ("x_shape", "batched", "dtype", "geom")


def test_naive_floor_mode_drops_the_ragged_tail():
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5)
    out, _ = naive.max_pool_forward_naive(x, dict(pool_height=2, pool_width=2, stride=2))
    np.testing.assert_array_equal(out, [[[[6, 8], [16, 18]]]])
    out, _ = naive.avg_pool_forward_naive(x, dict(pool_height=2, pool_width=2, stride=2))
    np.testing.assert_array_equal(out, [[[[3, 5], [13, 15]]]])


def test_naive_does_not_modify_its_input():
    x = distinct_values((2, 2, 4, 4), np.float64)
    kept = x.copy()
    for forward in (naive.max_pool_forward_naive, naive.avg_pool_forward_naive):
        forward(x, dict(pool_height=3, pool_width=3, stride=1, pad=1))
    np.testing.assert_array_equal(x, kept)
