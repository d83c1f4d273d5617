"""Hidden tests: the im2col-based Maxpool layer on inputs drawn at grade time."""

import numpy as np
import pytest
from pooltools.checks import check_maxpool_layer

from cs231n_pool.grading.checks import batch, positive_dout


@pytest.mark.points(3)
def test_maxpool_forward_backward(submission, rng):
    configs = [(2, 2, 0), (3, 1, 0), (3, 2, 1), (2, 1, 1), (4, 3, 2)]
    with submission.session() as s:
        for size, stride, padding in configs:
            x = rng.standard_normal(batch(rng, int(rng.integers(5, 9)), int(rng.integers(5, 9)))) - 3.0
            what = f"Maxpool({size}, stride={stride}, padding={padding})"
            check_maxpool_layer(s, x, size, stride, padding, what, positive_dout(rng))


@pytest.mark.points(2)
def test_maxpool_default_stride_is_size(submission, rng):
    with submission.session() as s:
        for size in (2, 3, 4):
            layer = s.call("Maxpool", size)
            x = rng.standard_normal(batch(rng, int(rng.integers(size + 1, 3 * size)), 3 * size))
            check_maxpool_layer(
                s, x, size, size, 0, "no stride given", positive_dout(rng), layer=layer, made=f"Maxpool({size})"
            )


@pytest.mark.points(2)
def test_maxpool_second_forward_replaces_state(submission, rng):
    with submission.session() as s:
        layer = s.call("Maxpool", 2, stride=1)
        shapes = [(2, 3, 6, 4), (2, 3, 6, 4), (1, 1, 5, 5), (1, 2, 3, 7)]
        earlier = []
        for call, shape in enumerate(shapes):
            x = rng.standard_normal(shape)
            check_maxpool_layer(
                s,
                x,
                2,
                1,
                0,
                f"forward call {call + 1}",
                positive_dout(rng),
                layer=layer,
                made="Maxpool(2, stride=1)",
                earlier=earlier,
            )
            earlier.append(x)


@pytest.mark.points(2)
def test_maxpool_ties_and_nan(submission, rng):
    with submission.session() as s:
        layer = s.call("Maxpool", 2, stride=1)
        x = rng.integers(0, 3, size=batch(rng, 6, 6)).astype(np.float64)
        check_maxpool_layer(s, x, 2, 1, 0, "tied maxima", positive_dout(rng), layer=layer, made="Maxpool(2, stride=1)")
        layer = s.call("Maxpool", 2, stride=2)
        x = rng.standard_normal((1, 2, 4, 4))
        x[0, 0, rng.integers(0, 2), rng.integers(0, 2)] = np.nan
        x[0, 1, 2 + rng.integers(0, 2), rng.integers(0, 2)] = np.nan
        check_maxpool_layer(
            s, x, 2, 2, 0, "NaN inside windows", positive_dout(rng), layer=layer, made="Maxpool(2, stride=2)"
        )
