"""Hidden test: float32 in, float32 out, on configurations drawn at grade time."""
import numpy as np
import pytest

from pooltools.checks import assert_float32
from pooltools.inputs import pool_param


@pytest.mark.points(4)
def test_float32_stays_float32(submission, rng):
    with submission.session() as s:
        for ph, pw, stride, pad in [(2, 3, 1, 1), (3, 3, 2, 0)]:
            x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
            param = pool_param(ph, pw, stride, pad)
            for kind in ("max", "avg"):
                out, cache = s.call(f"{kind}_pool_forward_naive", x, param)
                assert_float32(out, f"{kind}_pool_forward_naive with {param}")
                dout = rng.standard_normal(out.shape).astype(np.float32)
                assert_float32(s.call(f"{kind}_pool_backward_naive", dout, cache), f"{kind}_pool_backward_naive with {param}")
            cols = s.call("im2col_indices", x, ph, pw, padding=pad, stride=stride)
            assert_float32(cols, "im2col_indices")
            assert_float32(s.call("col2im_indices", cols, x.shape, ph, pw, padding=pad, stride=stride), "col2im_indices")
            layer = s.call("Maxpool", pw, stride=stride, padding=pad)
            out = s.call_method(layer, "forward", x)
            assert_float32(out, "Maxpool.forward")
            dout = rng.standard_normal(out.shape).astype(np.float32)
            assert_float32(s.call_method(layer, "backward", dout), "Maxpool.backward")
