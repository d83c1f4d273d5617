"""im2col/col2im/column_argmax: layout, Cython == numpy, adjointness, argmax rules, bad input."""

import itertools
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cs231n_pool import _im2col as cython_kernels
from cs231n_pool import im2col_numpy as numpy_kernels
from cs231n_pool.geometry import pool_geometry, pooled_size, window_cells, window_placement
from cs231n_pool.im2col import col2im_indices, column_argmax, im2col_indices

BACKENDS = [pytest.param(cython_kernels, id="cython"), pytest.param(numpy_kernels, id="numpy")]


def loop_im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, pad_value=0.0):
    """The layout written out as loops: a third oracle, independent of both kernels."""
    N, C, H, W = x.shape
    cols = np.full((C * kh * kw, out_h * out_w * N), pad_value, dtype=x.dtype)
    for n, c, i, j, oh, ow in itertools.product(range(N), range(C), range(kh), range(kw), range(out_h), range(out_w)):
        ih, iw = oh * sh - ph + i * dh, ow * sw - pw + j * dw
        if 0 <= ih < H and 0 <= iw < W:
            cols[c * kh * kw + i * kw + j, (oh * out_w + ow) * N + n] = x[n, c, ih, iw]
    return cols


def kernel_args(shape, kernel, stride, pad, dilation, extra=(0, 0)):
    """Positional kernel arguments after x; ``extra`` adds output rows/cols past floor mode
    (what ceil mode and 'same' padding do), whose cells reach past the bottom/right edge."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, pad, dilation
    out_h = pooled_size(shape[2], kh, sh, ph, dh) + extra[0]
    out_w = pooled_size(shape[3], kw, sw, pw, dw) + extra[1]
    return kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w


# ---------------------------------------------------------------- worked examples


def test_worked_example_layout_rows_by_channel_and_offset_columns_by_window_then_image():
    x = np.arange(24, dtype=np.float64).reshape(2, 2, 2, 3)  # N=2, C=2, H=2, W=3
    expected = np.array(
        [
            # columns: (window 0, n=0), (window 0, n=1), (window 1, n=0), (window 1, n=1)
            [0, 12, 1, 13],  # c=0, i=0, j=0
            [1, 13, 2, 14],  # c=0, i=0, j=1
            [3, 15, 4, 16],  # c=0, i=1, j=0
            [4, 16, 5, 17],  # c=0, i=1, j=1
            [6, 18, 7, 19],  # c=1, i=0, j=0
            [7, 19, 8, 20],  # c=1, i=0, j=1
            [9, 21, 10, 22],  # c=1, i=1, j=0
            [10, 22, 11, 23],  # c=1, i=1, j=1
        ],
        dtype=np.float64,
    )
    np.testing.assert_array_equal(im2col_indices(x, 2, 2, padding=0, stride=1), expected)


def test_worked_example_padding_reads_zero_and_col2im_drops_it():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    # 2x2 windows, stride 2, padding 1: each window holds one input cell, in its far corner.
    expected = np.array(
        [
            [0, 0, 0, 4],  # offset (0, 0)
            [0, 0, 3, 0],  # offset (0, 1)
            [0, 2, 0, 0],  # offset (1, 0)
            [1, 0, 0, 0],  # offset (1, 1)
        ],
        dtype=np.float64,
    )
    cols = im2col_indices(x, 2, 2, padding=1, stride=2)
    np.testing.assert_array_equal(cols, expected)
    np.testing.assert_array_equal(
        col2im_indices(np.ones_like(cols), x.shape, 2, 2, padding=1, stride=2), np.ones_like(x)
    )


def test_col2im_sums_overlapping_windows():
    x_shape = (1, 1, 3, 3)
    cols = np.ones((4, 4))  # 2x2 windows, stride 1: the centre is in all four windows
    expected = np.array([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]], dtype=np.float64)
    np.testing.assert_array_equal(col2im_indices(cols, x_shape, 2, 2, stride=1), expected)


@pytest.mark.parametrize("kernels", BACKENDS)
@pytest.mark.parametrize(
    "shape, kernel, stride",
    [
        ((2, 3, 5, 7), (2, 3), (1, 2)),
        ((1, 2, 7, 4), (3, 2), (2, 1)),
        ((3, 1, 4, 9), (1, 4), (1, 3)),
    ],
)
def test_non_square_windows_and_inputs_match_the_loop_definition(kernels, shape, kernel, stride):
    x = np.random.default_rng(1).standard_normal(shape)
    args = kernel_args(shape, kernel, stride, (1, 0), (1, 1))
    np.testing.assert_array_equal(kernels.im2col(x, *args), loop_im2col(x, *args))


# ---------------------------------------------------------------- Cython == numpy

GRID = list(
    itertools.product(
        [(1, 1), (2, 2), (3, 2), (2, 3)],  # kernel
        [(1, 1), (2, 2), (2, 1)],  # stride
        [(0, 0), (1, 1), (1, 0)],  # padding
        [(1, 1), (2, 2), (1, 2)],  # dilation
    )
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel, stride, pad, dilation", GRID)
def test_cython_matches_numpy_on_grid(kernel, stride, pad, dilation, dtype):
    rng = np.random.default_rng(abs(hash((kernel, stride, pad, dilation))) % 2**32)
    # 2 images take Cython im2col's small-batch loop, 10 its tiled loop.
    for shape in ((2, 3, 6, 7), (10, 2, 6, 7)):
        x = rng.standard_normal(shape).astype(dtype)
        for extra in ((0, 0), (1, 0), (0, 1)):
            args = kernel_args(shape, kernel, stride, pad, dilation, extra)
            _assert_backends_agree(x, args, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cython_matches_numpy_with_empty_batch(dtype):
    x = np.zeros((0, 3, 5, 5), dtype=dtype)
    args = kernel_args(x.shape, (3, 3), (2, 2), (1, 1), (1, 1))
    cols = cython_kernels.im2col(x, *args)
    assert cols.shape == (27, 0) and cols.dtype == dtype
    _assert_backends_agree(x, args, np.random.default_rng(0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(150, 1, 5, 6), (2, 2, 3, 75), (9, 2, 3, 75)])
def test_cython_matches_numpy_across_tiles(shape, dtype):
    # Cython's im2col reads windows straight from x for up to 8 images, else it
    # tiles 64 images by 32 windows (col2im always tiles): 150 images are two
    # full image blocks and a partial one, 75 columns three window blocks.
    x = np.random.default_rng(8).standard_normal(shape).astype(dtype)
    for kernel, stride, pad, dilation in (
        ((2, 2), (2, 2), (0, 0), (1, 1)),
        ((3, 2), (1, 1), (1, 1), (1, 1)),
        ((2, 3), (1, 2), (1, 1), (1, 2)),
    ):
        _assert_backends_agree(x, kernel_args(x.shape, kernel, stride, pad, dilation, (1, 1)), np.random.default_rng(9))


def test_cython_matches_numpy_on_the_maxpool_layout():
    # Maxpool reshapes (N, C, H, W) to (N*C, 1, H, W) and pads with -inf.
    x = np.random.default_rng(2).standard_normal((3, 4, 5, 5)).astype(np.float32).reshape(12, 1, 5, 5)
    args = kernel_args(x.shape, (3, 3), (2, 2), (1, 1), (1, 1), extra=(1, 1))
    _assert_backends_agree(x, args, np.random.default_rng(3), pad_value=-np.inf)


def _assert_backends_agree(x, args, rng, pad_value=0.0):
    """im2col equal, col2im bit-identical (same summation order), column_argmax equal."""
    cols = cython_kernels.im2col(x, *args, pad_value)
    assert cols.dtype == x.dtype
    np.testing.assert_array_equal(cols, numpy_kernels.im2col(x, *args, pad_value))
    y = rng.standard_normal(cols.shape).astype(x.dtype)
    back = cython_kernels.col2im(y, *x.shape, *args)
    assert back.dtype == x.dtype and back.shape == x.shape
    np.testing.assert_array_equal(back, numpy_kernels.col2im(y, *x.shape, *args))
    for got, want in zip(cython_kernels.column_argmax(cols), numpy_kernels.column_argmax(cols), strict=True):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- adjointness


@pytest.mark.parametrize(
    "kernel, stride, padding, dilation",
    [
        ((2, 2), 2, 0, 1),
        ((3, 3), 1, 1, 1),
        ((3, 2), (2, 1), (1, 0), 1),
        ((2, 3), 1, 2, 2),
        ((1, 1), 3, 1, 1),
    ],
)
def test_col2im_is_the_adjoint_of_im2col(kernel, stride, padding, dilation):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 7, 6))
    cols = im2col_indices(x, *kernel, padding=padding, stride=stride, dilation=dilation)
    y = rng.standard_normal(cols.shape)
    back = col2im_indices(y, x.shape, *kernel, padding=padding, stride=stride, dilation=dilation)
    np.testing.assert_allclose(np.vdot(cols, y), np.vdot(x, back), rtol=1e-12)


@st.composite
def kernel_cases(draw):
    N, C = draw(st.integers(0, 20)), draw(st.integers(1, 3))
    H, W = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    extra = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    args = kernel_args((N, C, H, W), kernel, stride, pad, dilation, extra)
    assume(args[-2] >= 1 and args[-1] >= 1)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return (N, C, H, W), args, dtype, draw(st.integers(0, 2**32 - 1))


@settings(max_examples=60, deadline=None)
@given(kernel_cases())
def test_property_cython_matches_numpy(case):
    shape, args, dtype, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x[rng.random(shape) < 0.1] = np.nan
    _assert_backends_agree(x, args, rng, pad_value=-np.inf)


@settings(max_examples=60, deadline=None)
@given(kernel_cases())
def test_property_adjointness(case):
    shape, args, _, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    cols = cython_kernels.im2col(x, *args)
    y = rng.standard_normal(cols.shape)
    lhs, rhs = np.vdot(cols, y), np.vdot(x, cython_kernels.col2im(y, *shape, *args))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- column_argmax

ALL_ARGMAX = BACKENDS + [pytest.param(None, id="dispatch")]


def _argmax(kernels, cols):
    return column_argmax(cols) if kernels is None else kernels.column_argmax(np.ascontiguousarray(cols))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernels", ALL_ARGMAX)
def test_column_argmax_ties_nan_and_minus_inf(kernels, dtype):
    nan, inf = np.nan, np.inf
    cols = np.array(
        [
            # tie  nan-first  nan-last  two-nans  all -inf  -inf then 1
            [3.0, nan, 1.0, nan, -inf, -inf],
            [1.0, 5.0, 2.0, 1.0, -inf, 1.0],
            [3.0, 6.0, nan, nan, -inf, -inf],
        ],
        dtype=dtype,
    )
    values, rows = _argmax(kernels, cols)
    assert values.dtype == dtype and rows.dtype == np.int64
    np.testing.assert_array_equal(rows, [0, 0, 2, 2, -1, 1])
    np.testing.assert_array_equal(values, np.array([3.0, nan, nan, nan, -inf, 1.0], dtype=dtype))


@pytest.mark.parametrize("K", [1, 2, 3, 4, 5, 8, 9])
@pytest.mark.parametrize("kernels", ALL_ARGMAX)
def test_column_argmax_matches_numpy_argmax_across_cache_blocks(kernels, K):
    # 2500 columns span several of the Cython kernel's column blocks, and K covers
    # its four-rows-at-a-time sweep plus every remainder; rounding makes ties.
    cols = np.round(np.random.default_rng(K).standard_normal((K, 2500)), 1).astype(np.float32)
    values, rows = _argmax(kernels, cols)
    np.testing.assert_array_equal(rows, np.argmax(cols, axis=0))
    np.testing.assert_array_equal(values, cols.max(axis=0))


@pytest.mark.parametrize("K", [1, 3, 4, 6, 9])
def test_column_argmax_cython_matches_numpy_with_nan_and_minus_inf(K):
    cols = np.round(np.random.default_rng(K).standard_normal((K, 1500)), 1)
    cols[cols > 1.2] = np.nan
    cols[cols < -1.2] = -np.inf
    for dtype in (np.float32, np.float64):
        c = cols.astype(dtype)
        for got, want in zip(cython_kernels.column_argmax(c), numpy_kernels.column_argmax(c), strict=True):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kernels", ALL_ARGMAX)
def test_column_argmax_of_empty_matrices(kernels):
    values, rows = _argmax(kernels, np.zeros((4, 0)))
    assert values.shape == rows.shape == (0,)
    values, rows = _argmax(kernels, np.zeros((0, 3)))
    np.testing.assert_array_equal(rows, [-1, -1, -1])
    np.testing.assert_array_equal(values, [-np.inf] * 3)


def test_column_argmax_dispatch_accepts_non_contiguous_columns():
    cols = np.random.default_rng(6).standard_normal((5, 8)).T.copy().T  # Fortran order
    np.testing.assert_array_equal(column_argmax(cols)[1], np.argmax(cols, axis=0))


def test_public_functions_accept_an_empty_batch_and_read_only_input():
    x = np.zeros((0, 2, 4, 4), dtype=np.float32)
    cols = im2col_indices(x, 3, 3, padding=1)
    assert cols.shape == (18, 0) and cols.dtype == np.float32
    assert col2im_indices(cols, x.shape, 3, 3, padding=1).shape == x.shape
    y = np.arange(32.0).reshape(1, 2, 4, 4)
    y.setflags(write=False)
    np.testing.assert_array_equal(im2col_indices(y, 2, 2, stride=2)[:, 0], [0, 1, 4, 5, 16, 17, 20, 21])


# ---------------------------------------------------------------- one-hot col2im and the pooling epilogue


def _one_hot(values, rows, K):
    """The dense (K, P*N) one-hot column matrix: column p*N + n holds values[p, n] in row rows[p, n]."""
    dcols = np.zeros((K, values.size), dtype=values.dtype)
    dcols[rows.ravel(), np.arange(values.size)] = values.ravel()
    return dcols


def _fold_in_window_order(dcols, shape, args):
    """col2im of dcols, adding each cell's entries window by window in row-major order
    (PyTorch's pooling backward order), then row by row within a window."""
    N, C, H, W = shape
    kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w = args
    p = np.arange(out_h * out_w)
    r = np.arange(C * kh * kw)
    c, i, j = r // (kh * kw), (r % (kh * kw)) // kw, r % kw
    ih = (p // out_w)[:, None, None] * sh - ph + i[None, :, None] * dh  # (window, row, image)
    iw = (p % out_w)[:, None, None] * sw - pw + j[None, :, None] * dw
    n = np.arange(N)[None, None, :]
    inside = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W) & (n >= 0)
    flat = ((n * C + c[None, :, None]) * H + ih) * W + iw
    entries = dcols.reshape(C * kh * kw, out_h * out_w, N).transpose(1, 0, 2)  # (window, row, image)
    dx = np.zeros(N * C * H * W, dtype=dcols.dtype)
    np.add.at(dx, flat[inside], entries[inside])  # boolean indexing keeps (window, row, image) order
    return dx.reshape(shape)


def _wide_range_values(rng, shape, dtype):
    # Magnitudes from 1e-6 to 1e6: a sum of three or more of them depends on the order.
    return (rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 7, size=shape)).astype(dtype)


ONEHOT_CASES = [
    # (x shape, kernel, stride, pad, dilation, extra output rows/cols)
    ((5, 2, 7, 6), (3, 3), (1, 1), (1, 1), (1, 1), (0, 0)),  # 9-fold overlap, padding
    ((4, 1, 9, 8), (3, 2), (2, 1), (1, 0), (1, 1), (1, 0)),  # ceil-mode row reaching past the edge
    ((3, 3, 8, 8), (2, 3), (1, 2), (1, 1), (2, 1), (0, 1)),  # dilation
    ((6, 1, 6, 6), (2, 2), (2, 2), (0, 0), (1, 1), (0, 0)),  # no overlap
    ((150, 1, 5, 6), (3, 3), (1, 1), (1, 1), (1, 1), (0, 0)),  # more images than one tile
    ((70, 1, 70, 66), (2, 2), (2, 2), (0, 0), (1, 1), (0, 0)),  # many windows: fewer images per tile
]


def _argmax_cells(rng, shape, args):
    """A random in-bounds cell of every window of every plane, as a max pooling would pick:
    (rows (P, Q) of the one-hot column matrix, flat indices (Q, P) within each plane, and which
    (Q, P) windows lie wholly in the padding: their row and index are 0, to carry a 0)."""
    Q, _, H, W = shape
    kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w = args
    P = out_h * out_w
    top, left = (np.arange(P) // out_w * sh - ph)[:, None], (np.arange(P) % out_w * sw - pw)[:, None]
    i, j = np.zeros((P, Q), dtype=np.int64), np.zeros((P, Q), dtype=np.int64)
    todo = np.ones((P, Q), dtype=bool)
    for _ in range(200):  # redraw the cells that fell in the padding
        i[todo], j[todo] = rng.integers(0, kh, size=todo.sum()), rng.integers(0, kw, size=todo.sum())
        ih, iw = top + i * dh, left + j * dw
        todo = (ih < 0) | (ih >= H) | (iw < 0) | (iw >= W)
    i[todo] = j[todo] = 0
    flat = np.where(todo, 0, (top + i * dh) * W + left + j * dw)
    return i * kw + j, np.ascontiguousarray(flat.T), np.ascontiguousarray(todo.T)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernels", BACKENDS)
@pytest.mark.parametrize("shape, kernel, stride, pad, dilation, extra", ONEHOT_CASES)
def test_scatter_planes_is_col2im_of_the_one_hot_matrix_in_window_order(
    kernels, shape, kernel, stride, pad, dilation, extra, dtype
):
    rng = np.random.default_rng(21)
    planes = (shape[0] * shape[1], 1) + shape[2:]  # the pooling layout: every channel pools alone
    args = kernel_args(planes, kernel, stride, pad, dilation, extra)
    rows, flat, empty = _argmax_cells(rng, planes, args)
    values = np.where(empty, 0, _wide_range_values(rng, flat.shape, dtype)).astype(dtype)  # (Q, P)
    got = kernels.scatter_planes(values, flat, shape[2] * shape[3])
    dense = _one_hot(values.T, rows, kernel[0] * kernel[1])
    assert got.dtype == dtype and got.shape == (planes[0], shape[2] * shape[3])
    np.testing.assert_array_equal(got.reshape(planes), _fold_in_window_order(dense, planes, args))
    tolerance = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got.reshape(planes), cython_kernels.col2im(dense, *planes, *args), **tolerance)


def test_scatter_planes_adds_in_window_order_not_col2ims():
    # All nine 3x3 windows of a 5x5 input pick the centre cell, so it sums nine values of very
    # different sizes: PyTorch's max-pool backward adds them in window order, which rounds
    # differently from col2im's order (the reverse).
    shape, args = (1, 1, 5, 5), kernel_args((1, 1, 5, 5), (3, 3), (1, 1), (0, 0), (1, 1))
    P = args[-2] * args[-1]  # window (oh, ow) holds the centre (2, 2) at offset (2 - oh, 2 - ow)
    rows = np.array([(2 - oh) * 3 + (2 - ow) for oh in range(3) for ow in range(3)]).reshape(P, 1)
    values = np.array([1e8, 1.0, -1e8, 3.0, 1e-3, 7.0, -1.0, 1e4, 0.5])[:, None]
    col2im_order = cython_kernels.col2im(_one_hot(values, rows, 9), *shape, *args)
    window_order = np.zeros(1)
    for v in values.ravel():
        window_order += v
    assert col2im_order[0, 0, 2, 2] != window_order[0]  # the order matters for these values
    want = np.zeros(25)
    want[12] = window_order[0]
    for kernels in (cython_kernels, numpy_kernels):
        np.testing.assert_array_equal(kernels.scatter_planes(values.T.copy(), np.full((1, 9), 12), 25)[0], want)


@pytest.mark.parametrize("kernels", BACKENDS)
def test_scatter_planes_accepts_read_only_input(kernels):
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    indices = np.array([[0, 3, 0], [1, 1, 2]])
    values.flags.writeable = indices.flags.writeable = False
    got = kernels.scatter_planes(values, indices, 4)
    np.testing.assert_array_equal(got, [[2, 0, 0, 1], [0, 7, 5, 0]])
    assert got.dtype == np.float32


@pytest.mark.parametrize("kernels", BACKENDS)
@pytest.mark.parametrize("bad", [-1, 4])
def test_scatter_planes_rejects_indices_outside_the_plane(kernels, bad):
    indices = np.zeros((2, 3), dtype=np.int64)
    indices[1, 2] = bad
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\) \(one plane\), got 1 outside"):
        kernels.scatter_planes(np.ones((2, 3)), indices, 4)
    with pytest.raises(ValueError, match=r"indices must have dout's shape \(2, 2\)"):
        kernels.scatter_planes(np.ones((2, 2)), indices, 4)


def _plane_tables(rng, P, K):
    first = rng.integers(0, K, size=P)
    return first, rng.integers(0, 1000, size=P), rng.integers(0, 1000, size=K)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("P, Q", [(1, 1), (7, 3), (129, 17), (128, 32), (5, 100), (300, 15)])  # tiles: 128 x 16
def test_columns_to_planes_cython_matches_numpy(P, Q, dtype):
    rng = np.random.default_rng(P * 1000 + Q)
    K = 9
    values = rng.standard_normal(P * Q).astype(dtype)
    rows = rng.integers(-1, K, size=P * Q)
    first, corner, offset = _plane_tables(rng, P, K)
    fixed = np.where(rows.reshape(P, Q) < 0, first[:, None], rows.reshape(P, Q)).ravel()
    results = []
    for kernels in (cython_kernels, numpy_kernels):
        r = rows.copy()
        out, indices = kernels.columns_to_planes(values, r, first, corner, offset)
        np.testing.assert_array_equal(r, fixed)  # -1 rows replaced in place
        assert out.dtype == dtype and indices.dtype == np.int64 and out.shape == indices.shape == (Q, P)
        results.append((out, indices))
    np.testing.assert_array_equal(results[0][0], values.reshape(P, Q).T)
    np.testing.assert_array_equal(results[0][1], (corner[:, None] + offset[fixed.reshape(P, Q)]).T)
    for got, want in zip(*results, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kernels", BACKENDS)
def test_columns_to_planes_rejects_bad_rows_and_sizes(kernels):
    rng = np.random.default_rng(1)
    first, corner, offset = _plane_tables(rng, 4, 3)
    for rows in ([0, 1, 2, 3, 0, 0, 0, 0], [0, -2, 0, 0, 0, 0, 0, 0]):
        with pytest.raises(ValueError, match=r"rows must lie in \[-1, 3\) and first in \[0, 3\)"):
            kernels.columns_to_planes(np.zeros(8), np.array(rows), first, corner, offset)
    with pytest.raises(ValueError, match="got 1 rows outside"):  # a -1 row whose replacement is out of range
        kernels.columns_to_planes(
            np.zeros(8), np.array([-1, 0, 0, 0, 0, 0, 0, 0]), np.array([7, 0, 0, 0]), corner, offset
        )
    with pytest.raises(ValueError, match="inconsistent sizes"):
        kernels.columns_to_planes(np.zeros(6), np.zeros(6, dtype=np.int64), first, corner, offset)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernels", BACKENDS)
@pytest.mark.parametrize("shape, kernel, stride, pad, dilation, extra", ONEHOT_CASES)
def test_col2im_spread_is_col2im_of_the_constant_columns_in_window_order(
    kernels, shape, kernel, stride, pad, dilation, extra, dtype
):
    rng = np.random.default_rng(22)
    N, C = shape[:2]
    args = kernel_args(shape, kernel, stride, pad, dilation, extra)
    P = args[-2] * args[-1]
    values = _wide_range_values(rng, (N, P), dtype).T  # (P, N) view, as Avgpool passes
    dense = np.ascontiguousarray(np.broadcast_to(values.reshape(1, P * N), (C * kernel[0] * kernel[1], P * N)))
    got = kernels.col2im_spread(values, *shape, *args)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_array_equal(got, _fold_in_window_order(dense, shape, args))


@pytest.mark.parametrize("kernels", BACKENDS)
def test_col2im_spread_rejects_a_wrong_shape(kernels):
    shape, args = (2, 1, 4, 4), kernel_args((2, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"values must have shape \(4, 2\)"):
        kernels.col2im_spread(np.ones((4, 3)), *shape, *args)


@pytest.mark.parametrize("cols_shape", [(4, 7), (3, 8), (5, 8)])
def test_cython_col2im_rejects_cols_that_do_not_match_the_geometry(cols_shape):
    # Called directly, the kernel must not trust its arguments: a short cols would be read past its end.
    shape, args = (2, 1, 4, 4), kernel_args((2, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"cols must have shape \(4, 8\)"):
        cython_kernels.col2im(np.ones(cols_shape), *shape, *args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "K, P, Q, seed", [(1, 1, 1, 0), (9, 1, 1, 1), (4, 17, 65, 2), (9, 128, 16, 3), (2, 33, 3, 4), (3, 130, 17, 5)]
)
def test_column_mean_planes_adds_rows_in_order(K, P, Q, seed, dtype):
    # Sums go 1024 columns at a time, the transpose in tiles of 128 windows by 16 planes.
    # With K=9, P=Q=1 and seed 1, cols.sum(axis=0) (pairwise on a single column) rounds
    # differently from the row-by-row sum.
    rng = np.random.default_rng(seed)
    cols = _wide_range_values(rng, (K, P * Q), dtype)
    divisors = rng.integers(1, 10, size=P).astype(dtype)
    sums = cols[0].copy()
    for row in cols[1:]:  # row by row; np.sum would go pairwise on a single column
        sums += row
    want = (sums.reshape(P, Q) / divisors[:, None]).T
    for kernels in (cython_kernels, numpy_kernels):
        got = kernels.column_mean_planes(cols, divisors)
        assert got.dtype == dtype and got.shape == (Q, P)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kernels", BACKENDS)
def test_column_mean_planes_rejects_a_column_count_that_is_not_a_multiple_of_the_windows(kernels):
    with pytest.raises(ValueError, match=r"cols.shape=\(2, 7\)"):
        kernels.column_mean_planes(np.ones((2, 7)), np.ones(3))


# ---------------------------------------------------------------- memory order


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda x: np.asfortranarray(x), id="fortran"),
        pytest.param(lambda x: np.swapaxes(np.swapaxes(x, 2, 3).copy(), 2, 3), id="swapped-strides"),
        pytest.param(lambda x: np.repeat(x, 2, axis=3)[..., ::2], id="strided-view"),
    ],
)
def test_non_contiguous_inputs_give_the_contiguous_result(make):
    x = np.random.default_rng(7).standard_normal((2, 3, 5, 6)).astype(np.float32)
    y = make(x)
    assert not y.flags.c_contiguous
    np.testing.assert_array_equal(y, x)
    cols = im2col_indices(y, 3, 2, padding=1, stride=(2, 1))
    np.testing.assert_array_equal(cols, im2col_indices(x, 3, 2, padding=1, stride=(2, 1)))
    back = col2im_indices(np.asfortranarray(cols), x.shape, 3, 2, padding=1, stride=(2, 1))
    np.testing.assert_array_equal(back, col2im_indices(cols, x.shape, 3, 2, padding=1, stride=(2, 1)))


# ---------------------------------------------------------------- bad input

X = np.zeros((2, 3, 4, 5))
COLS = im2col_indices(X, 2, 2)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: im2col_indices([[1.0]], 2, 2), TypeError, ["x", "list"]),
        (lambda: im2col_indices(X[0], 2, 2), ValueError, ["x.ndim=3"]),
        (lambda: im2col_indices(X.astype(np.int64), 2, 2), TypeError, ["x.dtype=int64"]),
        (lambda: im2col_indices(X.astype(np.complex128), 2, 2), TypeError, ["x.dtype=complex128"]),
        (lambda: im2col_indices(X[:, :, :0], 2, 2), ValueError, ["x.shape=(2, 3, 0, 5)"]),
        (lambda: im2col_indices(X, 0, 2), ValueError, ["field_height=0"]),
        (lambda: im2col_indices(X, 2, -1), ValueError, ["field_width=-1"]),
        (lambda: im2col_indices(X, 2.5, 2), TypeError, ["field_height=2.5"]),
        (lambda: im2col_indices(X, 5, 2), ValueError, ["field_height=5", "x_shape=(2, 3, 4, 5)"]),
        (lambda: im2col_indices(X, 2, 4, dilation=2), ValueError, ["field_width=4", "dilation=2"]),
        (lambda: im2col_indices(X, 2, 2, padding=-1), ValueError, ["padding", "-1"]),
        (lambda: im2col_indices(X, 2, 2, padding="wide"), ValueError, ["padding", "wide"]),
        (lambda: im2col_indices(X, 2, 2, stride=0), ValueError, ["stride=0"]),
        (lambda: im2col_indices(X, 2, 2, stride=(1, 2, 3)), ValueError, ["stride", "(1, 2, 3)"]),
        (lambda: im2col_indices(X, 2, 2, dilation=0), ValueError, ["dilation=0"]),
        (lambda: col2im_indices(COLS, (2, 3, 4), 2, 2), ValueError, ["x_shape=(2, 3, 4)"]),
        (lambda: col2im_indices(COLS, "2345", 2, 2), ValueError, ["x_shape='2345'"]),
        (lambda: col2im_indices(COLS, (2, 3, 4.0, 5), 2, 2), TypeError, ["x_shape=(2, 3, 4.0, 5)"]),
        (lambda: col2im_indices(COLS, (2, 0, 4, 5), 2, 2), ValueError, ["x_shape=(2, 0, 4, 5)"]),
        (lambda: col2im_indices(COLS, (-1, 3, 4, 5), 2, 2), ValueError, ["x_shape=(-1, 3, 4, 5)"]),
        (lambda: col2im_indices(COLS.tolist(), X.shape, 2, 2), TypeError, ["cols", "list"]),
        (lambda: col2im_indices(COLS.astype(np.int32), X.shape, 2, 2), TypeError, ["cols.dtype=int32"]),
        (lambda: col2im_indices(COLS, X.shape, 3, 2), ValueError, ["cols.shape=(12, 24)"]),
        (lambda: col2im_indices(COLS[:, :-1], X.shape, 2, 2), ValueError, ["cols.shape=(12, 23)"]),
        (lambda: col2im_indices(COLS, X.shape, 2, 0), ValueError, ["field_width=0"]),
        (lambda: col2im_indices(COLS, X.shape, 2, 2, stride=-2), ValueError, ["stride=-2"]),
        (lambda: column_argmax(COLS.tolist()), TypeError, ["cols", "list"]),
        (lambda: column_argmax(COLS.astype(np.float16)), TypeError, ["cols.dtype=float16"]),
        (lambda: column_argmax(COLS.ravel()), ValueError, ["cols.ndim=1"]),
    ],
)
def test_bad_input_names_the_parameter_and_value(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_geometry_wrappers_refuse_a_plane_or_cols_that_do_not_match_the_geometry():
    # the Cython kernels trust the geometry: a mismatch used to read past the end of cols/x
    from cs231n_pool.geometry import pool_geometry
    from cs231n_pool.im2col import col2im_geometry, col2im_spread_geometry, im2col_geometry

    geom = pool_geometry((3, 3), 2, 1)  # 2x2 windows, output 2x2
    with pytest.raises(ValueError, match=r"cols.shape=\(4, 1\)"):
        col2im_geometry(np.zeros((4, 1)), (2, 1, 3, 3), geom)
    with pytest.raises(ValueError, match=r"x_shape=\(1, 1, 2, 2\)"):
        im2col_geometry(np.zeros((1, 1, 2, 2)), geom)
    with pytest.raises(ValueError, match=r"x_shape=\(2, 1, 5, 5\)"):
        col2im_spread_geometry(np.zeros((4, 2)), (2, 1, 5, 5), geom)


@pytest.mark.parametrize(
    "args,exc,words",
    [
        ((5, 2, 0, 0), ValueError, "stride=0"),
        ((5, 0, 1, 0), ValueError, "kernel=0"),
        ((5, 2, 1, 0, 0), ValueError, "dilation=0"),
        ((5, 2.0, 1, 0), TypeError, "kernel=2.0"),
        ((5, 2, 1, -1), ValueError, "padding=-1"),
    ],
)
def test_pooled_size_checks_its_arguments(args, exc, words):
    # a public helper: stride=0 used to be a ZeroDivisionError, a float kernel a float size
    with pytest.raises(exc, match=re.escape(words)):
        pooled_size(*args)


# ---------------------------------------------------------------- against the one placement rule

PLACEMENTS = [
    (shape, kernel, stride, pad, dilation, ceil)
    for shape, kernel, stride, pad, dilation, ceil in itertools.product(
        [(5, 7), (6, 6), (1, 4)], [1, 2, 3, (3, 2)], [1, 2, 3], [0, 1, "same"], [1, 2], [False, True]
    )
    if not (pad == "same" and ceil)
]


def _geometry_or_none(shape, kernel, stride, pad, dilation, ceil):
    try:
        return pool_geometry(shape, kernel, stride, pad, dilation, ceil, limit_padding=False)
    except ValueError:  # the window does not fit that plane
        return None


@pytest.mark.parametrize("shape,kernel,stride,pad,dilation,ceil", PLACEMENTS)
@pytest.mark.parametrize("kernels", BACKENDS)
def test_im2col_kernels_read_the_cells_geometry_places(kernels, shape, kernel, stride, pad, dilation, ceil):
    # each column holds its window's in-bounds cells (geometry.window_placement) and padding elsewhere
    geom = _geometry_or_none(shape, kernel, stride, pad, dilation, ceil)
    if geom is None:
        return
    H, W = shape
    x = np.arange(1.0, H * W + 1).reshape(1, 1, H, W)  # every cell non-zero and distinct
    cols = kernels.im2col(
        x,
        geom.kernel_h,
        geom.kernel_w,
        geom.stride_h,
        geom.stride_w,
        geom.pad_top,
        geom.pad_left,
        geom.dilation_h,
        geom.dilation_w,
        geom.out_h,
        geom.out_w,
        -1.0,
    )
    rows, columns = window_placement(geom)
    for oh, ow in itertools.product(range(geom.out_h), range(geom.out_w)):
        want = np.full((geom.kernel_h, geom.kernel_w), -1.0)
        i0, j0 = rows.skip[oh], columns.skip[ow]
        for ih, iw in window_cells(geom, oh, ow):
            want[i0 + (ih - rows.first[oh]) // geom.dilation_h, j0 + (iw - columns.first[ow]) // geom.dilation_w] = x[
                0, 0, ih, iw
            ]
        np.testing.assert_array_equal(cols[:, oh * geom.out_w + ow], want.ravel(), err_msg=f"window {(oh, ow)}")
        assert (want != -1).sum() == rows.cells[oh] * columns.cells[ow]
