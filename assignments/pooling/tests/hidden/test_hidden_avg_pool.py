"""Hidden tests: average pooling forward and backward on inputs drawn at grade time."""

import pytest
from pooltools.checks import check_pool_backward, check_pool_forward
from pooltools.inputs import pool_param

from cs231n_pool.grading.checks import batch


@pytest.mark.points(3)
def test_avg_forward(submission, rng):
    configs = [(2, 2, 2, 7, 6), (3, 3, 1, 5, 6), (2, 3, 1, 6, 7), (3, 2, 2, 8, 5), (1, 4, 2, 5, 9)]
    with submission.session() as s:
        for ph, pw, stride, h, w in configs:
            x = rng.standard_normal(batch(rng, h, w))
            check_pool_forward(s, "avg", x, pool_param(ph, pw, stride), "no padding")


@pytest.mark.points(3)
def test_avg_forward_padding_counts_zeros(submission, rng):
    configs = [(3, 3, 1, 1), (2, 2, 2, 1), (3, 2, 2, 1), (4, 4, 3, 2)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            x = rng.uniform(1.0, 2.0, size=batch(rng, 6, 7))
            check_pool_forward(s, "avg", x, pool_param(ph, pw, stride, pad), "padding")


@pytest.mark.points(3)
def test_avg_backward(submission, rng):
    configs = [(2, 2, 2), (3, 3, 1), (2, 3, 1), (3, 2, 2), (4, 2, 3)]
    with submission.session() as s:
        for ph, pw, stride in configs:
            x = rng.standard_normal(batch(rng, 7, 8))
            check_pool_backward(s, "avg", x, pool_param(ph, pw, stride), "no padding", rng.standard_normal)


@pytest.mark.points(3)
def test_avg_backward_padding(submission, rng):
    configs = [(3, 3, 1, 1), (2, 2, 2, 1), (2, 3, 1, 1), (4, 4, 2, 2)]
    with submission.session() as s:
        for ph, pw, stride, pad in configs:
            x = rng.standard_normal(batch(rng, 6, 6))
            check_pool_backward(s, "avg", x, pool_param(ph, pw, stride, pad), "padding", rng.standard_normal)
