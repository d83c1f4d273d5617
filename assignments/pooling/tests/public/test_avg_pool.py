"""Public tests: average pooling forward and backward (avg_pool_*_naive).

Padding is zero and counts: every window is divided by pool_height * pool_width.
"""
import numpy as np
import pytest

from cs231n_pool.naive import avg_pool_backward_naive as ref_backward
from cs231n_pool.naive import avg_pool_forward_naive as ref_forward


def pool_param(ph, pw, stride, pad=0):
    return {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def values(shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


def assert_array(actual, expected, what):
    assert isinstance(actual, np.ndarray), f"{what}: expected a numpy array, got {type(actual).__name__}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, expected {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-12, err_msg=what)


def check_forward(s, x, param, what):
    out, _ = s.call("avg_pool_forward_naive", x, param)
    assert_array(out, ref_forward(x, param)[0], f"{what}: avg_pool_forward_naive with {param}")


def check_backward(s, x, param, what):
    expected_out, ref_cache = ref_forward(x, param)
    dout = values(expected_out.shape, seed=1)
    _, cache = s.call("avg_pool_forward_naive", x, param)
    dx = s.call("avg_pool_backward_naive", dout, cache)
    assert_array(dx, ref_backward(dout, ref_cache), f"{what}: dx of avg_pool_backward_naive with {param}")


@pytest.mark.points(2)
def test_avg_forward(submission):
    """3x3 input 0..8, 2x2 window, stride 1 -> [[2, 3], [5, 6]]; then rectangular windows and floor mode."""
    with submission.session() as s:
        x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
        out, _ = s.call("avg_pool_forward_naive", x, pool_param(2, 2, 1))
        assert_array(out, np.array([[[[2.0, 3.0], [5.0, 6.0]]]]), "3x3 0..8, 2x2 window, stride 1")
        check_forward(s, values((2, 3, 5, 7)), pool_param(2, 2, 2), "5x7 input, 2x2/2")
        check_forward(s, values((1, 2, 4, 7)), pool_param(2, 3, 1), "2x3 window")
        check_forward(s, values((1, 2, 7, 4)), pool_param(3, 2, 2), "3x2 window")


@pytest.mark.points(2)
def test_avg_forward_padding_counts_zeros(submission):
    """ones(3x3), 3x3 window, stride 1, pad 1 -> corners 4/9, edges 6/9, centre 1."""
    with submission.session() as s:
        out, _ = s.call("avg_pool_forward_naive", np.ones((1, 1, 3, 3)), pool_param(3, 3, 1, pad=1))
        expected = np.array([[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]) / 9.0
        assert_array(out, expected[None, None], "ones(3x3), 3x3/1, pad 1")
        check_forward(s, values((2, 2, 5, 6)), pool_param(2, 2, 2, pad=1), "2x2/2, pad 1")


@pytest.mark.points(2)
def test_avg_backward(submission):
    """Each window adds dout / (pool_height*pool_width) to each of its elements; overlaps add up."""
    with submission.session() as s:
        check_backward(s, values((2, 3, 4, 4)), pool_param(2, 2, 2), "2x2/2")
        check_backward(s, values((1, 2, 5, 5)), pool_param(3, 3, 1), "3x3/1 (overlapping)")
        check_backward(s, values((1, 2, 5, 8)), pool_param(2, 3, 1), "2x3/1 (overlapping)")


@pytest.mark.points(2)
def test_avg_backward_padding(submission):
    """With padding the divisor is still pool_height*pool_width; padding gets no gradient."""
    with submission.session() as s:
        check_backward(s, values((1, 2, 4, 4)), pool_param(3, 3, 1, pad=1), "3x3/1, pad 1")
        check_backward(s, values((2, 1, 5, 6)), pool_param(2, 2, 2, pad=1), "2x2/2, pad 1")
