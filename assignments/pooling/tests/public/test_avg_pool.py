"""Public tests: average pooling forward and backward (avg_pool_*_naive).

Padding is zero and counts: every window is divided by pool_height * pool_width.
"""

import numpy as np
import pytest
from pooltools.checks import check_pool_backward, check_pool_forward
from pooltools.inputs import pool_param, spread


def dout_normal(shape):
    """Upstream gradient: deterministic values in (-2, 2)."""
    return spread(shape, seed=1)


@pytest.mark.points(2)
def test_avg_forward(submission):
    """3x3 input 0..8, 2x2 window, stride 1 -> [[2, 3], [5, 6]]; then rectangular windows and floor mode."""
    with submission.session() as s:
        x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
        check_pool_forward(
            s,
            "avg",
            x,
            pool_param(2, 2, 1),
            "3x3 0..8, 2x2 window, stride 1",
            wanted=np.array([[[[2.0, 3.0], [5.0, 6.0]]]]),
        )
        check_pool_forward(s, "avg", spread((2, 3, 5, 7)), pool_param(2, 2, 2), "5x7 input, 2x2/2")
        check_pool_forward(s, "avg", spread((1, 2, 4, 7)), pool_param(2, 3, 1), "2x3 window")
        check_pool_forward(s, "avg", spread((1, 2, 7, 4)), pool_param(3, 2, 2), "3x2 window")


@pytest.mark.points(2)
def test_avg_forward_padding_counts_zeros(submission):
    """ones(3x3), 3x3 window, stride 1, pad 1 -> corners 4/9, edges 6/9, centre 1."""
    with submission.session() as s:
        expected = np.array([[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]) / 9.0
        check_pool_forward(
            s,
            "avg",
            np.ones((1, 1, 3, 3)),
            pool_param(3, 3, 1, pad=1),
            "ones(3x3), 3x3/1, pad 1",
            wanted=expected[None, None],
        )
        check_pool_forward(s, "avg", spread((2, 2, 5, 6)), pool_param(2, 2, 2, pad=1), "2x2/2, pad 1")


@pytest.mark.points(2)
def test_avg_backward(submission):
    """Each window adds dout / (pool_height*pool_width) to each of its elements; overlaps add up."""
    with submission.session() as s:
        check_pool_backward(s, "avg", spread((2, 3, 4, 4)), pool_param(2, 2, 2), "2x2/2", dout_normal)
        check_pool_backward(s, "avg", spread((1, 2, 5, 5)), pool_param(3, 3, 1), "3x3/1 (overlapping)", dout_normal)
        check_pool_backward(s, "avg", spread((1, 2, 5, 8)), pool_param(2, 3, 1), "2x3/1 (overlapping)", dout_normal)


@pytest.mark.points(2)
def test_avg_backward_padding(submission):
    """With padding the divisor is still pool_height*pool_width; padding gets no gradient."""
    with submission.session() as s:
        check_pool_backward(s, "avg", spread((1, 2, 4, 4)), pool_param(3, 3, 1, pad=1), "3x3/1, pad 1", dout_normal)
        check_pool_backward(s, "avg", spread((2, 1, 5, 6)), pool_param(2, 2, 2, pad=1), "2x2/2, pad 1", dout_normal)
