"""Public tests: the im2col-based Maxpool layer (forward, backward, stored indices)."""

import numpy as np
import pytest
from pooltools import expected
from pooltools.checks import Call, assert_equal_ints, check_maxpool_layer
from pooltools.inputs import distinct, spread


def dout_normal(shape):
    """Upstream gradient: deterministic values in (-2, 2)."""
    return spread(shape, seed=1)


@pytest.mark.points(2)
def test_maxpool_forward_backward(submission):
    """Maxpool(size, stride, padding) matches max pooling, including overlaps and -inf padding."""
    with submission.session() as s:
        check_maxpool_layer(s, distinct((2, 3, 4, 4)), 2, 2, 0, "Maxpool(2, stride=2)", dout_normal)
        check_maxpool_layer(s, distinct((1, 2, 5, 7)), 3, 1, 0, "Maxpool(3, stride=1)", dout_normal)
        check_maxpool_layer(
            s, distinct((2, 2, 5, 5), offset=-100.0), 3, 2, 1, "Maxpool(3, stride=2, padding=1)", dout_normal
        )


@pytest.mark.points(2)
def test_maxpool_default_stride_is_size(submission):
    """Maxpool(size) without a stride uses stride = size: windows tile the input."""
    with submission.session() as s:
        for size, shape in ((2, (1, 2, 4, 4)), (3, (2, 1, 6, 7))):
            layer = s.call("Maxpool", size)
            check_maxpool_layer(
                s, distinct(shape), size, size, 0, "no stride given", dout_normal, layer=layer, made=f"Maxpool({size})"
            )


@pytest.mark.points(2)
def test_maxpool_second_forward_replaces_state(submission):
    """backward after two forward calls belongs to the second one (fresh indices and shape)."""
    with submission.session() as s:
        layer = s.call("Maxpool", 2, stride=2)
        first = distinct((2, 3, 6, 4))
        s.call_method(layer, "forward", first)
        check_maxpool_layer(
            s,
            -distinct((2, 3, 6, 4)),
            2,
            2,
            0,
            "second forward, same shape, new values",
            dout_normal,
            layer=layer,
            made="Maxpool(2, stride=2)",
            earlier=[first],
        )
        check_maxpool_layer(
            s,
            distinct((1, 1, 4, 4), offset=7.0)[..., ::-1].copy(),
            2,
            2,
            0,
            "third forward, a new shape",
            dout_normal,
            layer=layer,
            made="Maxpool(2, stride=2)",
            earlier=[first, -distinct((2, 3, 6, 4))],
        )


@pytest.mark.points(1)
def test_maxpool_keeps_max_idx(submission):
    """After forward, self.max_idx holds one row index (i*size + j) per window, in im2col column order."""
    with submission.session() as s:
        x = distinct((2, 3, 4, 6))
        layer = s.call("Maxpool", 2, stride=2)
        s.call_method(layer, "forward", x)
        wanted = np.argmax(expected.value("im2col", x.reshape(6, 1, 4, 6), 2, 2, 0, 2), axis=0)
        assert_equal_ints(
            s.getattr(layer, "max_idx"),
            wanted,
            "one row index per window",
            Call(f"Maxpool(2, stride=2).max_idx after forward(x), x shape {x.shape} float64"),
        )
