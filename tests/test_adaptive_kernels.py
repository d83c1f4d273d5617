"""The fused adaptive pooling kernels (_adaptive.pyx) against the bin formula, the numpy path and torch.

The bins come from geometry.adaptive_bins; a plain loop over those bins, written here with
torch's rules, is the reference. The numpy path (used when the extension is not built) must
give the same bits, and so must every thread count.
"""

import itertools

import numpy as np
import pytest
from helpers import REQUIRE_EXTENSION, torch_module

from cs231n_pool import _backend, ops
from cs231n_pool import functional as fn
from cs231n_pool.geometry import adaptive_bins

kernels = _backend.adaptive_kernels
if kernels is None and not REQUIRE_EXTENSION:
    pytest.skip("the adaptive kernels are not built (CS231N_POOL_REQUIRE_EXTENSION=1 makes that a failure)",
                allow_module_level=True)  # fmt: skip

# (H, W) -> output size: narrow and wide (>= 16 cells) bins, overlapping bins, Out > In, 1x1
CASES = [
    ((7, 6), (3, 4)),
    ((5, 5), (5, 5)),
    ((2, 3), (5, 7)),
    ((13, 9), (4, 2)),
    ((40, 35), (2, 1)),
    ((40, 35), (1, 1)),
    ((1, 1), (3, 2)),
    ((33, 17), (7, 13)),
    ((300, 5), (1, 1)),
]
DTYPES = [np.float32, np.float64]


def wide_values(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 7, size=shape)).astype(dtype)


def special_values(shape, dtype, seed=0):
    """Few distinct values (ties), NaN, +-inf, -0: the scan rule decides every index."""
    rng = np.random.default_rng(seed)
    choices = np.array([-np.inf, -1.0, -0.0, 0.0, 1.0, 1.0, 2.0, np.inf, np.nan])
    return rng.choice(choices, size=shape).astype(dtype)


def loop_reference(x, size):
    """(max, indices, avg) by plain loops over geometry's bins: row-major scans, torch's rules."""
    P, H, W = x.shape
    hs, he = adaptive_bins(H, size[0])
    ws, we = adaptive_bins(W, size[1])
    dtype = x.dtype.type
    out = np.empty((P,) + size, x.dtype)
    idx = np.empty((P,) + size, np.int64)
    avg = np.empty((P,) + size, x.dtype)
    for p, i, j in itertools.product(range(P), range(size[0]), range(size[1])):
        best, where, total = dtype(-np.inf), hs[i] * W + ws[j], dtype(0)
        for a in range(hs[i], he[i]):
            for b in range(ws[j], we[j]):
                v = x[p, a, b]
                if v > best or np.isnan(v):
                    best, where = v, a * W + b
                with np.errstate(invalid="ignore"):  # inf + -inf is NaN, as in torch
                    total = dtype(total + v)
        out[p, i, j], idx[p, i, j] = best, where
        kh, kw = dtype(he[i] - hs[i]), dtype(we[j] - ws[j])
        with np.errstate(invalid="ignore"):
            avg[p, i, j] = dtype(x[p].sum()) / dtype(H * W) if size == (1, 1) else total / kh / kw
    return out, idx, avg


def run_kernels(x, size, threads=1, dout=None):
    plan = ops.adaptive_plan(x.shape[1:], size)
    out = np.empty((x.shape[0],) + size, x.dtype)
    idx = np.empty(out.shape, np.int64)
    kernels.max_forward(x, out, idx, plan.hs, plan.he, plan.ws, plan.we, threads)
    avg = np.empty_like(out)
    kernels.avg_forward(x, avg, plan.hs, plan.he, plan.ws, plan.we, plan.mean, threads)
    if dout is None:
        return out, idx, avg
    dx = np.empty_like(x)
    kernels.avg_backward(dout, dx, plan.hs, plan.he, plan.ws, plan.we, plan.mean, threads)
    return out, idx, avg, dx


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_size, size", CASES)
@pytest.mark.parametrize("values", [wide_values, special_values])
def test_kernels_match_the_bin_loops(in_size, size, dtype, values):
    x = values((3,) + in_size, dtype)
    got = run_kernels(x, size)
    for g, w, what in zip(got, loop_reference(x, size), ("max", "indices", "avg"), strict=True):
        np.testing.assert_array_equal(g, w, err_msg=what, strict=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_size, size", CASES)
def test_numpy_path_and_threads_give_the_same_bits(in_size, size, dtype):
    x = wide_values((5,) + in_size, dtype, seed=3)
    dout = wide_values((5,) + size, dtype, seed=4)
    plan = ops.adaptive_plan(in_size, size)
    want = (*ops.adaptive_max_numpy(x, plan), ops.adaptive_avg_numpy(x, plan))
    want += (ops.adaptive_avg_backward_numpy(dout, plan, *in_size),)
    for threads in (1, 2, 3):
        for g, w in zip(run_kernels(x, size, threads, dout), want, strict=True):
            np.testing.assert_array_equal(g, w, strict=True)


def test_the_1x1_mean_keeps_numpys_plane_sum_and_torchs_gradient():
    torch = torch_module()
    x = wide_values((4, 3, 37, 29), np.float32, seed=5)
    np.testing.assert_array_equal(  # the 1x1 forward: numpy's pairwise plane sum, one division, as before
        fn.adaptive_avg_pool2d(x, 1), x.sum(axis=(2, 3), keepdims=True) / np.float32(37 * 29), strict=True
    )
    dout = np.array([-0.0, 3.0, -7.0] * 4, dtype=np.float32).reshape(4, 3, 1, 1)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.adaptive_avg_pool2d(xt, 1).backward(torch.tensor(dout))
    got = fn.adaptive_avg_pool2d_backward(dout, x.shape, 1)
    np.testing.assert_array_equal(got, xt.grad.numpy(), strict=True)
    assert np.signbit(got[0, 0]).all()  # torch's mean backward keeps a -0 gradient


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_size, size", [c for c in CASES if c[1] != (1, 1)])
def test_forward_is_torchs_bit_for_bit(in_size, size, dtype):
    torch = torch_module()
    F = torch.nn.functional
    x = wide_values((2, 3) + in_size, dtype, seed=6)
    out, idx = F.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
    got, got_idx = fn.adaptive_max_pool2d(x, size, return_indices=True)
    np.testing.assert_array_equal(got, out.numpy(), strict=True)
    np.testing.assert_array_equal(got_idx, idx.numpy(), strict=True)
    np.testing.assert_array_equal(fn.adaptive_avg_pool2d(x, size), F.adaptive_avg_pool2d(torch.tensor(x), size).numpy())


def test_the_ops_use_the_numpy_path_without_the_kernels(monkeypatch):
    x = wide_values((2, 3, 11, 8), np.float64, seed=7)
    dout = wide_values((2, 3, 4, 3), np.float64, seed=8)
    fused = fn.adaptive_max_pool2d(x, (4, 3), True), fn.adaptive_avg_pool2d(x, (4, 3))
    fused_dx = fn.adaptive_avg_pool2d_backward(dout, x.shape, (4, 3))
    monkeypatch.setattr(ops, "adaptive_kernels", None)
    (out, idx), avg = fn.adaptive_max_pool2d(x, (4, 3), True), fn.adaptive_avg_pool2d(x, (4, 3))
    np.testing.assert_array_equal(out, fused[0][0], strict=True)
    np.testing.assert_array_equal(idx, fused[0][1], strict=True)
    np.testing.assert_array_equal(avg, fused[1], strict=True)
    np.testing.assert_array_equal(fn.adaptive_avg_pool2d_backward(dout, x.shape, (4, 3)), fused_dx, strict=True)


def test_a_strided_input_gives_the_contiguous_results():
    x = wide_values((2, 3, 12, 10), np.float32, seed=9)
    view = np.asfortranarray(x)
    for size in ((5, 4), 1):
        np.testing.assert_array_equal(fn.adaptive_avg_pool2d(view, size), fn.adaptive_avg_pool2d(x, size), strict=True)
        np.testing.assert_array_equal(fn.adaptive_max_pool2d(view, size), fn.adaptive_max_pool2d(x, size), strict=True)


# Runs in a fresh interpreter with the _adaptive extension's import blocked.
WITHOUT_KERNELS = """
import json, sys, warnings
import numpy as np
sys.modules["cs231n_pool._adaptive"] = None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from cs231n_pool import _backend, functional as fn
x = np.arange(30.0).reshape(1, 1, 5, 6)
out, idx = fn.adaptive_max_pool2d(x, (2, 3), return_indices=True)
print(json.dumps({
    "kernels": _backend.adaptive_kernels is None,
    "warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)],
    "max": out.tolist(), "idx": idx.tolist(), "avg": fn.adaptive_avg_pool2d(x, (2, 3)).tolist(),
}))
"""


def _without_kernels(require):
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CS231N_POOL_REQUIRE_EXTENSION"}
    if require:
        env["CS231N_POOL_REQUIRE_EXTENSION"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_KERNELS], env=env, capture_output=True, text=True, timeout=120
    )
    return result, (json.loads(result.stdout) if result.returncode == 0 else None)


def test_without_the_adaptive_kernels_numpy_computes_the_same_and_says_so_once():
    result, report = _without_kernels(require=False)
    assert result.returncode == 0, result.stderr
    assert report["kernels"] is True
    assert len(report["warnings"]) == 1 and "adaptive pooling runs on numpy" in report["warnings"][0]
    x = np.arange(30.0).reshape(1, 1, 5, 6)
    out, idx = fn.adaptive_max_pool2d(x, (2, 3), return_indices=True)
    assert report["max"] == out.tolist() == [[[[13.0, 15.0, 17.0], [25.0, 27.0, 29.0]]]]
    assert report["idx"] == idx.tolist() == [[[[13, 15, 17], [25, 27, 29]]]]
    assert report["avg"] == fn.adaptive_avg_pool2d(x, (2, 3)).tolist()


def test_a_required_adaptive_extension_that_is_missing_is_an_import_error():
    result, _ = _without_kernels(require=True)
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "CS231N_POOL_REQUIRE_EXTENSION=1" in result.stderr
    assert "_adaptive" in result.stderr
