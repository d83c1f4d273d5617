"""Hidden tests: the graded notebook exercises on inputs drawn at grade time."""

import numpy as np
import pytest
from pooltools import expected
from pooltools.checks import (
    FILTER_ONLY,
    OUTPUT_SIZES,
    check_average_filter,
    check_index_arrays,
    check_output_size,
    check_relu_max,
)

from cs231n_pool.grading.checks import batch


@pytest.mark.notebook_exercise("output_size")
def test_output_size(exercise, rng):
    rows = []
    while len(rows) < 200:
        kernel = int(rng.integers(1, 7))
        row = (
            int(rng.integers(1, 41)),
            kernel,
            int(rng.integers(1, 6)),
            int(rng.integers(0, kernel // 2 + 1)),
            int(rng.integers(0, 2)),
        )
        if row[0] + 2 * row[3] >= kernel:
            rows.append(row)
    rows = np.array(rows, dtype=np.int64)
    with exercise.session(append=OUTPUT_SIZES) as s:
        check_output_size(s, rows, expected.value("output_size", rows), "sizes drawn at random")


@pytest.mark.notebook_exercise("index_arrays")
def test_index_arrays(exercise, rng):
    configs = [(3, 3, 1, 1), (2, 3, 0, 1), (3, 2, 1, 2), (4, 4, 2, 3), (1, 5, 0, 2)]
    with exercise.session() as s:
        for fh, fw, padding, stride in configs:
            x = rng.standard_normal(batch(rng, 7, 9, images=(2, 4)))
            check_index_arrays(s, x, fh, fw, padding, stride, "random input")


@pytest.mark.notebook_exercise("avg_pool_as_conv")
def test_avg_pool_as_conv(exercise, rng):
    with exercise.session(append=FILTER_ONLY) as s:
        for k, stride, pad in [(2, 1, 0), (4, 2, 1), (5, 3, 2)]:
            check_average_filter(s, rng.standard_normal(batch(rng, 9, 10)), k, stride, pad, "random input")


@pytest.mark.notebook_exercise("relu_max")
def test_relu_max(exercise, rng):
    with exercise.session() as s:
        a = rng.standard_normal((4, 6, 7)) * 10
        b = rng.standard_normal((4, 6, 7)) * 10
        b[1] = a[1]
        check_relu_max(s, a, b, "random values, some equal")
