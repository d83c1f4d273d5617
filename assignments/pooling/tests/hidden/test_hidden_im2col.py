"""Hidden tests: im2col_indices / col2im_indices on inputs drawn at grade time."""
import numpy as np
import pytest

from cs231n_pool.im2col import col2im_indices as ref_col2im
from cs231n_pool.im2col import im2col_indices as ref_im2col


def assert_array(actual, expected, what):
    assert isinstance(actual, np.ndarray), f"{what}: expected a numpy array, got {type(actual).__name__}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, expected {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-12, err_msg=what)


def batch(rng, h, w):
    return (int(rng.integers(2, 4)), int(rng.integers(1, 4)), h, w)


def check_im2col(s, rng, shape, fh, fw, padding, stride):
    x = rng.standard_normal(shape)
    what = f"im2col_indices(x of shape {shape}, {fh}, {fw}, padding={padding}, stride={stride})"
    cols = s.call("im2col_indices", x, fh, fw, padding=padding, stride=stride)
    assert_array(cols, ref_im2col(x, fh, fw, padding=padding, stride=stride), what)


def check_col2im(s, rng, shape, fh, fw, padding, stride):
    cols = rng.standard_normal(ref_im2col(np.zeros(shape), fh, fw, padding=padding, stride=stride).shape)
    what = f"col2im_indices(cols, {shape}, {fh}, {fw}, padding={padding}, stride={stride})"
    x = s.call("col2im_indices", cols, shape, fh, fw, padding=padding, stride=stride)
    assert_array(x, ref_col2im(cols, shape, fh, fw, padding=padding, stride=stride), what)


@pytest.mark.points(3)
def test_im2col_square_field(submission, rng):
    configs = [(3, 1, 0, 5, 6), (2, 2, 0, 6, 6), (3, 2, 1, 7, 5), (5, 1, 2, 6, 6), (1, 1, 0, 3, 4)]
    with submission.session() as s:
        for f, stride, padding, h, w in configs:
            check_im2col(s, rng, batch(rng, h, w), f, f, padding, stride)


@pytest.mark.points(3)
def test_im2col_rectangular_field(submission, rng):
    configs = [(2, 3, 1, 0), (3, 2, 1, 1), (1, 4, 2, 0), (4, 3, 2, 1), (2, 5, 1, 2)]
    with submission.session() as s:
        for fh, fw, stride, padding in configs:
            check_im2col(s, rng, batch(rng, 7, 8), fh, fw, padding, stride)


@pytest.mark.points(3)
def test_col2im_sums_overlaps(submission, rng):
    configs = [(3, 3, 1, 0), (3, 3, 2, 1), (2, 3, 1, 0), (3, 2, 1, 1), (2, 2, 2, 0)]
    with submission.session() as s:
        for fh, fw, stride, padding in configs:
            check_col2im(s, rng, batch(rng, 6, 7), fh, fw, padding, stride)
