"""The fused ("direct") kernels against the taught im2col path and PyTorch.

Max pooling must match the im2col path bit for bit (outputs and indices); average
outputs too (same summation order). Gradients match to rounding: overlapping windows
may add their shares to a cell in a different order.
"""

import itertools
import os
import warnings

import numpy as np
import pytest

from cs231n_pool import _backend, direct
from cs231n_pool import functional as fn
from cs231n_pool.geometry import avg_divisors, pool_geometry, window_placement

KERNELS = [2, 3, (3, 2)]
STRIDES = [None, 1, 2, (2, 1)]
GRID = list(itertools.product(KERNELS, STRIDES, [0, 1], [1, 2], [False, True], [np.float32, np.float64]))
TOL = {np.float32: dict(rtol=1e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-13)}


def _values(shape, dtype, seed):
    """Normal values with ties, a NaN and a -inf row mixed in."""
    x = np.random.default_rng(seed).standard_normal(shape)
    x = np.round(x, 1)  # many ties
    x[0, 0, 1, 2] = np.nan
    x[-1, -1, 0, :] = -np.inf
    return x.astype(dtype)


def _overlapping(geom):
    return geom.stride_h < geom.kernel_h * geom.dilation_h or geom.stride_w < geom.kernel_w * geom.dilation_w


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.mark.parametrize("kernel,stride,pad,dilation,ceil,dtype", GRID)
def test_max_direct_matches_im2col_and_torch(kernel, stride, pad, dilation, ceil, dtype):
    x = _values((2, 3, 7, 9), dtype, seed=len(str((kernel, stride, pad, dilation, ceil))))
    args = (kernel, stride, pad, dilation, ceil)
    out_ref, idx_ref = fn.max_pool2d(x, *args, return_indices=True, method="im2col")
    geom = pool_geometry(x.shape[2:], *args)
    out, idx = direct.max_pool_forward_direct(x, geom, threads=2)
    np.testing.assert_array_equal(out, out_ref)  # NaN == NaN here
    np.testing.assert_array_equal(idx, idx_ref)
    assert out.dtype == dtype and idx.dtype == np.int64

    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    dx = direct.max_pool_backward_direct(dout, idx, x.shape, threads=2)
    dx_ref = fn.max_pool2d_backward(dout, idx_ref, x.shape, method="im2col")
    if _overlapping(geom):
        np.testing.assert_allclose(dx, dx_ref, **TOL[dtype])
    else:
        np.testing.assert_array_equal(dx, dx_ref)

    torch = _torch()
    xt = torch.tensor(x, requires_grad=True)
    ot, it = torch.nn.functional.max_pool2d(xt, *args, return_indices=True)
    ot.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, ot.detach().numpy())
    np.testing.assert_array_equal(idx, it.numpy())
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL[dtype])


AVG_GRID = list(itertools.product(KERNELS, STRIDES, [0, 1], [False, True], [True, False], [np.float32, np.float64]))


@pytest.mark.parametrize("kernel,stride,pad,ceil,count_include_pad,dtype", AVG_GRID)
def test_avg_direct_matches_im2col_and_torch(kernel, stride, pad, ceil, count_include_pad, dtype):
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 9)).astype(dtype)
    args = (kernel, stride, pad, ceil, count_include_pad)
    geom = pool_geometry(x.shape[2:], kernel, stride, pad, 1, ceil)
    divisors = avg_divisors(geom, count_include_pad)
    out = direct.avg_pool_forward_direct(x, geom, divisors, threads=2)
    np.testing.assert_array_equal(out, fn.avg_pool2d(x, *args, method="im2col"))

    dout = np.random.default_rng(4).standard_normal(out.shape).astype(dtype)
    dx = direct.avg_pool_backward_direct(dout, geom, divisors, x.shape, threads=2)
    dx_ref = fn.avg_pool2d_backward(dout, x.shape, *args, method="im2col")
    if _overlapping(geom):
        np.testing.assert_allclose(dx, dx_ref, **TOL[dtype])
    else:
        np.testing.assert_array_equal(dx, dx_ref)

    torch = _torch()
    xt = torch.tensor(x, requires_grad=True)
    ot = torch.nn.functional.avg_pool2d(xt, *args)
    ot.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, ot.detach().numpy())
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL[dtype])


def test_avg_divisor_override():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    geom = pool_geometry((4, 4), 3, 2, 1, 1, True)
    out = direct.avg_pool_forward_direct(x, geom, avg_divisors(geom, True, divisor_override=-2))
    np.testing.assert_array_equal(out, fn.avg_pool2d(x, 3, 2, 1, True, True, -2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ties_nan_and_minus_inf_exact(dtype):
    x = np.array(
        [[[[1, 5, 5, 0], [5, 2, np.nan, 3], [-np.inf, -np.inf, np.nan, np.nan], [-np.inf, -np.inf, 4, 4]]]], dtype=dtype
    )
    geom = pool_geometry((4, 4), 2)
    out, idx = direct.max_pool_forward_direct(x, geom)
    # ties -> first max; NaN wins with the LAST NaN's index; all -inf -> the first cell
    np.testing.assert_array_equal(out, np.array([[[[5, np.nan], [-np.inf, np.nan]]]], dtype=dtype))
    np.testing.assert_array_equal(idx, [[[[1, 6], [8, 11]]]])
    dx = direct.max_pool_backward_direct(np.ones_like(out), idx, x.shape)
    expected = np.zeros((4, 4), dtype)
    expected.flat[[1, 6, 8, 11]] = 1
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_overlapping_windows_accumulate_on_a_shared_max():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 9.0
    geom = pool_geometry((3, 3), 2, 1)
    out, idx = direct.max_pool_forward_direct(x, geom)
    assert (idx == 4).all()
    dx = direct.max_pool_backward_direct(np.full(out.shape, 0.5), idx, x.shape)
    assert dx[0, 0, 1, 1] == 2.0 and dx.sum() == 2.0


def test_window_stepping_over_the_input_gives_minus_inf_and_no_gradient():
    # kernel 2, dilation 2, padding 1 on a 1-wide row: the window's cells are -1 and 1, both outside
    x = np.ones((1, 1, 1, 1), dtype=np.float32)
    geom = pool_geometry((1, 1), (1, 2), 1, (0, 1), (1, 2))
    out, idx = direct.max_pool_forward_direct(x, geom)
    assert np.isneginf(out).all()
    dx = direct.max_pool_backward_direct(np.ones_like(out), idx, x.shape)
    np.testing.assert_array_equal(dx, np.zeros_like(x))


@pytest.mark.parametrize("kernel,stride,pad", [(2, 2, 0), (3, 2, 1), (3, 1, 1), ((3, 2), (2, 1), 1)])
def test_threads_give_identical_results(kernel, stride, pad):
    x = np.random.default_rng(5).standard_normal((3, 7, 15, 13)).astype(np.float32)
    geom = pool_geometry(x.shape[2:], kernel, stride, pad)
    divisors = avg_divisors(geom)
    dout = np.random.default_rng(6).standard_normal((3, 7, geom.out_h, geom.out_w)).astype(np.float32)
    one = direct.max_pool_forward_direct(x, geom, threads=1)
    two = direct.max_pool_forward_direct(x, geom, threads=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        direct.max_pool_backward_direct(dout, one[1], x.shape, threads=1),
        direct.max_pool_backward_direct(dout, one[1], x.shape, threads=2),
    )
    np.testing.assert_array_equal(
        direct.avg_pool_forward_direct(x, geom, divisors, threads=1),
        direct.avg_pool_forward_direct(x, geom, divisors, threads=3),
    )
    np.testing.assert_array_equal(
        direct.avg_pool_backward_direct(dout, geom, divisors, x.shape, threads=1),
        direct.avg_pool_backward_direct(dout, geom, divisors, x.shape, threads=2),
    )


def test_non_contiguous_input_and_gradient():
    base = np.random.default_rng(7).standard_normal((9, 11, 4, 3))
    x = base.transpose(2, 3, 0, 1)[:, :, ::-1]  # (4, 3, 9, 11), no contiguous axis left
    geom = pool_geometry(x.shape[2:], 3, 2, 1)
    out, idx = direct.max_pool_forward_direct(x, geom)
    ref_out, ref_idx = direct.max_pool_forward_direct(np.ascontiguousarray(x), geom)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    dout = np.asfortranarray(np.random.default_rng(8).standard_normal(out.shape))
    np.testing.assert_array_equal(
        direct.max_pool_backward_direct(dout, idx, x.shape),
        direct.max_pool_backward_direct(np.ascontiguousarray(dout), idx, x.shape),
    )
    divisors = avg_divisors(geom)
    np.testing.assert_array_equal(
        direct.avg_pool_forward_direct(x, geom, divisors),
        direct.avg_pool_forward_direct(np.ascontiguousarray(x), geom, divisors),
    )
    np.testing.assert_array_equal(
        direct.avg_pool_backward_direct(dout, geom, divisors, x.shape),
        direct.avg_pool_backward_direct(np.ascontiguousarray(dout), geom, divisors, x.shape),
    )


def test_empty_batch():
    x = np.empty((0, 2, 5, 5), dtype=np.float32)
    geom = pool_geometry((5, 5), 2)
    out, idx = direct.max_pool_forward_direct(x, geom)
    assert out.shape == idx.shape == (0, 2, 2, 2)
    assert direct.max_pool_backward_direct(out, idx, x.shape).shape == x.shape


# ----------------------------------------------------------------------------- the threads setting


@pytest.fixture
def clean_threads(monkeypatch):
    monkeypatch.delenv(direct.ENV_THREADS, raising=False)
    yield
    direct.set_num_threads(None)


def test_default_threads_is_all_cores_and_env_and_setter_override(clean_threads, monkeypatch):
    assert direct.get_num_threads() == (os.cpu_count() or 1)
    monkeypatch.setenv(direct.ENV_THREADS, "3")
    assert direct.get_num_threads() == 3
    direct.set_num_threads(1)
    assert direct.get_num_threads() == 1
    direct.set_num_threads(None)
    assert direct.get_num_threads() == 3


def test_small_calls_default_to_one_thread_but_explicit_threads_are_kept(clean_threads):
    direct.set_num_threads(2)
    assert direct._resolve_threads(None, direct.GRAIN - 1) == 1
    assert direct._resolve_threads(3, 10) == (3 if direct.HAVE_OPENMP else 1)
    if direct.HAVE_OPENMP:
        assert direct._resolve_threads(None, 10 * direct.GRAIN) == 2


@pytest.mark.parametrize(
    "value,error", [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)]
)
def test_threads_setter_rejects_bad_values(clean_threads, value, error):
    with pytest.raises(error, match=r"threads.*" + repr(value).replace(".", r"\.")):
        direct.set_num_threads(value)
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(error, match="threads"):
        direct.max_pool_forward_direct(x, pool_geometry((4, 4), 2), threads=value)


@pytest.mark.parametrize("env", ["0", "two", "-1"])
def test_bad_environment_value_names_the_variable(clean_threads, monkeypatch, env):
    monkeypatch.setenv(direct.ENV_THREADS, env)
    with pytest.raises(ValueError, match=f"{direct.ENV_THREADS}.*{env}"):
        direct.get_num_threads()


def test_more_threads_without_openmp_warns_once_and_runs(clean_threads, monkeypatch):
    monkeypatch.setattr(direct, "HAVE_OPENMP", False)
    monkeypatch.setattr(direct, "_warned_no_openmp", False)
    x = np.random.default_rng(9).standard_normal((2, 2, 6, 6))
    geom = pool_geometry((6, 6), 2)
    with pytest.warns(RuntimeWarning, match="without OpenMP"):
        out, _ = direct.max_pool_forward_direct(x, geom, threads=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        direct.max_pool_forward_direct(x, geom, threads=2)
    np.testing.assert_array_equal(out, fn.max_pool2d(x, 2))


def test_openmp_flag_reflects_the_build():
    assert bool(direct._direct.HAVE_OPENMP) == direct.HAVE_OPENMP
    assert direct._direct.openmp_max_threads() >= 1


def test_missing_extension_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(direct, "_direct", None)
    with pytest.raises(ImportError, match="make build"):
        direct.max_pool_forward_direct(np.zeros((1, 1, 2, 2)), pool_geometry((2, 2), 2))


def test_wrappers_reject_mismatched_arrays_instead_of_reading_out_of_bounds():
    x = np.zeros((2, 3, 6, 6), dtype=np.float32)
    geom = pool_geometry((6, 6), 2)
    out, idx = direct.max_pool_forward_direct(x, geom)
    with pytest.raises(ValueError, match="geometry"):
        direct.max_pool_forward_direct(np.zeros((2, 3, 8, 6), np.float32), geom)
    with pytest.raises(TypeError, match="x must be a 4-D float32/float64"):
        direct.max_pool_forward_direct(x.astype(np.float16), geom)
    with pytest.raises(ValueError, match="idx must be an integer array"):
        direct.max_pool_backward_direct(out, idx[:, :, :2], x.shape)
    with pytest.raises(ValueError, match=r"x_shape=\(3, 3, 6, 6\)"):
        direct.max_pool_backward_direct(out, idx, (3, 3, 6, 6))
    with pytest.raises(ValueError, match="divisors must have shape"):
        direct.avg_pool_forward_direct(x, geom, np.ones((2, 2)))
    with pytest.raises(ValueError, match="dout must have shape"):
        direct.avg_pool_backward_direct(out[:, :, :2], geom, avg_divisors(geom), x.shape)
    with pytest.raises(ValueError, match="x_shape"):
        direct.avg_pool_backward_direct(out, geom, avg_divisors(geom), (2, 3, 7, 6))


def test_out_of_plane_indices_are_skipped_by_the_kernel():
    dout = np.ones((1, 1, 1, 2))
    idx = np.array([[[[3, 99]]]])
    dx = direct.max_pool_backward_direct(dout, idx, (1, 1, 2, 2))
    np.testing.assert_array_equal(dx, [[[[0, 0], [0, 1]]]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
# on 16x16 planes, 1x1 to 2x2 outputs take the one-memset branch, 3x3 the memset per plane
@pytest.mark.parametrize("out_hw", [(1, 1), (1, 2), (2, 2), (3, 3)])
@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_max_backward_with_few_outputs_per_plane_zeroes_every_plane_once(out_hw, threads, dtype):
    # Few outputs per plane take one memset per thread's planes: every plane, whichever thread
    # has it (7 threads for 5 planes leaves some with none), is zeroed, and repeats accumulate.
    rng = np.random.default_rng(0)
    P, H, W = 5, 16, 16
    dout = rng.standard_normal((1, P) + out_hw).astype(dtype)
    idx = rng.integers(0, 4, size=dout.shape)  # repeated cells, so the order of the adds shows
    idx[0, 0].flat[0] = H * W  # outside the plane: skipped
    want = np.zeros((P, H * W), dtype=dtype)
    for p in range(P):
        for g, i in zip(dout[0, p].ravel(), idx[0, p].ravel(), strict=True):
            if i < H * W:
                want[p, i] += g
    dx = np.full((P, H, W), np.nan, dtype=dtype)  # what a plane nobody zeroed would keep
    direct._require_extension().max_backward(dout[0], idx[0].astype(np.int64), dx, threads)
    np.testing.assert_array_equal(dx.reshape(P, H * W), want, strict=True)
    np.testing.assert_array_equal(direct.max_pool_backward_direct(dout, idx, (1, P, H, W), threads)[0], dx)


def test_functional_default_is_the_fastest_built_path(monkeypatch):
    """method=None means "direct" when its kernels are built, else the im2col path."""
    x = np.random.default_rng(0).permutation(2 * 3 * 8 * 8).reshape(2, 3, 8, 8).astype(np.float32)
    calls = []
    real = direct.max_pool_forward_direct
    monkeypatch.setattr(direct, "max_pool_forward_direct", lambda *a, **k: calls.append(1) or real(*a, **k))
    out, idx = fn.max_pool2d(x, 3, 2, 1, return_indices=True)
    assert calls == [1]
    ref_out, ref_idx = fn.max_pool2d(x, 3, 2, 1, return_indices=True, method="im2col")
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    monkeypatch.setattr(direct, "AVAILABLE", False)
    assert _backend.check_method(None) == "im2col"
    fn.max_pool2d(x, 3, 2, 1)
    assert calls == [1]


SEPARABLE_CASES = list(
    itertools.product(
        [(2, 1, 0), (3, 1, 0), (3, 1, 1), (3, 2, 0), (3, 2, 1)], [(5, 6), (6, 8), (7, 7), (8, 5), (3, 3)], [False, True]
    )
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kps,hw,ceil", SEPARABLE_CASES)
def test_separable_path_equals_the_row_major_scan(kps, hw, ceil, dtype):
    """Row runs then rows (whole-plane loops, flat where W == stride * out_w) must pick the same
    cell as im2col's row-major scan: few distinct values (ties everywhere), NaN pairs, -inf blocks."""
    kernel, stride, pad = kps
    rng = np.random.default_rng(hash((kps, hw, ceil)) % 2**32)
    x = rng.integers(-2, 2, size=(3, 2) + hw).astype(dtype)
    x[0, 0][rng.random(hw) < 0.15] = np.nan
    x[0, 1][rng.random(hw) < 0.2] = np.nan
    x[1, 0, :2, :] = -np.inf  # windows wholly -inf along the top border
    x[1, 1, :, -2:] = -np.inf  # ... and along the right border
    x[2, 0] = -np.inf
    geom = pool_geometry(hw, kernel, stride, pad, 1, ceil)
    assert direct._separable(geom, direct._layout(geom))
    out_ref, idx_ref = fn.max_pool2d(x, kernel, stride, pad, 1, ceil, return_indices=True, method="im2col")
    for threads in (1, 2):
        out, idx = direct.max_pool_forward_direct(x, geom, threads=threads)
        np.testing.assert_array_equal(out, out_ref)
        np.testing.assert_array_equal(idx, idx_ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hw", [(3, 3), (4, 7), (9, 5), (28, 28)])
def test_one_loop_3x3_stride_1_runs_drop_their_outside_cell(hw, dtype):
    """3x3/1 pad 1: one loop does every row run, border runs forcing or blocking one cell.
    NaN and -inf sit on the first and last columns, where a dropped cell could leak in."""
    geom = pool_geometry(hw, 3, 1, 1)
    classes = direct._run_classes(geom).reshape(hw[0], hw[1])
    assert (classes[:, 0] == 1).all() and (classes[:, -1] == 2).all() and not classes[:, 1:-1].any()
    rng = np.random.default_rng(hw[0] * 100 + hw[1])
    x = rng.integers(-1, 2, size=(2, 3) + hw).astype(dtype)
    x[0, 0, :, 0] = np.nan  # a NaN beside the previous row's last cell
    x[0, 1, :, -1] = np.nan  # ... and beside the next row's first cell
    x[1, 0, :, :2] = -np.inf  # left border runs wholly -inf
    x[1, 1, :, -2:] = -np.inf  # right border runs wholly -inf
    x[1, 2] = -np.inf
    out_ref, idx_ref = fn.max_pool2d(x, 3, 1, 1, return_indices=True, method="im2col")
    out, idx = direct.max_pool_forward_direct(x, geom, threads=2)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(idx, idx_ref)


def test_run_classes_apply_only_where_one_loop_is_exact_and_bad_lengths_are_refused():
    assert direct._run_classes(pool_geometry((8, 8), 3, 2, 1)).size == 0  # stride 2 keeps the border pass
    assert direct._run_classes(pool_geometry((8, 8), 3, 1, 0)).size == 0  # no border columns, W != out_w
    assert direct._run_classes(pool_geometry((8, 8), 2, 1, 1)).size == 0
    x = np.zeros((1, 5, 5), np.float32)
    out, idx = np.empty((1, 5, 5), np.float32), np.empty((1, 5, 5), np.int64)
    geom = pool_geometry((5, 5), 3, 1, 1)
    with pytest.raises(ValueError, match="run_class"):
        direct._direct.max_forward(
            x,
            out,
            idx,
            np.empty((1, 5), np.int32),
            np.empty((1, 25), np.float32),
            np.empty((1, 25), np.int32),
            True,
            np.zeros(24, np.int32),
            *direct._layout(geom),
            1,
        )


# ---------------------------------------------------------------- against the one placement rule

PLACEMENTS = [
    (shape, kernel, stride, pad, dilation, ceil)
    for shape, kernel, stride, pad, dilation, ceil in itertools.product(
        [(5, 7), (6, 6), (3, 3), (1, 4), (7, 28)], [1, 2, 3, (3, 2)], [1, 2, 3], [0, 1, "same"], [1, 2], [False, True]
    )
    if not (pad == "same" and ceil)
]


@pytest.mark.parametrize("shape,kernel,stride,pad,dilation,ceil", PLACEMENTS)
def test_direct_kernels_visit_the_cells_geometry_places(shape, kernel, stride, pad, dilation, ceil):
    # on an increasing plane every window's max is its last in-bounds cell, and a sum of ones
    # counts its in-bounds cells: both come from geometry.window_placement, whichever loop runs
    try:
        geom = pool_geometry(shape, kernel, stride, pad, dilation, ceil)
    except ValueError:  # padding over half the window, or the window does not fit
        return
    rows, cols = window_placement(geom)
    if rows.cells.min() == 0 or cols.cells.min() == 0:
        return  # a dilated window that misses the plane: the ops refuse it before the kernels run
    H, W = shape
    x = np.arange(2 * H * W, dtype=np.float64).reshape(2, 1, H, W)
    out, idx = direct.max_pool_forward_direct(x, geom, threads=1)
    last_row = rows.first + (rows.cells - 1) * geom.dilation_h
    last_col = cols.first + (cols.cells - 1) * geom.dilation_w
    np.testing.assert_array_equal(idx[1, 0], last_row[:, None] * W + last_col[None, :])
    np.testing.assert_array_equal(out[1, 0], H * W + idx[1, 0])
    ones = np.ones((1, 2, H, W))
    counts = direct.avg_pool_forward_direct(ones, geom, np.ones((geom.out_h, geom.out_w)), threads=1)
    np.testing.assert_array_equal(counts[0, 1], np.outer(rows.cells, cols.cells))


# ----------------------------------------------------------------------------- the whole-plane kernels

UINT = {np.float32: np.uint32, np.float64: np.uint64}


def _specials(shape, dtype, seed):
    """Normal values, a fifth of them replaced by +0, -0, +-inf, subnormals and NaNs of four payloads."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    bits = 32 if dtype == np.float32 else 64
    quiet = 1 << (bits - 10 if bits == 32 else bits - 13)  # the quiet bit above the payload
    nans = np.array(
        [(((1 << (bits - 1)) - 1) ^ ((1 << (bits - 1)) - 1) % quiet) | quiet | p for p in (1, 2, 3)], dtype=UINT[dtype]
    ).view(dtype)
    nans = np.append(nans, -nans[0])  # the sign bit set
    tiny = np.finfo(dtype).smallest_subnormal
    specials = np.array([0.0, -0.0, np.inf, -np.inf, 3 * tiny, -5 * tiny], dtype=dtype)
    pick = rng.random(shape)
    x[pick < 0.15] = rng.choice(specials, size=int((pick < 0.15).sum()))
    x[pick > 0.98] = rng.choice(nans, size=int((pick > 0.98).sum()))
    x[0, 0] = -0.0  # a plane of -0: every sum must be +0, every max -0
    return x


def _bits(a):
    return a.view(UINT[a.dtype.type])


PLANE_GRID = list(itertools.product(KERNELS, STRIDES, [0, 1], [1, 2], [False, True], [np.float32, np.float64]))


@pytest.mark.parametrize("kernel,stride,pad,dilation,ceil,dtype", PLANE_GRID)
def test_max_without_indices_is_the_indexed_output_bit_for_bit(kernel, stride, pad, dilation, ceil, dtype):
    x = _specials((2, 3, 9, 8), dtype, seed=len(str((kernel, stride, pad, dilation, ceil))))
    geom = pool_geometry(x.shape[2:], kernel, stride, pad, dilation, ceil)
    out, _ = direct.max_pool_forward_direct(x, geom, threads=1)
    for threads in (1, 2):
        np.testing.assert_array_equal(_bits(direct.max_pool_values_direct(x, geom, threads=threads)), _bits(out))
    # the functional op takes this path without return_indices
    values = fn.max_pool2d(x, kernel, stride, pad, dilation, ceil, method="direct")
    np.testing.assert_array_equal(_bits(values), _bits(out))
    np.testing.assert_array_equal(
        _bits(fn.max_pool2d(x, kernel, stride, pad, dilation, ceil, method="im2col")), _bits(out)
    )


def _avg_cells(x, geom, divisors):
    """The cell-at-a-time average kernel (the path of every other geometry), for comparison."""
    kernels = _backend.direct_kernels
    N, C, H, W = x.shape
    out = np.empty((N * C, geom.out_h, geom.out_w), dtype=x.dtype)
    kernels.avg_forward(x.reshape(N * C, H, W), out, divisors, *direct._layout(geom), 1)
    return out.reshape(N, C, geom.out_h, geom.out_w)


AVG_PLANE_GRID = list(
    itertools.product([2, 3], [1, 2], [0, 1], [False, True], [True, False], [None, -3], [np.float32, np.float64])
)


@pytest.mark.parametrize("kernel,stride,pad,ceil,count_include_pad,override,dtype", AVG_PLANE_GRID)
def test_avg_plane_kernel_is_the_cell_kernel_bit_for_bit(kernel, stride, pad, ceil, count_include_pad, override, dtype):
    x = _specials((2, 3, 9, 8), dtype, seed=kernel * 7 + stride + 3 * pad)
    geom = pool_geometry(x.shape[2:], kernel, stride, pad, 1, ceil)
    assert direct._plane_case(geom) is not None
    divisors = avg_divisors(geom, count_include_pad, divisor_override=override)
    want = _avg_cells(x, geom, divisors)
    out = direct.avg_pool_forward_direct(x, geom, divisors, threads=2)
    np.testing.assert_array_equal(_bits(out), _bits(want))
    # the -0 plane sums to +0 everywhere, and +0 / -3 is -0
    assert (np.signbit(out[0, 0]) == (override is not None)).all()
    torch = _torch()
    ot = torch.nn.functional.avg_pool2d(torch.from_numpy(x), kernel, stride, pad, ceil, count_include_pad, override)
    # torch agrees on every value (its NaN payloads and the sign of a zero divided by a negative
    # divisor_override are its own)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(out[finite], ot.numpy()[finite])
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ot.numpy()))


def test_avg_plane_kernel_divides_by_a_huge_divisor_as_torch_does():
    # 2**24 + 1 is not a float32: torch and the im2col path divide by it rounded to float32
    x = np.random.default_rng(9).standard_normal((2, 2, 6, 6)).astype(np.float32)
    big = 2**24 + 1
    out = direct.avg_pool_forward_direct(
        x, pool_geometry((6, 6), 2, 2), avg_divisors(pool_geometry((6, 6), 2, 2), divisor_override=big)
    )
    np.testing.assert_array_equal(_bits(out), _bits(fn.avg_pool2d(x, 2, divisor_override=big, method="im2col")))
    torch = _torch()
    ot = torch.nn.functional.avg_pool2d(torch.from_numpy(x), 2, divisor_override=big).numpy()
    np.testing.assert_array_equal(_bits(out), _bits(ot))


def test_plane_case_covers_square_undilated_2x2_and_3x3_at_stride_1_and_2_only():
    case = direct._plane_case
    assert case(pool_geometry((8, 8), 2, 2)) == (2, 2, False)
    assert case(pool_geometry((8, 8), 3, 1, 1)) == (3, 1, True)
    assert case(pool_geometry((8, 8), 3, 2, 0, 1, True)) == (3, 2, True)  # ceil: the last window leaves the plane
    assert case(pool_geometry((9, 9), 3, 2, 0, 1, True)) == (3, 2, False)  # ceil, but every window inside
    for args in [((3, 2), 2), (3, 3), (2, (2, 1)), (2, 1, 0, 2), (4, 2)]:
        assert case(pool_geometry((8, 8), *args)) is None


def test_plane_kernel_refuses_arguments_that_would_read_or_write_out_of_bounds():
    kernels = _backend.direct_kernels
    x = np.zeros((2, 6, 6), np.float32)
    out = np.empty((2, 3, 3), np.float32)
    one = np.ones((1, 1), np.float32)
    scratch = np.empty((1, 64), np.float32)
    with pytest.raises(ValueError, match="kernel 2 or 3 at stride 1 or 2, got kernel=4, stride=2"):
        kernels.plane_values(x, out, scratch, scratch, one, False, False, 4, 2, 0, 0, 1)
    with pytest.raises(ValueError, match="padded scratch is too small"):
        kernels.plane_values(x, out, one, scratch, one, False, True, 3, 2, 1, 1, 1)
    with pytest.raises(ValueError, match="an unpadded window leaves the plane"):
        kernels.plane_values(x, out, one, scratch, one, False, False, 3, 2, 1, 1, 1)
    with pytest.raises(ValueError, match="run scratch is too small"):
        kernels.plane_values(x, out, one, one, one, False, False, 2, 2, 0, 0, 1)
    with pytest.raises(ValueError, match="divisors is not"):
        kernels.plane_values(x, out, one, one, one, True, False, 2, 2, 0, 0, 1)
    with pytest.raises(ValueError, match="one row per thread"):
        kernels.plane_values(x, out, one, scratch, one, False, False, 2, 2, 0, 0, 2)


def test_max_op_without_indices_has_no_backward():
    from cs231n_pool.ops import MaxPool2d

    x = np.arange(16.0).reshape(1, 1, 4, 4)
    op = MaxPool2d(2, method="direct", indices=False)
    out, ctx = op.forward(x)
    assert ctx.indices is None
    np.testing.assert_array_equal(out, MaxPool2d(2, method="direct").forward(x)[0])
    with pytest.raises(ValueError, match="built with indices=False: its forward kept no indices"):
        op.backward(ctx, np.ones_like(out))


AVG_BACK_GRID = [
    (hw, k, s, p, ceil, cip, dtype)
    for hw, k, s, p, ceil, cip, dtype in itertools.product(
        [(7, 6), (9, 9), (8, 11)], [2, 3], [1, 2, 3], [0, 1], [False, True], [True, False], [np.float32, np.float64]
    )
    if s <= k
]


@pytest.mark.parametrize("hw,kernel,stride,pad,ceil,count_include_pad,dtype", AVG_BACK_GRID)
def test_avg_backward_is_torch_bit_for_bit_where_it_gathers(hw, kernel, stride, pad, ceil, count_include_pad, dtype):
    """Stride 1, 3x3 at stride 2 and exactly covering tiles add each window's share in PyTorch's order."""
    geom = pool_geometry(hw, kernel, stride, pad, 1, ceil)
    planes = direct._plane_case(geom) is not None and (
        stride == 1
        or kernel == 3
        or (stride == kernel and not pad and hw == (geom.out_h * kernel, geom.out_w * kernel))
    )
    dout = _specials((2, 3, geom.out_h, geom.out_w), dtype, seed=hw[0] + kernel + stride)
    dout[np.isnan(dout)] = 1.5  # torch's NaN payloads are its own
    dx = direct.avg_pool_backward_direct(dout, geom, avg_divisors(geom, count_include_pad), (2, 3) + hw, threads=2)
    torch = _torch()
    xt = torch.zeros((2, 3) + hw, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
    torch.nn.functional.avg_pool2d(xt, kernel, stride, pad, ceil, count_include_pad).backward(torch.from_numpy(dout))
    if planes:
        np.testing.assert_array_equal(_bits(dx), _bits(xt.grad.numpy()))
    else:
        np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL[dtype])


def test_avg_backward_planes_refuses_geometries_it_does_not_handle():
    kernels = _backend.direct_kernels
    dout, dx = np.zeros((1, 3, 3), np.float32), np.zeros((1, 6, 6), np.float32)
    div, scratch = np.ones((3, 3), np.float32), np.zeros((1, 256), np.float32)
    with pytest.raises(ValueError, match="kernel=2, stride=3, tiles=False"):
        kernels.avg_backward_planes(dout, dx, div, scratch, 2, False, 3, 0, 0, 1)
    with pytest.raises(ValueError, match="kernel=3, stride=2, tiles=True"):
        kernels.avg_backward_planes(dout, dx, div, scratch, 3, True, 2, 0, 0, 1)
    with pytest.raises(ValueError, match="one big enough row per thread"):
        kernels.avg_backward_planes(dout, dx, div, scratch[:, :2], 2, True, 2, 0, 0, 1)
    with pytest.raises(ValueError, match="divisors must be"):
        kernels.avg_backward_planes(dout, dx, div[:2], scratch, 2, True, 2, 0, 0, 1)
