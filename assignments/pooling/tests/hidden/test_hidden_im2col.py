"""Hidden tests: im2col_indices / col2im_indices on inputs drawn at grade time."""

import pytest
from pooltools.checks import check_col2im, check_im2col

from cs231n_pool.grading.checks import batch

IMAGES = (2, 4)  # N in 2..3: columns interleave the images, so N = 1 cannot show a wrong order


@pytest.mark.points(3)
def test_im2col_square_field(submission, rng):
    configs = [(3, 1, 0, 5, 6), (2, 2, 0, 6, 6), (3, 2, 1, 7, 5), (5, 1, 2, 6, 6), (1, 1, 0, 3, 4)]
    with submission.session() as s:
        for f, stride, padding, h, w in configs:
            check_im2col(s, rng.standard_normal(batch(rng, h, w, IMAGES)), f, f, padding, stride)


@pytest.mark.points(3)
def test_im2col_rectangular_field(submission, rng):
    configs = [(2, 3, 1, 0), (3, 2, 1, 1), (1, 4, 2, 0), (4, 3, 2, 1), (2, 5, 1, 2)]
    with submission.session() as s:
        for fh, fw, stride, padding in configs:
            check_im2col(s, rng.standard_normal(batch(rng, 7, 8, IMAGES)), fh, fw, padding, stride)


@pytest.mark.points(3)
def test_col2im_sums_overlaps(submission, rng):
    configs = [(3, 3, 1, 0), (3, 3, 2, 1), (2, 3, 1, 0), (3, 2, 1, 1), (2, 2, 2, 0)]
    with submission.session() as s:
        for fh, fw, stride, padding in configs:
            check_col2im(s, batch(rng, 6, 7, IMAGES), fh, fw, padding, stride, rng.standard_normal)
