"""Exact values and exact gradients: ties, NaN, -inf, worked examples and known public bugs.

Every max-pooling path (functional and layer on each kernel, and the naive loops) must give
the same numbers here; these tests need no torch.
"""

import numpy as np
import pytest
from helpers import METHODS

from cs231n_pool import functional as fn
from cs231n_pool import layers, naive
from cs231n_pool.geometry import pool_geometry

pytestmark = pytest.mark.usefixtures("single_thread_direct")

MAX_PATHS = [f"{api}-{m}" for api in ("functional", "layer") for m in METHODS] + ["naive"]


def run_max(path, x, kernel, stride=None, padding=0, dout=None, ceil_mode=False):
    """(out, indices, dx) of max pooling through one path; dout defaults to ones."""
    x = np.asarray(x, dtype=np.float64)
    if path == "naive":
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        out, cache = naive.max_pool_forward_naive(
            x, dict(pool_height=kh, pool_width=kw, stride=kernel if stride is None else stride, pad=padding)
        )
        idx = cache.indices.reshape(out.shape)

        def backward(d):
            return naive.max_pool_backward_naive(d, cache)
    elif path.startswith("layer"):
        layer = layers.Maxpool(kernel, stride, padding, ceil_mode=ceil_mode, method=path.split("-")[1])
        out = layer.forward(x)
        idx, backward = layer.indices, layer.backward
    else:
        method = path.split("-")[1]
        out, idx = fn.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode, return_indices=True, method=method)

        def backward(d):
            return fn.max_pool2d_backward(d, idx, x.shape, method=method)

    return out, idx, backward(np.ones_like(out) if dout is None else dout)


def plane(values):
    """A (1, 1, H, W) float64 array from a nested list."""
    return np.array(values, dtype=np.float64)[None, None]


# ----------------------------------------------------------------------------- ties, NaN, -inf


@pytest.mark.parametrize("path", MAX_PATHS)
def test_tie_goes_to_first_max_in_row_major_order(path):
    x = plane([[1.0, 7.0, 7.0], [7.0, 2.0, 7.0], [0.0, 7.0, 3.0]])
    out, idx, dx = run_max(path, x, 2, stride=1)
    np.testing.assert_array_equal(out, plane([[7, 7], [7, 7]]))
    np.testing.assert_array_equal(idx, [[[[1, 1], [3, 5]]]])
    np.testing.assert_array_equal(dx, plane([[0, 2, 0], [1, 0, 1], [0, 0, 0]]))


@pytest.mark.parametrize("path", MAX_PATHS)
def test_all_equal_window_gives_whole_gradient_to_first_cell(path):
    out, idx, dx = run_max(path, np.full((1, 1, 2, 2), 3.0), 2, dout=plane([[5.0]]))
    np.testing.assert_array_equal(idx, [[[[0]]]])
    np.testing.assert_array_equal(dx, plane([[5, 0], [0, 0]]))  # not split 1.25 four ways


@pytest.mark.parametrize("path", MAX_PATHS)
def test_nan_propagates_with_index_of_last_nan(path):
    nan = np.nan
    x = plane([[1.0, nan, 9.0, 2.0], [3.0, nan, 4.0, 5.0]])
    out, idx, dx = run_max(path, x, 2, dout=plane([[10.0, 20.0]]))
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 0, 1] == 9.0
    np.testing.assert_array_equal(idx, [[[[5, 2]]]])
    np.testing.assert_array_equal(dx, plane([[0, 0, 20, 0], [0, 10, 0, 0]]))
    assert not np.isnan(dx).any()


@pytest.mark.parametrize("path", MAX_PATHS)
def test_all_nan_window_index_is_its_last_cell(path):
    out, idx, dx = run_max(path, np.full((1, 1, 2, 2), np.nan), 2)
    assert np.isnan(out).all()
    np.testing.assert_array_equal(idx, [[[[3]]]])
    np.testing.assert_array_equal(dx, plane([[0, 0], [0, 1]]))


@pytest.mark.parametrize("path", MAX_PATHS)
def test_all_minus_inf_window_picks_first_in_bounds_cell(path):
    out, idx, dx = run_max(path, np.full((1, 1, 3, 3), -np.inf), 3, stride=2, padding=1)
    assert np.isneginf(out).all()
    np.testing.assert_array_equal(idx, [[[[0, 1], [3, 4]]]])  # never -1, never a padded cell
    np.testing.assert_array_equal(dx, plane([[1, 1, 0], [1, 1, 0], [0, 0, 0]]))


@pytest.mark.parametrize("path", MAX_PATHS)
def test_all_negative_window_at_border_is_never_zero(path):
    x = -np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
    out, idx, dx = run_max(path, x, 3, stride=2, padding=1)
    np.testing.assert_array_equal(out, plane([[-1, -2], [-5, -6]]))  # zero padding would give 0s
    np.testing.assert_array_equal(idx, [[[[0, 1], [4, 5]]]])
    np.testing.assert_array_equal(dx.ravel()[[0, 1, 4, 5]], [1, 1, 1, 1])
    assert dx.sum() == 4


def test_adaptive_and_global_max_follow_the_same_tie_and_nan_rules():
    x = plane([[2.0, 5.0, 5.0], [np.nan, 1.0, np.nan]])
    out, idx = fn.adaptive_max_pool2d(x, (1, 2), return_indices=True)  # bins cols [0, 2) and [1, 3)
    assert np.isnan(out).all()
    np.testing.assert_array_equal(idx, [[[[3, 5]]]])
    out, idx = fn.global_max_pool2d(plane([[2.0, 5.0, 5.0], [-1.0, 1.0, 5.0]]), return_indices=True)
    np.testing.assert_array_equal(idx, [[[[1]]]])
    layer = layers.GlobalMaxpool()
    layer.forward(np.full((1, 1, 2, 2), -np.inf))
    np.testing.assert_array_equal(layer.indices, [[[[0]]]])
    np.testing.assert_array_equal(layer.backward(plane([[4.0]])), plane([[4, 0], [0, 0]]))


# ----------------------------------------------------------------------------- worked examples of docs/semantics.md


@pytest.mark.parametrize(
    "shape,kernel,stride,padding,expected",
    [
        ((32, 32), 1, 2, 0, (16, 16)),
        ((5, 5), 3, 3, 1, (2, 2)),
        ((6, 7), 1, 2, 0, (3, 4)),
    ],
)
def test_ceil_mode_output_sizes(shape, kernel, stride, padding, expected):
    x = np.ones((1, 1) + shape)
    for method in METHODS:
        assert fn.max_pool2d(x, kernel, stride, padding, ceil_mode=True, method=method).shape[2:] == expected
        assert fn.avg_pool2d(x, kernel, stride, padding, ceil_mode=True, method=method).shape[2:] == expected


X16 = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "count_include_pad,expected",
    [
        (True, [[14 / 9, 30 / 9, 12 / 6], [57 / 9, 99 / 9, 36 / 6], [27 / 6, 45 / 6, 16 / 4]]),
        (False, [[14 / 4, 30 / 6, 12 / 2], [57 / 6, 99 / 9, 36 / 3], [27 / 2, 45 / 3, 16 / 1]]),
    ],
)
def test_ceil_mode_avg_divisor_counts_declared_padding_not_overhang(method, count_include_pad, expected):
    out = fn.avg_pool2d(X16, 3, 2, 1, ceil_mode=True, count_include_pad=count_include_pad, method=method)
    np.testing.assert_allclose(out[0, 0], expected, rtol=1e-15)
    layer = layers.Avgpool(3, 2, 1, ceil_mode=True, count_include_pad=count_include_pad, method=method)
    np.testing.assert_allclose(layer.forward(X16)[0, 0], expected, rtol=1e-15)
    # backward: each window gives 1/divisor to each of its in-bounds cells
    in_bounds = np.array([[4, 6, 2], [6, 9, 3], [2, 3, 1]])
    divisors = np.array([[9, 9, 6], [9, 9, 6], [6, 6, 4]]) if count_include_pad else in_bounds
    dx = layer.backward(np.ones((1, 1, 3, 3)))
    # the bottom-right cell (16) sits in windows (1, 1), (1, 2), (2, 1), (2, 2)
    assert dx[0, 0, 3, 3] == pytest.approx(sum(1 / divisors[i, j] for i in (1, 2) for j in (1, 2)), rel=1e-15)
    assert dx.sum() == pytest.approx((in_bounds / divisors).sum(), rel=1e-14)


@pytest.mark.parametrize("method", METHODS)
def test_same_padding_follows_tensorflow_not_the_seed(method):
    x = np.array([1.0, 2.0, 3.0, 4.0])[None, None, None]
    geom = pool_geometry((1, 4), (1, 3), (1, 2), "same")
    assert (geom.pad_left, geom.pad_right, geom.out_w) == (0, 1, 2)
    np.testing.assert_array_equal(fn.max_pool2d(x, (1, 3), (1, 2), "same", method=method), [[[[3.0, 4.0]]]])
    # padded cells are not counted: the second window is (3 + 4) / 2
    np.testing.assert_array_equal(fn.avg_pool2d(x, (1, 3), (1, 2), "same", method=method), [[[[2.0, 3.5]]]])
    layer = layers.Avgpool((1, 3), (1, 2), "same", method=method)
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 2))), [[[[1 / 3, 1 / 3, 1 / 3 + 1 / 2, 1 / 2]]]])


@pytest.mark.parametrize("method", METHODS)
def test_same_padding_with_stride_one_matches_symmetric_padding(method):
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 5))
    np.testing.assert_array_equal(fn.max_pool2d(x, 3, 1, "same", method=method), fn.max_pool2d(x, 3, 1, 1))
    np.testing.assert_allclose(
        fn.avg_pool2d(x, 3, 1, "same", method=method), fn.avg_pool2d(x, 3, 1, 1, count_include_pad=False), rtol=1e-14
    )
    layer = layers.Maxpool(3, 1, "same", method=method)
    assert layer.forward(x).shape == x.shape
    np.testing.assert_array_equal(
        layer.backward(np.ones(x.shape)),
        fn.max_pool2d_backward(np.ones(x.shape), fn.max_pool2d(x, 3, 1, 1, return_indices=True)[1], x.shape),
    )


def test_valid_padding_is_zero_padding():
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    np.testing.assert_array_equal(fn.max_pool2d(x, 2, 1, "valid"), fn.max_pool2d(x, 2, 1, 0))
    np.testing.assert_array_equal(fn.avg_pool2d(x, 2, 1, "VALID"), fn.avg_pool2d(x, 2, 1, 0))


# ----------------------------------------------------------------------------- d2l worked examples

X9 = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
X4 = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)


@pytest.mark.parametrize("path", MAX_PATHS)
def test_d2l_pool2d_3x3(path):
    out, _, _ = run_max(path, X9, 2, stride=1)
    np.testing.assert_array_equal(out, plane([[4, 5], [7, 8]]))


def test_d2l_avg_pool2d_3x3():
    np.testing.assert_array_equal(fn.avg_pool2d(X9, 2, 1), plane([[2, 3], [5, 6]]))
    np.testing.assert_array_equal(
        naive.avg_pool_forward_naive(X9, dict(pool_height=2, pool_width=2, stride=1))[0], plane([[2, 3], [5, 6]])
    )


def test_d2l_default_stride_is_the_window():
    np.testing.assert_array_equal(layers.Maxpool(3).forward(X4), plane([[10]]))


@pytest.mark.parametrize("path", MAX_PATHS)
def test_d2l_padding_and_stride(path):
    out, _, _ = run_max(path, X4, 3, stride=2, padding=1)
    np.testing.assert_array_equal(out, plane([[5, 7], [13, 15]]))


@pytest.mark.parametrize("path", MAX_PATHS)
def test_d2l_rectangular_window(path):
    out, _, _ = run_max(path, X4, (2, 3), stride=(2, 3), padding=(0, 1))
    np.testing.assert_array_equal(out, plane([[5, 7], [13, 15]]))


def test_d2l_two_channels():
    x = np.concatenate([X4, X4 + 1], axis=1)
    out = layers.Maxpool(3, 2, 1).forward(x)
    np.testing.assert_array_equal(out, [[[[5, 7], [13, 15]], [[6, 8], [14, 16]]]])


# ----------------------------------------------------------------------------- known public bugs


@pytest.mark.parametrize("method", METHODS)
def test_ceil_avg_never_divides_by_zero_pytorch_36977(method):
    # without the start-inside rule, a 17th window would start past the input: 0/0 = NaN
    out = fn.avg_pool2d(np.ones((1, 1, 32, 32)), 1, 2, ceil_mode=True, count_include_pad=False, method=method)
    assert out.shape == (1, 1, 16, 16) and np.all(out == 1.0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape,kernel,stride,padding", [((32, 32), 1, 2, 0), ((5, 5), 3, 3, 1), ((6, 7), 2, 2, 1)])
def test_ceil_max_has_no_minus_inf_row_pytorch_45357(method, shape, kernel, stride, padding):
    x = np.random.default_rng(0).standard_normal((1, 1) + shape)
    out = fn.max_pool2d(x, kernel, stride, padding, ceil_mode=True, method=method)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("path", MAX_PATHS)
def test_max_pool_does_not_ignore_nan_pytorch_7645(path):
    out, _, _ = run_max(path, plane([[np.nan, 1.0], [2.0, 3.0]]), 2)
    assert np.isnan(out).all()


@pytest.mark.parametrize("path", MAX_PATHS)
def test_no_index_is_ever_minus_one_pytorch_pr_1465(path):
    x = plane([[np.nan, np.nan, -np.inf, -np.inf], [np.nan, np.nan, -np.inf, -np.inf]])
    _, idx, _ = run_max(path, x, 2)
    np.testing.assert_array_equal(idx, [[[[5, 2]]]])


def test_ceil_avg_border_divisor_is_not_full_window_pytorch_100987():
    out = fn.avg_pool2d(X16, 3, 2, 1, ceil_mode=True, count_include_pad=True)
    assert out[0, 0, 2, 2] == 4.0  # 16 / 4, not 16 / 9


@pytest.mark.parametrize("bad", [dict(kernel_size=-2), dict(kernel_size=2, stride=-1), dict(kernel_size=2, stride=0)])
def test_unpool_negative_kernel_or_stride_is_an_error_pytorch_73154(bad):
    x = np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match="kernel_size|stride"):
        fn.max_unpool2d(x, np.zeros((1, 1, 2, 2), dtype=np.int64), **bad)


def test_unpool_negative_index_is_an_error_pytorch_91555():
    x = np.ones((1, 1, 2, 2))
    idx = np.array([[[[0, 1], [-3, 2]]]])
    with pytest.raises(ValueError, match=r"indices.*-3"):
        fn.max_unpool2d(x, idx, 2)


def test_fast_and_slow_backward_agree_on_ties_and_nan():
    x = plane([[4.0, 4.0, np.nan, 1.0], [4.0, 4.0, np.nan, np.nan], [0.0, 0.0, 5.0, 5.0], [0.0, 0.0, 5.0, 5.0]])
    dout = plane([[1.0, 2.0], [3.0, 4.0]])
    grads = [run_max(path, x, 2, dout=dout)[2] for path in MAX_PATHS]
    expected = plane([[1, 0, 0, 0], [0, 0, 0, 2], [3, 0, 4, 0], [0, 0, 0, 0]])
    for path, dx in zip(MAX_PATHS, grads, strict=True):
        np.testing.assert_array_equal(dx, expected, err_msg=path)
