"""Public test: float32 in, float32 out, for every function and the layer."""
import numpy as np
import pytest

from pooltools.checks import assert_float32
from pooltools.inputs import pool_param, spread


@pytest.mark.points(2)
def test_float32_stays_float32(submission):
    """float32 in, float32 out: every function and both methods of Maxpool."""
    x = spread((2, 2, 5, 5), seed=3).astype(np.float32)
    param = pool_param(2, 2, 1, pad=1)
    dout = np.ones((2, 2, 6, 6), dtype=np.float32)
    with submission.session() as s:
        for kind in ("max", "avg"):
            out, cache = s.call(f"{kind}_pool_forward_naive", x, param)
            assert_float32(out, f"{kind}_pool_forward_naive")
            assert_float32(s.call(f"{kind}_pool_backward_naive", dout, cache), f"{kind}_pool_backward_naive")
        cols = s.call("im2col_indices", x, 3, 2, padding=1, stride=1)
        assert_float32(cols, "im2col_indices")
        assert_float32(s.call("col2im_indices", cols, x.shape, 3, 2, padding=1, stride=1), "col2im_indices")
        layer = s.call("Maxpool", 3, stride=2, padding=1)
        out = s.call_method(layer, "forward", x)
        assert_float32(out, "Maxpool.forward")
        assert_float32(s.call_method(layer, "backward", np.ones(out.shape, dtype=np.float32)), "Maxpool.backward")
