"""Public tests: max pooling forward and backward (max_pool_*_naive).

Each test targets one skill; its failure message says which rule was broken.
Expected values were computed with PyTorch's semantics and are stored in pooltools/expected.npz.
"""

import numpy as np
import pytest
from pooltools.checks import check_pool_backward, check_pool_forward
from pooltools.inputs import distinct, pool_param


def dout_distinct(shape):
    """Upstream gradient with distinct values >= 1: a gradient sent to the wrong cell shows."""
    return distinct(shape, offset=1.0)


@pytest.mark.points(2)
def test_max_forward_worked_example(submission):
    """3x3 input 0..8 with a 2x2 window, stride 1 -> [[4, 5], [7, 8]]."""
    with submission.session() as s:
        x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
        check_pool_forward(
            s,
            "max",
            x,
            pool_param(2, 2, 1),
            "3x3 0..8, 2x2 window, stride 1",
            wanted=np.array([[[[4.0, 5.0], [7.0, 8.0]]]]),
        )
        x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
        check_pool_forward(
            s,
            "max",
            x,
            pool_param(2, 2, 2),
            "4x4 0..15, 2x2 window, stride 2",
            wanted=np.array([[[[5.0, 7.0], [13.0, 15.0]]]]),
        )


@pytest.mark.points(2)
def test_max_forward_output_size(submission):
    """Floor mode: H' = (H + 2*pad - pool_height) // stride + 1, windows that do not fit are dropped."""
    with submission.session() as s:
        check_pool_forward(s, "max", distinct((2, 3, 5, 7)), pool_param(2, 2, 2), "5x7 input, 2x2/2 -> 2x3")
        check_pool_forward(s, "max", distinct((1, 2, 7, 7)), pool_param(3, 3, 2), "7x7 input, 3x3/2 -> 3x3")
        check_pool_forward(s, "max", distinct((1, 1, 8, 6)), pool_param(3, 3, 3), "8x6 input, 3x3/3 -> 2x2")
        check_pool_forward(s, "max", distinct((2, 1, 4, 4)), pool_param(4, 4, 1), "4x4 input, 4x4/1 -> 1x1")


@pytest.mark.points(2)
def test_max_forward_rectangular_window(submission):
    """pool_height != pool_width: heights go with H, widths with W."""
    with submission.session() as s:
        check_pool_forward(s, "max", distinct((2, 2, 4, 7)), pool_param(2, 3, 1), "2x3 window")
        check_pool_forward(s, "max", distinct((1, 3, 6, 5)), pool_param(3, 1, 2), "3x1 window")
        check_pool_forward(s, "max", distinct((1, 1, 5, 9)), pool_param(1, 4, 2), "1x4 window")


@pytest.mark.points(2)
def test_max_forward_padding_is_minus_inf(submission):
    """Padding never wins: an all-negative input must not produce 0 at the border."""
    with submission.session() as s:
        x = -1.0 - distinct((1, 2, 4, 4))
        check_pool_forward(s, "max", x, pool_param(2, 2, 2, pad=1), "negative input, 2x2/2, pad 1")
        check_pool_forward(s, "max", x, pool_param(3, 3, 1, pad=1), "negative input, 3x3/1, pad 1")
        x = distinct((2, 1, 5, 6), offset=-100.0)
        check_pool_forward(s, "max", x, pool_param(3, 3, 2, pad=1), "mixed signs, pad 1")


@pytest.mark.points(2)
def test_max_backward_routes_to_argmax(submission):
    """Non-overlapping windows: each window's gradient goes to its maximum, all else gets 0."""
    with submission.session() as s:
        check_pool_backward(s, "max", distinct((2, 3, 4, 4)), pool_param(2, 2, 2), "2x2/2", dout_distinct)
        check_pool_backward(s, "max", distinct((1, 2, 6, 6)), pool_param(3, 3, 3), "3x3/3", dout_distinct)
        check_pool_backward(s, "max", distinct((1, 2, 4, 6)), pool_param(2, 3, 2), "2x3/2", dout_distinct)


@pytest.mark.points(3)
def test_max_backward_overlapping_windows(submission):
    """stride < window: an element that is the max of several windows receives the SUM of their gradients."""
    with submission.session() as s:
        check_pool_backward(s, "max", distinct((1, 2, 5, 5)), pool_param(3, 3, 1), "3x3/1", dout_distinct)
        check_pool_backward(s, "max", distinct((2, 1, 7, 7)), pool_param(3, 3, 2), "3x3/2", dout_distinct)
        check_pool_backward(s, "max", distinct((1, 2, 5, 6)), pool_param(3, 3, 2, pad=1), "3x3/2, pad 1", dout_distinct)
        x = np.zeros((1, 1, 3, 3))
        x[0, 0, 1, 1] = 1.0  # the centre is the max of all four 2x2 windows
        check_pool_backward(s, "max", x, pool_param(2, 2, 1), "centre shared by 4 windows", np.ones)


@pytest.mark.points(2)
def test_max_backward_ties_go_to_first_max(submission):
    """A window with several equal maxima sends its whole gradient to the first one (row-major).

    Windows do not overlap here, so this test checks the tie rule alone."""
    with submission.session() as s:
        check_pool_backward(
            s, "max", np.zeros((1, 1, 4, 4)), pool_param(2, 2, 2), "constant input, 2x2/2", dout_distinct
        )
        check_pool_backward(
            s, "max", np.full((1, 2, 6, 5), 3.0), pool_param(3, 2, 3), "constant input, 3x2/3", dout_distinct
        )
        x = np.array([[[[1.0, 2.0, 2.0, 0.0], [2.0, 0.0, 1.0, 2.0], [5.0, 5.0, 1.0, 1.0], [5.0, 5.0, 1.0, 1.0]]]])
        check_pool_backward(s, "max", x, pool_param(2, 2, 2), "plateaus", dout_distinct)


@pytest.mark.points(2)
def test_max_nan_propagates(submission):
    """A window holding NaN outputs NaN and sends its gradient to the NaN."""
    with submission.session() as s:
        x = distinct((1, 1, 4, 4))
        x[0, 0, 0, 1] = np.nan
        x[0, 0, 3, 3] = np.nan
        check_pool_forward(s, "max", x, pool_param(2, 2, 2), "NaN in two windows, 2x2/2")
        check_pool_backward(s, "max", x, pool_param(2, 2, 2), "NaN in two windows, 2x2/2", dout_distinct)
        x = distinct((1, 2, 3, 3))
        x[0, 1, 1, 1] = np.nan
        check_pool_forward(s, "max", x, pool_param(2, 2, 1), "NaN in every window, 2x2/1")
