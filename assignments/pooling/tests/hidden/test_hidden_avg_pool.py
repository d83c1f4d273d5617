"""Hidden tests: average pooling forward and backward on inputs drawn at grade time."""
import numpy as np
import pytest

from cs231n_pool.naive import avg_pool_backward_naive as ref_backward
from cs231n_pool.naive import avg_pool_forward_naive as ref_forward


def pool_param(ph, pw, stride, pad=0):
    return {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def assert_array(actual, expected, what):
    assert isinstance(actual, np.ndarray), f"{what}: expected a numpy array, got {type(actual).__name__}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, expected {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-12, err_msg=what)


def batch(rng, h, w):
    return (int(rng.integers(1, 3)), int(rng.integers(1, 4)), h, w)


def check_forward(s, x, param, what):
    out, _ = s.call("avg_pool_forward_naive", x, param)
    assert_array(out, ref_forward(x, param)[0], f"{what}: avg_pool_forward_naive, x.shape={x.shape}, {param}")


def check_backward(s, rng, x, param, what):
    expected_out, ref_cache = ref_forward(x, param)
    dout = rng.standard_normal(expected_out.shape)
    _, cache = s.call("avg_pool_forward_naive", x, param)
    dx = s.call("avg_pool_backward_naive", dout, cache)
    assert_array(dx, ref_backward(dout, ref_cache), f"{what}: avg_pool_backward_naive, x.shape={x.shape}, {param}")


@pytest.mark.points(3)
def test_avg_forward(submission, rng):
    configs = [(2, 2, 2, 7, 6), (3, 3, 1, 5, 6), (2, 3, 1, 6, 7), (3, 2, 2, 8, 5), (1, 4, 2, 5, 9)]
    with submission.session() as s:
        for ph, pw, stride, h, w in configs:
            check_forward(s, rng.standard_normal(batch(rng, h, w)), pool_param(ph, pw, stride), "no padding")


@pytest.mark.points(3)
def test_avg_forward_padding_counts_zeros(submission, rng):
    configs = [(3, 3, 1, 1), (2, 2, 2, 1), (3, 2, 2, 1), (4, 4, 3, 2)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            check_forward(s, rng.uniform(1.0, 2.0, size=batch(rng, 6, 7)), pool_param(ph, pw, stride, pad), "padding")


@pytest.mark.points(3)
def test_avg_backward(submission, rng):
    configs = [(2, 2, 2), (3, 3, 1), (2, 3, 1), (3, 2, 2), (4, 2, 3)]
    with submission.session() as s:
        for ph, pw, stride in configs:
            check_backward(s, rng, rng.standard_normal(batch(rng, 7, 8)), pool_param(ph, pw, stride), "no padding")


@pytest.mark.points(3)
def test_avg_backward_padding(submission, rng):
    configs = [(3, 3, 1, 1), (2, 2, 2, 1), (2, 3, 1, 1), (4, 4, 2, 2)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            check_backward(s, rng, rng.standard_normal(batch(rng, 6, 6)), pool_param(ph, pw, stride, pad), "padding")
