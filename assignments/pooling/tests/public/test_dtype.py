"""Public test: float32 in, float32 out, with the right values, for every function and the layer."""

import numpy as np
import pytest
from pooltools.checks import check_col2im, check_im2col, check_maxpool_layer, check_pool_backward, check_pool_forward
from pooltools.inputs import pool_param, spread


def float32_spread(seed):
    return lambda shape: spread(shape, seed=seed).astype(np.float32)


@pytest.mark.points(2)
def test_float32_stays_float32(submission):
    """float32 in, float32 out (and the right values): every function and both methods of Maxpool."""
    x = spread((2, 2, 5, 5), seed=3).astype(np.float32)
    param = pool_param(2, 2, 1, pad=1)
    with submission.session() as s:
        for kind in ("max", "avg"):
            check_pool_forward(s, kind, x, param, "float32 input")
            check_pool_backward(s, kind, x, param, "float32 input", float32_spread(4))
        check_im2col(s, x, 3, 2, 1, 1, "float32 input")
        check_col2im(s, x.shape, 3, 2, 1, 1, float32_spread(5), "float32 columns", dtype=np.float32)
        check_maxpool_layer(s, x, 3, 2, 1, "float32 input", float32_spread(6))
