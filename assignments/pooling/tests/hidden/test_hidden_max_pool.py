"""Hidden tests: max pooling forward and backward on inputs drawn at grade time.

Same skills as the public tests, on more configurations. `rng` is seeded per grading run.
"""
import numpy as np
import pytest

from cs231n_pool.naive import max_pool_backward_naive as ref_backward
from cs231n_pool.naive import max_pool_forward_naive as ref_forward


def pool_param(ph, pw, stride, pad=0):
    return {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def assert_array(actual, expected, what):
    assert isinstance(actual, np.ndarray), f"{what}: expected a numpy array, got {type(actual).__name__}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, expected {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-12, equal_nan=True, err_msg=what)


def random_input(rng, shape):
    """Continuous values: no ties."""
    return rng.standard_normal(shape)


def positive_input(rng, shape):
    """Continuous positive values: no ties, and a zero-padding bug cannot show here."""
    return rng.uniform(1.0, 2.0, size=shape)


def check_forward(s, x, param, what):
    out, _ = s.call("max_pool_forward_naive", x, param)
    assert_array(out, ref_forward(x, param)[0], f"{what}: max_pool_forward_naive, x.shape={x.shape}, {param}")


def check_backward(s, rng, x, param, what):
    expected_out, ref_cache = ref_forward(x, param)
    dout = rng.uniform(0.5, 2.0, size=expected_out.shape)
    _, cache = s.call("max_pool_forward_naive", x, param)
    dx = s.call("max_pool_backward_naive", dout, cache)
    assert_array(dx, ref_backward(dout, ref_cache), f"{what}: max_pool_backward_naive, x.shape={x.shape}, {param}")


def batch(rng, h, w):
    return (int(rng.integers(1, 3)), int(rng.integers(1, 4)), h, w)


@pytest.mark.points(4)
def test_max_forward_output_size(submission, rng):
    """Square windows where the floor in H' = (H + 2*pad - k) // stride + 1 matters."""
    configs = [(5, 7, 2, 2, 0), (7, 6, 3, 2, 0), (10, 8, 3, 3, 0), (6, 9, 2, 3, 1), (8, 7, 3, 2, 1), (5, 5, 5, 1, 0)]
    with submission.session() as s:
        for h, w, k, stride, pad in configs:
            check_forward(s, positive_input(rng, batch(rng, h, w)), pool_param(k, k, stride, pad), "output size")


@pytest.mark.points(4)
def test_max_forward_rectangular_window(submission, rng):
    configs = [(2, 3, 1, 0), (3, 2, 2, 0), (1, 3, 1, 0), (4, 2, 2, 1), (2, 5, 3, 0), (3, 4, 1, 1)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            shape = batch(rng, int(rng.integers(ph + 2, ph + 6)), int(rng.integers(pw + 2, pw + 6)))
            check_forward(s, positive_input(rng, shape), pool_param(ph, pw, stride, pad), "rectangular window")


@pytest.mark.points(4)
def test_max_forward_padding_is_minus_inf(submission, rng):
    configs = [(2, 2, 2, 1), (3, 3, 1, 1), (3, 3, 2, 1), (4, 4, 3, 2), (2, 4, 1, 1)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            x = -rng.uniform(1.0, 10.0, size=batch(rng, 6, 7))
            check_forward(s, x, pool_param(ph, pw, stride, pad), "all-negative input with padding")


@pytest.mark.points(3)
def test_max_backward_routes_to_argmax(submission, rng):
    """Windows that do not overlap (stride >= window)."""
    configs = [(2, 2, 2, 8, 8), (3, 3, 3, 9, 7), (2, 3, 3, 6, 9), (2, 2, 3, 7, 7)]
    with submission.session() as s:
        for ph, pw, stride, h, w in configs:
            check_backward(s, rng, random_input(rng, batch(rng, h, w)), pool_param(ph, pw, stride), "non-overlapping")


@pytest.mark.points(4)
def test_max_backward_overlapping_windows(submission, rng):
    """stride < window: gradients of windows sharing their maximum add up."""
    configs = [(3, 3, 1, 0), (3, 3, 2, 0), (2, 2, 1, 0), (2, 3, 1, 1), (4, 4, 2, 2)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            x = random_input(rng, batch(rng, 7, 8))
            check_backward(s, rng, x, pool_param(ph, pw, stride, pad), "overlapping windows")


@pytest.mark.points(4)
def test_max_backward_ties_go_to_first_max(submission, rng):
    """Small integer values give many tied maxima; only the first (row-major) gets the gradient.

    Windows do not overlap here, so this test checks the tie rule alone."""
    configs = [(2, 2, 2, 0), (3, 3, 3, 0), (2, 3, 3, 0), (3, 2, 3, 0)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            x = rng.integers(0, 3, size=batch(rng, 6, 6)).astype(np.float64)
            check_backward(s, rng, x, pool_param(ph, pw, stride, pad), "tied maxima")


@pytest.mark.points(3)
def test_max_nan_propagates(submission, rng):
    """One NaN per window at a random place: the output is NaN there and the gradient goes to the NaN."""
    with submission.session() as s:
        x = random_input(rng, (2, 2, 6, 6))
        for n, c, bh, bw in [(0, 0, 0, 1), (0, 1, 2, 2), (1, 0, 1, 0), (1, 1, 2, 1)]:
            x[n, c, 2 * bh + rng.integers(0, 2), 2 * bw + rng.integers(0, 2)] = np.nan
        check_forward(s, x, pool_param(2, 2, 2), "NaN inside windows")
        check_backward(s, rng, x, pool_param(2, 2, 2), "NaN inside windows")
        x = random_input(rng, (1, 2, 5, 5))
        x[0, 0, rng.integers(1, 4), rng.integers(1, 4)] = np.nan
        check_forward(s, x, pool_param(3, 3, 1), "one NaN shared by overlapping windows")
        x = random_input(rng, (1, 1, 6, 6))
        x[0, 0, rng.integers(0, 3), 3 + rng.integers(0, 3)] = np.nan
        check_backward(s, rng, x, pool_param(3, 3, 3), "NaN in one 3x3 window")
