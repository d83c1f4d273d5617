"""Hidden tests: the im2col-based Maxpool layer on inputs drawn at grade time."""
import numpy as np
import pytest

from cs231n_pool.naive import max_pool_backward_naive as ref_backward
from cs231n_pool.naive import max_pool_forward_naive as ref_forward


def assert_array(actual, expected, what):
    assert isinstance(actual, np.ndarray), f"{what}: expected a numpy array, got {type(actual).__name__}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, expected {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-12, equal_nan=True, err_msg=what)


def batch(rng, h, w):
    return (int(rng.integers(1, 3)), int(rng.integers(1, 4)), h, w)


def check_layer(s, rng, layer, x, size, stride, padding, what):
    param = {"pool_height": size, "pool_width": size, "stride": stride, "pad": padding}
    out, cache = ref_forward(x, param)
    dout = rng.uniform(0.5, 2.0, size=out.shape)
    what = f"{what}, x.shape={x.shape}"
    assert_array(s.call_method(layer, "forward", x), out, f"{what}: Maxpool.forward")
    assert_array(s.call_method(layer, "backward", dout), ref_backward(dout, cache), f"{what}: Maxpool.backward")


@pytest.mark.points(3)
def test_maxpool_forward_backward(submission, rng):
    configs = [(2, 2, 0), (3, 1, 0), (3, 2, 1), (2, 1, 1), (4, 3, 2)]
    with submission.session() as s:
        for size, stride, padding in configs:
            layer = s.call("Maxpool", size, stride=stride, padding=padding)
            x = rng.standard_normal(batch(rng, int(rng.integers(5, 9)), int(rng.integers(5, 9)))) - 3.0
            check_layer(s, rng, layer, x, size, stride, padding, f"Maxpool({size}, stride={stride}, padding={padding})")


@pytest.mark.points(2)
def test_maxpool_default_stride_is_size(submission, rng):
    with submission.session() as s:
        for size in (2, 3, 4):
            layer = s.call("Maxpool", size)
            x = rng.standard_normal(batch(rng, int(rng.integers(size + 1, 3 * size)), 3 * size))
            check_layer(s, rng, layer, x, size, size, 0, f"Maxpool({size})")


@pytest.mark.points(2)
def test_maxpool_second_forward_replaces_state(submission, rng):
    with submission.session() as s:
        layer = s.call("Maxpool", 2, stride=1)
        shapes = [(1, 1, 5, 5), (2, 3, 6, 4), (2, 3, 6, 4), (1, 2, 3, 7)]
        for call, shape in enumerate(shapes):
            check_layer(s, rng, layer, rng.standard_normal(shape), 2, 1, 0, f"forward call {call + 1}")


@pytest.mark.points(2)
def test_maxpool_ties_and_nan(submission, rng):
    with submission.session() as s:
        layer = s.call("Maxpool", 2, stride=1)
        x = rng.integers(0, 3, size=batch(rng, 6, 6)).astype(np.float64)
        check_layer(s, rng, layer, x, 2, 1, 0, "tied maxima")
        layer = s.call("Maxpool", 2, stride=2)
        x = rng.standard_normal((1, 2, 4, 4))
        x[0, 0, rng.integers(0, 2), rng.integers(0, 2)] = np.nan
        x[0, 1, 2 + rng.integers(0, 2), rng.integers(0, 2)] = np.nan
        check_layer(s, rng, layer, x, 2, 2, 0, "NaN inside windows")
