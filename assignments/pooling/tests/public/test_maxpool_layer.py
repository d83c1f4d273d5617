"""Public tests: the im2col-based Maxpool layer (forward, backward, stored indices)."""
import numpy as np
import pytest

from cs231n_pool.im2col import im2col_indices as ref_im2col
from cs231n_pool.naive import max_pool_backward_naive as ref_backward
from cs231n_pool.naive import max_pool_forward_naive as ref_forward


def distinct(shape, offset=0.0):
    values = np.random.default_rng(sum(shape)).permutation(int(np.prod(shape)))
    return values.reshape(shape).astype(np.float64) + offset


def assert_array(actual, expected, what):
    assert isinstance(actual, np.ndarray), f"{what}: expected a numpy array, got {type(actual).__name__}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype}, expected {expected.dtype}"
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-12, equal_nan=True, err_msg=what)


def reference(x, size, stride, padding, dout_seed=1):
    param = {"pool_height": size, "pool_width": size, "stride": stride, "pad": padding}
    out, cache = ref_forward(x, param)
    dout = np.random.default_rng(dout_seed).standard_normal(out.shape)
    return out, dout, ref_backward(dout, cache)


def check_layer(s, x, size, stride, padding, what, layer=None):
    if layer is None:
        layer = s.call("Maxpool", size, stride=stride, padding=padding)
    out, dout, dx = reference(x, size, size if stride is None else stride, padding)
    assert_array(s.call_method(layer, "forward", x), out, f"{what}: Maxpool.forward")
    assert_array(s.call_method(layer, "backward", dout), dx, f"{what}: Maxpool.backward")


@pytest.mark.points(2)
def test_maxpool_forward_backward(submission):
    """Maxpool(size, stride, padding) matches max pooling, including overlaps and -inf padding."""
    with submission.session() as s:
        check_layer(s, distinct((2, 3, 4, 4)), 2, 2, 0, "Maxpool(2, stride=2)")
        check_layer(s, distinct((1, 2, 5, 7)), 3, 1, 0, "Maxpool(3, stride=1)")
        check_layer(s, distinct((2, 2, 5, 5), offset=-100.0), 3, 2, 1, "Maxpool(3, stride=2, padding=1)")


@pytest.mark.points(2)
def test_maxpool_default_stride_is_size(submission):
    """Maxpool(size) without a stride uses stride = size: windows tile the input."""
    with submission.session() as s:
        for size, shape in ((2, (1, 2, 4, 4)), (3, (2, 1, 6, 7))):
            layer = s.call("Maxpool", size)
            check_layer(s, distinct(shape), size, None, 0, f"Maxpool({size}) on {shape}", layer=layer)


@pytest.mark.points(2)
def test_maxpool_second_forward_replaces_state(submission):
    """backward after two forward calls belongs to the second one (fresh indices and shape)."""
    with submission.session() as s:
        layer = s.call("Maxpool", 2, stride=2)
        s.call_method(layer, "forward", distinct((1, 1, 4, 4)))
        check_layer(s, distinct((2, 3, 6, 4), offset=7.0)[..., ::-1].copy(), 2, 2, 0,
                    "second forward with a new input and shape", layer=layer)
        s.call_method(layer, "forward", distinct((2, 3, 6, 4)))
        check_layer(s, -distinct((2, 3, 6, 4)), 2, 2, 0, "third forward, same shape, new values", layer=layer)


@pytest.mark.points(1)
def test_maxpool_keeps_max_idx(submission):
    """After forward, self.max_idx holds one row index (i*size + j) per window, in im2col column order."""
    with submission.session() as s:
        x = distinct((2, 3, 4, 6))
        layer = s.call("Maxpool", 2, stride=2)
        s.call_method(layer, "forward", x)
        max_idx = s.getattr(layer, "max_idx")
        cols = ref_im2col(x.reshape(6, 1, 4, 6), 2, 2, padding=0, stride=2)
        expected = np.argmax(cols, axis=0)
        assert isinstance(max_idx, np.ndarray), f"Maxpool.max_idx: expected an integer array, got {type(max_idx).__name__}"
        assert max_idx.dtype.kind in "iu", f"Maxpool.max_idx: dtype {max_idx.dtype}, expected an integer dtype"
        assert max_idx.shape == expected.shape, f"Maxpool.max_idx: shape {max_idx.shape}, expected {expected.shape}"
        np.testing.assert_array_equal(max_idx, expected, err_msg="Maxpool.max_idx")
