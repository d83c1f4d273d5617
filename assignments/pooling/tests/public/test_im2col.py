"""Public tests: im2col_indices and col2im_indices in the CS231n column layout.

cols has shape (C*fh*fw, N*H'*W'); row c*fh*fw + i*fw + j is offset (i, j) of channel c,
column (h'*W' + w')*N + n is window (h', w') of image n. col2im sums overlapping windows.
"""

import numpy as np
import pytest
from pooltools.checks import check_col2im, check_im2col
from pooltools.inputs import spread


def cols_normal(shape):
    """Columns for col2im: deterministic values in (-2, 2)."""
    return spread(shape, seed=2)


@pytest.mark.points(2)
def test_im2col_layout(submission):
    """3x3 input 0..8, 2x2 windows, stride 1: one column per window, one row per window offset."""
    with submission.session() as s:
        x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
        expected = np.array([[0.0, 1.0, 3.0, 4.0], [1.0, 2.0, 4.0, 5.0], [3.0, 4.0, 6.0, 7.0], [4.0, 5.0, 7.0, 8.0]])
        check_im2col(s, x, 2, 2, 0, 1, "3x3 0..8 (rows: offsets, columns: windows)", wanted=expected)
        # Several images and channels: rows run over channels, columns interleave images.
        check_im2col(s, spread((2, 3, 4, 4)), 2, 2, 0, 2)
        check_im2col(s, spread((3, 2, 5, 5)), 3, 3, 1, 2)


@pytest.mark.points(2)
def test_im2col_rectangular_field(submission):
    """field_height != field_width: row index is c*fh*fw + i*fw + j."""
    with submission.session() as s:
        check_im2col(s, spread((2, 2, 4, 5)), 2, 3, 0, 1)
        check_im2col(s, spread((1, 3, 6, 4)), 3, 2, 1, 2)
        check_im2col(s, spread((2, 1, 3, 7)), 1, 4, 0, 1)


@pytest.mark.points(2)
def test_col2im_sums_overlaps(submission):
    """col2im of all-ones columns counts how many windows cover each pixel."""
    with submission.session() as s:
        expected = np.array([[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]])
        check_col2im(
            s, (1, 1, 4, 4), 3, 3, 0, 1, np.ones, "all-ones columns: coverage counts", wanted=expected[None, None]
        )
        check_col2im(s, (2, 3, 5, 5), 3, 3, 1, 1, cols_normal)
        check_col2im(s, (2, 2, 5, 6), 2, 3, 0, 1, cols_normal)
        check_col2im(s, (1, 2, 4, 4), 2, 2, 0, 2, cols_normal)
