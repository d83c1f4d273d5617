"""Hidden tests: max pooling forward and backward on inputs drawn at grade time.

Same skills as the public tests, on more configurations. `rng` is seeded per grading run.
"""

import numpy as np
import pytest
from pooltools.checks import check_pool_backward, check_pool_forward
from pooltools.inputs import pool_param

from cs231n_pool.grading.checks import batch, positive_dout


def random_input(rng, shape):
    """Continuous values: no ties."""
    return rng.standard_normal(shape)


def positive_input(rng, shape):
    """Continuous positive values: no ties, and a zero-padding bug cannot show here."""
    return rng.uniform(1.0, 2.0, size=shape)


@pytest.mark.points(4)
def test_max_forward_output_size(submission, rng):
    """Square windows where the floor in H' = (H + 2*pad - k) // stride + 1 matters."""
    configs = [(5, 7, 2, 2, 0), (7, 6, 3, 2, 0), (10, 8, 3, 3, 0), (6, 9, 2, 3, 1), (8, 7, 3, 2, 1), (5, 5, 5, 1, 0)]
    with submission.session() as s:
        for h, w, k, stride, pad in configs:
            x = positive_input(rng, batch(rng, h, w))
            check_pool_forward(s, "max", x, pool_param(k, k, stride, pad), "output size")


@pytest.mark.points(4)
def test_max_forward_rectangular_window(submission, rng):
    configs = [(2, 3, 1, 0), (3, 2, 2, 0), (1, 3, 1, 0), (4, 2, 2, 1), (2, 5, 3, 0), (3, 4, 1, 1)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            shape = batch(rng, int(rng.integers(ph + 2, ph + 6)), int(rng.integers(pw + 2, pw + 6)))
            x = positive_input(rng, shape)
            check_pool_forward(s, "max", x, pool_param(ph, pw, stride, pad), "rectangular window")


@pytest.mark.points(4)
def test_max_forward_padding_is_minus_inf(submission, rng):
    configs = [(2, 2, 2, 1), (3, 3, 1, 1), (3, 3, 2, 1), (4, 4, 3, 2), (2, 4, 1, 1)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            x = -rng.uniform(1.0, 10.0, size=batch(rng, 6, 7))
            check_pool_forward(s, "max", x, pool_param(ph, pw, stride, pad), "all-negative input with padding")


@pytest.mark.points(3)
def test_max_backward_routes_to_argmax(submission, rng):
    """Windows that do not overlap (stride >= window)."""
    configs = [(2, 2, 2, 8, 8), (3, 3, 3, 9, 7), (2, 3, 3, 6, 9), (2, 2, 3, 7, 7)]
    with submission.session() as s:
        for ph, pw, stride, h, w in configs:
            x = random_input(rng, batch(rng, h, w))
            check_pool_backward(s, "max", x, pool_param(ph, pw, stride), "non-overlapping", positive_dout(rng))


@pytest.mark.points(4)
def test_max_backward_overlapping_windows(submission, rng):
    """stride < window: gradients of windows sharing their maximum add up."""
    configs = [(3, 3, 1, 0), (3, 3, 2, 0), (2, 2, 1, 0), (2, 3, 1, 1), (4, 4, 2, 2)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            x = random_input(rng, batch(rng, 7, 8))
            check_pool_backward(s, "max", x, pool_param(ph, pw, stride, pad), "overlapping windows", positive_dout(rng))


@pytest.mark.points(4)
def test_max_backward_ties_go_to_first_max(submission, rng):
    """Small integer values give many tied maxima; only the first (row-major) gets the gradient.

    Windows do not overlap here, so this test checks the tie rule alone."""
    configs = [(2, 2, 2, 0), (3, 3, 3, 0), (2, 3, 3, 0), (3, 2, 3, 0)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            x = rng.integers(0, 3, size=batch(rng, 6, 6)).astype(np.float64)
            check_pool_backward(s, "max", x, pool_param(ph, pw, stride, pad), "tied maxima", positive_dout(rng))


@pytest.mark.points(3)
def test_max_nan_propagates(submission, rng):
    """One NaN per window at a random place: the output is NaN there and the gradient goes to the NaN."""
    with submission.session() as s:
        x = random_input(rng, (2, 2, 6, 6))
        for n, c, bh, bw in [(0, 0, 0, 1), (0, 1, 2, 2), (1, 0, 1, 0), (1, 1, 2, 1)]:
            x[n, c, 2 * bh + rng.integers(0, 2), 2 * bw + rng.integers(0, 2)] = np.nan
        check_pool_forward(s, "max", x, pool_param(2, 2, 2), "NaN inside windows")
        check_pool_backward(s, "max", x, pool_param(2, 2, 2), "NaN inside windows", positive_dout(rng))
        x = random_input(rng, (1, 2, 5, 5))
        x[0, 0, rng.integers(1, 4), rng.integers(1, 4)] = np.nan
        check_pool_forward(s, "max", x, pool_param(3, 3, 1), "one NaN shared by overlapping windows")
        x = random_input(rng, (1, 1, 6, 6))
        x[0, 0, rng.integers(0, 3), 3 + rng.integers(0, 3)] = np.nan
        check_pool_backward(s, "max", x, pool_param(3, 3, 3), "NaN in one 3x3 window", positive_dout(rng))
