"""Layer behaviour: defaults, state between forward and backward, dtype, batching, memory order."""

import numpy as np
import pytest
from helpers import METHODS, distinct_values, normal_values

from cs231n_pool import functional as fn
from cs231n_pool import layers, ops
from cs231n_pool.geometry import pool_geometry
from cs231n_pool.im2col import im2col_geometry

pytestmark = pytest.mark.usefixtures("single_thread_direct")

X = distinct_values((2, 3, 7, 6), np.float64)


def all_layers(method="im2col"):
    return [
        layers.Maxpool(3, 2, 1, method=method),
        layers.Maxpool((3, 2), (2, 1), 1, 2, True, method=method),
        layers.Avgpool(3, 2, 1, True, False, method=method),
        layers.Avgpool((2, 3), 1, (1, 1), method=method),
        layers.AdaptiveMaxpool((4, 5)),
        layers.AdaptiveAvgpool((3, None)),
        layers.GlobalMaxpool(),
        layers.GlobalAvgpool(),
    ]


LAYER_CASES = [(m, i) for m in METHODS for i in range(len(all_layers()))]


def layer_case(method, i):
    return all_layers(method)[i]


def run(layer, x, dout_seed=1):
    out = layer.forward(x)
    dout = normal_values(out.shape, out.dtype, dout_seed)
    return out, layer.backward(dout)


@pytest.mark.parametrize("method", METHODS)
def test_maxpool_stride_defaults_to_size(method):
    assert layers.Maxpool(2, method=method).forward(X).shape == (2, 3, 3, 3)
    assert layers.Maxpool((3, 2), method=method).forward(X).shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(
        layers.Maxpool((3, 2), method=method).forward(X), layers.Maxpool((3, 2), (3, 2), method=method).forward(X)
    )
    assert layers.Avgpool(3, method=method).forward(X).shape == (2, 3, 2, 2)


@pytest.mark.parametrize("method", METHODS)
def test_second_forward_refreshes_indices_and_state(method):
    layer = layers.Maxpool(2, method=method)
    layer.forward(X)
    first = layer.indices.copy()
    y = distinct_values((1, 2, 4, 4), np.float64, seed=3)
    out = layer.forward(y)
    assert layer.indices.shape == out.shape == (1, 2, 2, 2) and layer.max_idx.shape == (8,)
    assert first.shape != layer.indices.shape
    _, expected_idx = fn.max_pool2d(y, 2, return_indices=True)
    np.testing.assert_array_equal(layer.indices, expected_idx)
    dx = layer.backward(np.ones(out.shape))
    assert dx.shape == y.shape and dx.sum() == 8
    with pytest.raises(ValueError, match="dout"):
        layer.backward(np.ones((2, 3, 3, 3)))  # the first forward's output shape is gone


@pytest.mark.parametrize("method", METHODS)
def test_max_idx_is_the_argmax_row_of_each_im2col_column(method):
    layer = layers.Maxpool((3, 2), (2, 1), 1, 2, True, method=method)
    out = layer.forward(X)
    assert layer.max_idx.dtype == layer.indices.dtype == np.int64
    assert layer.max_idx.shape == (out.size,)  # one entry per column, CS231n style
    assert layer.max_idx.min() >= 0 and layer.max_idx.max() < 3 * 2
    geom = pool_geometry(X.shape[2:], (3, 2), (2, 1), 1, 2, True)
    cols = im2col_geometry(X.reshape(6, 1, 7, 6), geom, pad_value=-np.inf)
    np.testing.assert_array_equal(cols[layer.max_idx, np.arange(out.size)], ops.to_columns(out))
    rows = ops.from_columns(layer.max_idx, 2, 3, geom)
    np.testing.assert_array_equal(ops.rows_to_flat(rows, geom), layer.indices)


@pytest.mark.parametrize("method,i", LAYER_CASES)
def test_float32_stays_float32(method, i):
    x = X.astype(np.float32)
    out, dx = run(layer_case(method, i), x)
    assert out.dtype == np.float32 and dx.dtype == np.float32


@pytest.mark.parametrize("method,i", LAYER_CASES)
def test_unbatched_input_gives_unbatched_output(method, i):
    out4, dx4 = run(layer_case(method, i), X[:1])
    layer = layer_case(method, i)
    out3, dx3 = run(layer, X[0])
    assert out3.shape == out4.shape[1:] and dx3.shape == X.shape[1:]
    np.testing.assert_array_equal(out3, out4[0])
    np.testing.assert_array_equal(dx3, dx4[0])
    if hasattr(layer, "indices"):
        assert layer.indices.shape == out3.shape


@pytest.mark.parametrize("method,i", LAYER_CASES)
@pytest.mark.parametrize("layout", ["fortran", "strided", "transposed"])
def test_non_contiguous_input(method, i, layout):
    base = {
        "fortran": np.asfortranarray(X),
        "strided": np.repeat(X, 2, axis=3)[:, :, :, ::2],
        "transposed": np.ascontiguousarray(X.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0),
    }[layout]
    assert not base.flags.c_contiguous and np.array_equal(base, X)
    out, dx = run(layer_case(method, i), base)
    ref_out, ref_dx = run(layer_case(method, i), np.ascontiguousarray(X))
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(dx, ref_dx)


@pytest.mark.parametrize("method,i", LAYER_CASES)
def test_forward_and_backward_do_not_modify_their_inputs(method, i):
    x = X.copy()
    layer = layer_case(method, i)
    out = layer.forward(x)
    dout = normal_values(out.shape, out.dtype)
    kept = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(dout, kept)


@pytest.mark.parametrize("method,i", LAYER_CASES)
def test_empty_batch(method, i):
    out, dx = run(layer_case(method, i), np.zeros((0, 3, 7, 6)))
    assert out.shape[:2] == (0, 3) and dx.shape == (0, 3, 7, 6)


def test_maxunpool_inverts_maxpool_on_its_maxima():
    pool, unpool = layers.Maxpool(2), layers.MaxUnpool(2)
    pooled = pool.forward(X)
    restored = unpool.forward(pooled, pool.indices, output_size=X.shape[2:])
    assert restored.shape == X.shape
    kept = restored != 0
    np.testing.assert_array_equal(restored[kept], X[kept])
    assert kept.sum() == pooled.size
    np.testing.assert_array_equal(unpool.backward(restored), pooled)


def test_global_layers_reduce_each_plane():
    np.testing.assert_array_equal(layers.GlobalMaxpool().forward(X)[..., 0, 0], X.max(axis=(2, 3)))
    np.testing.assert_allclose(layers.GlobalAvgpool().forward(X)[..., 0, 0], X.mean(axis=(2, 3)), rtol=1e-14)


def test_integer_dout_is_accepted_as_the_forward_dtype():
    layer = layers.Avgpool(2)
    out = layer.forward(X.astype(np.float32))
    assert layer.backward(np.ones(out.shape, dtype=np.int64)).dtype == np.float32


def test_repr_shows_the_arguments():
    assert (
        repr(layers.Maxpool(3, 2, 1))
        == "Maxpool(size=3, stride=2, padding=1, dilation=1, ceil_mode=False, method='im2col')"
    )
    assert repr(layers.Avgpool(2, divisor_override=3)).startswith("Avgpool(size=2, stride=None")
    assert repr(layers.GlobalAvgpool()) == "GlobalAvgpool()"
    assert repr(layers.AdaptiveMaxpool((2, None))) == "AdaptiveMaxpool(output_size=(2, None))"


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.Maxpool(1 << 21),
        lambda: layers.Maxpool(3, dilation=1 << 20),
        lambda: layers.Avgpool(1 << 21),
        lambda: layers.MaxUnpool(2, padding=1 << 21),
    ],
    ids=["Maxpool", "Maxpool-dilated", "Avgpool", "MaxUnpool"],
)
def test_a_large_window_is_judged_against_the_input_not_at_construction(make):
    # the constructors used to check windows against a made-up 2**20 plane and reject these
    # (naming that plane as the input); like PyTorch, only forward knows whether the window fits
    layer = make()
    x = np.ones((1, 2, 4, 4))
    args = (np.zeros(x.shape, dtype=np.int64),) if isinstance(layer, layers.MaxUnpool) else ()
    with pytest.raises(ValueError, match=r"\(4, 4\)|input size"):
        layer.forward(x, *args)


@pytest.mark.parametrize("method", METHODS)
def test_max_idx_read_after_one_forward_is_not_reused_by_the_next(method):
    # the direct path derives max_idx lazily from the indices; a second forward must drop it
    layer = layers.Maxpool(3, 2, 1, method=method)
    layer.forward(X)
    first = layer.max_idx.copy()
    layer.forward(-X)  # same shape, other maxima
    geom = pool_geometry(X.shape[2:], 3, 2, 1)
    np.testing.assert_array_equal(layer.max_idx, ops.to_columns(ops.flat_to_rows(layer.indices, geom)))
    assert not np.array_equal(layer.max_idx, first)
