"""Public tests: the graded exercises of the notebooks (points: [notebook_exercises] in assignment.toml).

Each runs the exercise's function, taken out of your notebook (pooltools/exercises.py), in a
separate process. A missing notebook scores 0 here and nowhere else.
"""

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
from pooltools.inputs import spread


@pytest.mark.notebook_exercise("output_size")
def test_output_size(exercise):
    """01_pooling_forward.ipynb: output_size in floor and ceil mode, on a grid of sizes, windows, strides, pads."""
    table = expected.value("output_sizes")
    with exercise.session(append=OUTPUT_SIZES) as s:
        check_output_size(s, table[:, :5], table[:, 5], "the grid of notebook 1")


@pytest.mark.notebook_exercise("index_arrays")
def test_index_arrays(exercise):
    """02_im2col.ipynb: index_arrays gathers im2col's columns (square and rectangular windows, padding, stride)."""
    with exercise.session() as s:
        check_index_arrays(s, spread((2, 1, 3, 3)), 2, 2, 0, 1, "3x3 input, 2x2 windows")
        check_index_arrays(s, spread((3, 2, 7, 6)), 3, 2, 1, 2, "3x2 windows, pad 1, stride 2")


@pytest.mark.notebook_exercise("avg_pool_as_conv")
def test_avg_pool_as_conv(exercise):
    """04_avg_pooling.ipynb: the filter of avg_pool_as_conv makes the convolution an average pooling."""
    with exercise.session(append=FILTER_ONLY) as s:
        for k, stride, pad in [(2, 2, 0), (3, 1, 1), (3, 2, 1)]:
            check_average_filter(s, spread((2, 3, 8, 8), seed=8), k, stride, pad, f"{k}x{k} window")


@pytest.mark.notebook_exercise("relu_max")
def test_relu_max(exercise):
    """04_avg_pooling.ipynb: relu_max(a, b) is max(a, b) elementwise, for any signs and for equal values."""
    a = spread((3, 4, 5), seed=10)
    b = spread((3, 4, 5), seed=11)
    b[0] = a[0]
    with exercise.session() as s:
        check_relu_max(s, a, b, "values in (-2, 2), some equal")
        check_relu_max(s, -np.abs(a), -np.abs(b), "negative values")
