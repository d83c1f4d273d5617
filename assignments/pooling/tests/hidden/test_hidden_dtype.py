"""Hidden test: float32 in, float32 out, on configurations drawn at grade time."""
import numpy as np
import pytest


def assert_float32(value, what):
    assert isinstance(value, np.ndarray), f"{what}: expected a numpy array, got {type(value).__name__}"
    assert value.dtype == np.float32, f"{what}: float32 input gave dtype {value.dtype}; keep the input's dtype"


@pytest.mark.points(4)
def test_float32_stays_float32(submission, rng):
    with submission.session() as s:
        for ph, pw, stride, pad in [(2, 3, 1, 1), (3, 3, 2, 0)]:
            x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
            param = {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}
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
