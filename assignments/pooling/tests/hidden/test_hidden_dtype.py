"""Hidden test: float32 in, float32 out (with the right values), on configurations drawn at grade time."""

import numpy as np
import pytest
from pooltools.checks import check_col2im, check_im2col, check_maxpool_layer, check_pool_backward, check_pool_forward
from pooltools.inputs import pool_param


@pytest.mark.points(4)
def test_float32_stays_float32(submission, rng):
    def draw(shape):
        return rng.standard_normal(shape).astype(np.float32)

    with submission.session() as s:
        for ph, pw, stride, pad in [(2, 3, 1, 1), (3, 3, 2, 0)]:
            x = draw((2, 3, 7, 6))
            param = pool_param(ph, pw, stride, pad)
            for kind in ("max", "avg"):
                check_pool_forward(s, kind, x, param, "float32 input")
                check_pool_backward(s, kind, x, param, "float32 input", draw)
            check_im2col(s, x, ph, pw, pad, stride, "float32 input")
            check_col2im(s, x.shape, ph, pw, pad, stride, draw, "float32 columns", dtype=np.float32)
            check_maxpool_layer(s, x, pw, stride, pad, "float32 input", draw)
