"""One test per bad input: the exception type, and a message naming the parameter and its value.

Each test runs every entry point the bad input can reach: functional ops, layers and the
naive loops.
"""

import re

import numpy as np
import pytest

from cs231n_pool import functional as fn
from cs231n_pool import layers, naive
from cs231n_pool.opinfo import OPINFOS

pytestmark = pytest.mark.usefixtures("single_thread_direct")

X = np.arange(2 * 3 * 6 * 5, dtype=np.float64).reshape(2, 3, 6, 5)


def _pool_param(kernel_size, stride, padding):
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return dict(pool_height=kh, pool_width=kw, stride=kernel_size if stride is None else stride, pad=padding)


# Forward entry points taking (x, kernel_size, stride, padding); the max ones also take dilation.
POOLS = {
    "max_pool2d": lambda x, k=2, s=None, p=0, d=1: fn.max_pool2d(x, k, s, p, d),
    "max_pool2d-direct": lambda x, k=2, s=None, p=0, d=1: fn.max_pool2d(x, k, s, p, d, method="direct"),
    "Maxpool": lambda x, k=2, s=None, p=0, d=1: layers.Maxpool(k, s, p, d).forward(x),
    "avg_pool2d": lambda x, k=2, s=None, p=0: fn.avg_pool2d(x, k, s, p),
    "Avgpool": lambda x, k=2, s=None, p=0: layers.Avgpool(k, s, p).forward(x),
    "max_pool_forward_naive": lambda x, k=2, s=None, p=0: naive.max_pool_forward_naive(x, _pool_param(k, s, p)),
    "avg_pool_forward_naive": lambda x, k=2, s=None, p=0: naive.avg_pool_forward_naive(x, _pool_param(k, s, p)),
}
DILATED = ["max_pool2d", "max_pool2d-direct", "Maxpool"]


def _entry_points(info):
    """The registry entry's functional op and layer, on an arbitrary x with its first sample's arguments."""
    kwargs = info.samples[0].kwargs

    def through_layer(x):
        layer, forward = info.make_layer(kwargs)
        return layer.forward(*info.given(x), **forward)

    return {info.name: lambda x: info.functional(*info.given(x), **kwargs), info.layer.__name__: through_layer}


# Entry points that take only x (plus fixed valid arguments): POOLS, and every op of the registry.
ANY_INPUT = dict(POOLS)
for _info in OPINFOS:
    ANY_INPUT.update({name: call for name, call in _entry_points(_info).items() if name not in ANY_INPUT})


def raises(exc, *words):
    """pytest.raises whose message must contain every word (literally)."""
    return pytest.raises(exc, match="".join(f"(?=.*{re.escape(w)})" for w in words))


@pytest.mark.parametrize("entry", ANY_INPUT)
@pytest.mark.parametrize("shape", [(6, 5), (5,), (1, 2, 3, 6, 5)])
def test_wrong_ndim(entry, shape):
    with raises(ValueError, "x", f"ndim={len(shape)}"):
        ANY_INPUT[entry](np.ones(shape))


@pytest.mark.parametrize("entry", POOLS)
def test_window_larger_than_padded_input(entry):
    with raises(ValueError, "output size is too small", "kernel_size=", "7"):
        POOLS[entry](X, 7, 1, 0)


@pytest.mark.parametrize("entry", POOLS)
@pytest.mark.parametrize("kernel", [0, -2, (2, 0)])
def test_kernel_not_positive(entry, kernel):
    # the naive loops name the pool_param key (pool_height/pool_width) and its scalar value
    value = f"={min(kernel) if isinstance(kernel, tuple) else kernel}" if "naive" in entry else repr(kernel)
    with raises(ValueError, "must be > 0", value):
        POOLS[entry](X, kernel)


@pytest.mark.parametrize("entry", POOLS)
@pytest.mark.parametrize("stride", [0, -1, (1, -2)])
def test_stride_not_positive(entry, stride):
    with raises(ValueError, f"stride={stride!r}"):
        POOLS[entry](X, 2, stride)


@pytest.mark.parametrize("entry", DILATED)
@pytest.mark.parametrize("dilation", [0, -1, (1, 0)])
def test_dilation_not_positive(entry, dilation):
    with raises(ValueError, f"dilation={dilation!r}"):
        POOLS[entry](X, 2, 1, 0, dilation)


@pytest.mark.parametrize("entry", POOLS)
def test_padding_negative(entry):
    with raises(ValueError, "padding", "-1"):
        POOLS[entry](X, 2, 1, -1)


@pytest.mark.parametrize("entry", POOLS)
@pytest.mark.parametrize("kernel,padding", [(2, 2), (3, 2), ((3, 2), (1, 2))])
def test_padding_more_than_half_the_kernel(entry, kernel, padding):
    with raises(ValueError, f"padding={padding!r}", "at most half"):
        POOLS[entry](X, kernel, 1, padding)


@pytest.mark.parametrize("entry", ["max_pool2d", "avg_pool2d", "Maxpool", "Avgpool"])
def test_unknown_padding_string(entry):
    with raises(ValueError, "padding", "'full'"):
        POOLS[entry](X, 2, 1, "full")


@pytest.mark.parametrize("entry", ANY_INPUT)
@pytest.mark.parametrize("dtype", [np.complex128, np.int64, np.bool_, np.float16, object, "U1"])
def test_bad_dtype(entry, dtype):
    with raises(TypeError, "dtype", str(np.dtype(dtype))):
        ANY_INPUT[entry](np.zeros((1, 2, 4, 4), dtype=dtype))


@pytest.mark.parametrize("entry", ANY_INPUT)
@pytest.mark.parametrize("dtype", [">f8", ">f4"])
def test_non_native_byte_order_says_so(entry, dtype):
    # '>f8' is float64 too; "must have dtype float32 or float64, got >f8" alone puzzled readers
    with raises(TypeError, "native byte order", f"x.dtype={np.dtype(dtype)}"):
        ANY_INPUT[entry](np.zeros((1, 2, 4, 4), dtype=dtype))


@pytest.mark.parametrize("entry", ANY_INPUT)
def test_not_an_array(entry):
    with raises(TypeError, "numpy.ndarray", "list"):
        ANY_INPUT[entry]([[[1.0, 2.0], [3.0, 4.0]]])


# torch's adaptive pooling treats the leading dimension of a 3-D input as a batch, so (0, H, W) is
# valid there (test_functional_parity checks it); every other entry point refuses C = 0.
UNBATCHED_EMPTY_C = {
    "adaptive_max_pool2d",
    "adaptive_avg_pool2d",
    "AdaptiveMaxpool",
    "AdaptiveAvgpool",
    "global_max_pool2d",
    "global_avg_pool2d",
    "GlobalMaxpool",
    "GlobalAvgpool",
}
EMPTY_SHAPES = [
    (entry, shape)
    for entry in ANY_INPUT
    for shape in [(2, 0, 4, 4), (2, 3, 0, 4), (2, 3, 4, 0), (0, 4, 4), (3, 0, 4), (3, 4, 0)]
    if not (shape == (0, 4, 4) and entry in UNBATCHED_EMPTY_C)
]


@pytest.mark.parametrize("entry,shape", EMPTY_SHAPES)
def test_empty_channel_or_plane(entry, shape):
    with raises(ValueError, "non-empty", f"shape={shape}"):
        ANY_INPUT[entry](np.zeros(shape))


def _layer(make):
    """(backward, out) of a fresh layer after one forward on x."""

    def run(x):
        layer = make()
        return layer.backward, layer.forward(x)

    return run


def _unpool_layer(x):
    pooled, idx = fn.max_pool2d(x, 2, return_indices=True)
    layer = layers.MaxUnpool(2)
    return layer.backward, layer.forward(pooled, idx, x.shape[-2:])


def _naive(forward, backward):
    def run(x):
        out, cache = forward(x, _pool_param(2, 2, 0))
        return (lambda d: backward(d, cache)), out

    return run


def _max_fn(x):
    out, idx = fn.max_pool2d(x, 2, return_indices=True)
    return (lambda d: fn.max_pool2d_backward(d, idx, x.shape)), out


def _unpool_fn(x):
    pooled, idx = fn.max_pool2d(x, 2, return_indices=True)
    return (lambda d: fn.max_unpool2d_backward(d, idx)), fn.max_unpool2d(pooled, idx, 2, output_size=x.shape[-2:])


# name -> x -> (backward(dout), forward output)
BACKWARDS = {
    "Maxpool": _layer(lambda: layers.Maxpool(2)),
    "Maxpool-direct": _layer(lambda: layers.Maxpool(2, method="direct")),
    "Avgpool": _layer(lambda: layers.Avgpool(3, 2, 1, ceil_mode=True)),
    "MaxUnpool": _unpool_layer,
    "AdaptiveMaxpool": _layer(lambda: layers.AdaptiveMaxpool((4, 3))),
    "AdaptiveAvgpool": _layer(lambda: layers.AdaptiveAvgpool((4, 3))),
    "GlobalMaxpool": _layer(layers.GlobalMaxpool),
    "GlobalAvgpool": _layer(layers.GlobalAvgpool),
    "max_pool_backward_naive": _naive(naive.max_pool_forward_naive, naive.max_pool_backward_naive),
    "avg_pool_backward_naive": _naive(naive.avg_pool_forward_naive, naive.avg_pool_backward_naive),
    "max_pool2d_backward": _max_fn,
    "avg_pool2d_backward": lambda x: ((lambda d: fn.avg_pool2d_backward(d, x.shape, 2)), fn.avg_pool2d(x, 2)),
    "adaptive_avg_pool2d_backward": lambda x: (
        (lambda d: fn.adaptive_avg_pool2d_backward(d, x.shape, 3)),
        fn.adaptive_avg_pool2d(x, 3),
    ),
    "max_unpool2d_backward": _unpool_fn,
}


@pytest.mark.parametrize("entry", BACKWARDS)
@pytest.mark.parametrize("change", ["smaller", "extra_dim", "unbatched"])
def test_dout_wrong_shape(entry, change):
    backward, out = BACKWARDS[entry](X)
    dout = {
        "smaller": np.ones(out.shape[:-1] + (out.shape[-1] + 1,))[..., 1:-1],
        "extra_dim": np.ones((1,) + out.shape),
        "unbatched": np.ones(out.shape[1:]),
    }[change]
    with raises(ValueError, "dout", f"shape={dout.shape}"):
        backward(dout)


@pytest.mark.parametrize("entry", BACKWARDS)
def test_integer_dout_is_accepted_everywhere(entry):
    # max_pool2d_backward and max_unpool2d_backward used to reject what every other backward takes
    backward, out = BACKWARDS[entry](X)
    dx = backward(np.arange(out.size, dtype=np.int64).reshape(out.shape))
    want = backward(np.arange(out.size, dtype=np.float64).reshape(out.shape))
    assert dx.dtype == np.float64
    np.testing.assert_array_equal(dx, want)


@pytest.mark.parametrize("entry", ["Maxpool", "Avgpool", "max_pool2d_backward", "avg_pool2d_backward"])
def test_dout_not_an_array_or_complex(entry):
    backward, out = BACKWARDS[entry](X)
    with raises(TypeError, "dout", "complex128"):
        backward(np.ones(out.shape, dtype=np.complex128))


@pytest.mark.parametrize("entry", ["max_unpool2d", "MaxUnpool"])
@pytest.mark.parametrize("bad", [-1, 16, 1000])
def test_unpool_indices_out_of_range(entry, bad):
    pooled, idx = fn.max_pool2d(X[:, :, :4, :4], 2, return_indices=True)  # unpools to 4x4: 16 cells
    idx = idx.copy()
    idx[1, 2, 1, 0] = bad
    call = (
        (lambda: fn.max_unpool2d(pooled, idx, 2))
        if entry == "max_unpool2d"
        else (lambda: layers.MaxUnpool(2).forward(pooled, idx))
    )
    with raises(ValueError, "indices", f"got an index of {bad}"):
        call()


@pytest.mark.parametrize("bad", [-1, 30])
def test_max_pool2d_backward_indices_out_of_range(bad):
    out, idx = fn.max_pool2d(X, 2, return_indices=True)
    idx = idx.copy()
    idx[0, 0, 0, 0] = bad
    with raises(ValueError, "indices", f"got an index of {bad}"):
        fn.max_pool2d_backward(np.ones_like(out), idx, X.shape)


def test_unpool_indices_wrong_shape_or_dtype():
    pooled, idx = fn.max_pool2d(X, 2, return_indices=True)
    with raises(ValueError, "indices", f"shape={idx[:1].shape}"):
        fn.max_unpool2d(pooled, idx[:1], 2)
    with raises(TypeError, "indices", "float64"):
        fn.max_unpool2d(pooled, idx.astype(np.float64), 2)


def test_unpool_backward_indices_not_an_array():
    pooled, idx = fn.max_pool2d(X, 2, return_indices=True)
    dout = np.ones_like(X)  # the unpooled shape with output_size=X.shape
    with raises(TypeError, "indices", "numpy.ndarray", "list"):
        fn.max_unpool2d_backward(dout, idx.tolist())


@pytest.mark.parametrize("entry", ["max_unpool2d", "MaxUnpool"])
@pytest.mark.parametrize("output_size", [(4, 6), (6, 8), (2, 3, 8, 6), (2, 3, 6, 2)])
def test_unpool_output_size_outside_window(entry, output_size):
    pooled, idx = fn.max_pool2d(X, 2, return_indices=True)  # (3, 2) -> default (6, 4), allowed (4, 8) x (2, 6)
    call = (
        (lambda: fn.max_unpool2d(pooled, idx, 2, output_size=output_size))
        if entry == "max_unpool2d"
        else (lambda: layers.MaxUnpool(2).forward(pooled, idx, output_size))
    )
    with raises(ValueError, "output_size", repr(tuple(output_size)), "between"):
        call()


@pytest.mark.parametrize("output_size", [(5,), (1, 2, 3)])
def test_unpool_output_size_wrong_length(output_size):
    pooled, idx = fn.max_pool2d(X, 2, return_indices=True)
    with raises(ValueError, "output_size", repr(output_size)):
        fn.max_unpool2d(pooled, idx, 2, output_size=output_size)


@pytest.mark.parametrize("entry", ["adaptive_max_pool2d", "adaptive_avg_pool2d", "AdaptiveMaxpool", "AdaptiveAvgpool"])
@pytest.mark.parametrize("output_size", [0, (2, -1), (3, 0)])
def test_adaptive_output_size_not_positive(entry, output_size):
    call = {
        "adaptive_max_pool2d": lambda: fn.adaptive_max_pool2d(X, output_size),
        "adaptive_avg_pool2d": lambda: fn.adaptive_avg_pool2d(X, output_size),
        "AdaptiveMaxpool": lambda: layers.AdaptiveMaxpool(output_size),
        "AdaptiveAvgpool": lambda: layers.AdaptiveAvgpool(output_size),
    }[entry]
    with raises(ValueError, f"output_size={output_size!r}"):
        call()


@pytest.mark.parametrize("entry", ["avg_pool2d", "Avgpool", "avg_pool2d_backward"])
def test_divisor_override_zero(entry):
    call = {
        "avg_pool2d": lambda: fn.avg_pool2d(X, 2, divisor_override=0),
        "Avgpool": lambda: layers.Avgpool(2, divisor_override=0),
        "avg_pool2d_backward": lambda: fn.avg_pool2d_backward(np.ones((2, 3, 3, 2)), X.shape, 2, divisor_override=0),
    }[entry]
    with raises(ValueError, "divisor_override=0"):
        call()


@pytest.mark.parametrize(
    "layer",
    [
        layers.Maxpool(2),
        layers.Avgpool(2),
        layers.MaxUnpool(2),
        layers.AdaptiveMaxpool(2),
        layers.AdaptiveAvgpool(2),
        layers.GlobalMaxpool(),
        layers.GlobalAvgpool(),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_backward_before_forward(layer):
    with raises(RuntimeError, type(layer).__name__, "forward must run first"):
        layer.backward(np.ones((2, 3, 1, 1)))


@pytest.mark.parametrize(
    "call",
    [
        lambda: fn.max_pool2d(X, 2, method="fast"),
        lambda: fn.avg_pool2d(X, 2, method="fast"),
        lambda: layers.Maxpool(2, method="fast"),
        lambda: layers.Avgpool(2, method="fast"),
        lambda: fn.max_pool2d_backward(
            np.ones((2, 3, 3, 2)), np.zeros((2, 3, 3, 2), dtype=np.int64), X.shape, method="fast"
        ),
        lambda: fn.avg_pool2d_backward(np.ones((2, 3, 3, 2)), X.shape, 2, method="fast"),
    ],
    ids=["max_pool2d", "avg_pool2d", "Maxpool", "Avgpool", "max_pool2d_backward", "avg_pool2d_backward"],
)
def test_bad_method(call):
    with raises(ValueError, "method='fast'", "im2col"):
        call()


@pytest.mark.parametrize("forward", [naive.max_pool_forward_naive, naive.avg_pool_forward_naive])
def test_naive_pool_param_keys(forward):
    with raises(ValueError, "missing", "'stride'"):
        forward(X, dict(pool_height=2, pool_width=2))
    with raises(ValueError, "unknown", "'padding'"):
        forward(X, dict(pool_height=2, pool_width=2, stride=2, padding=1))
    with raises(TypeError, "pool_param", "list"):
        forward(X, [2, 2, 2])
    with raises(TypeError, "pool_height", "2.0"):
        forward(X, dict(pool_height=2.0, pool_width=2, stride=2))


@pytest.mark.parametrize("forward", [naive.max_pool_forward_naive, naive.avg_pool_forward_naive])
@pytest.mark.parametrize("pad", ["same", "valid"])
def test_naive_pad_string(forward, pad):
    # naive avg with pad='same' used to count the padding in the divisor, unlike avg_pool2d's 'same'
    with raises(TypeError, "pool_param['pad']", repr(pad)):
        forward(X, dict(pool_height=2, pool_width=2, stride=2, pad=pad))


@pytest.mark.parametrize("backward", [naive.max_pool_backward_naive, naive.avg_pool_backward_naive])
def test_naive_backward_needs_its_cache(backward):
    with raises(TypeError, "cache", "tuple"):
        backward(np.ones((2, 3, 3, 2)), (X, {}))


@pytest.mark.parametrize("entry", ["max_pool2d", "Maxpool", "avg_pool2d", "Avgpool"])
def test_ceil_mode_not_bool(entry):
    call = {
        "max_pool2d": lambda: fn.max_pool2d(X, 2, ceil_mode="yes"),
        "Maxpool": lambda: layers.Maxpool(2, ceil_mode="yes"),
        "avg_pool2d": lambda: fn.avg_pool2d(X, 2, ceil_mode="yes"),
        "Avgpool": lambda: layers.Avgpool(2, ceil_mode="yes"),
    }[entry]
    with raises(TypeError, "ceil_mode", "'yes'"):
        call()


def test_count_include_pad_not_bool():
    with raises(TypeError, "count_include_pad", "None"):
        fn.avg_pool2d(X, 2, count_include_pad=None)


def test_ceil_mode_with_same_padding():
    with raises(ValueError, "ceil_mode", "'same'"):
        fn.max_pool2d(X, 3, 2, "same", ceil_mode=True)


@pytest.mark.parametrize("method", ["im2col", "direct"])
def test_dilated_window_with_no_input_cell(method):
    # H=1, k=3, d=2, p=1, ceil: the only row window reads rows -1, 1, 3 -- none is in the input
    with raises(ValueError, "window contains no cell"):
        fn.max_pool2d(np.ones((1, 1, 1, 4)), 3, 3, 1, 2, ceil_mode=True, method=method)


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: fn.max_pool2d(X, 2, 10**30), "stride"),
        (lambda: fn.max_pool2d(X, 1, dilation=(1, 2**63)), "dilation"),
        (lambda: fn.avg_pool2d(X, 2, (2**40, 1)), "stride"),
        (lambda: layers.Maxpool(2, 2**64), "stride"),
        (lambda: fn.adaptive_max_pool2d(X, 10**30), "output_size"),
        (lambda: fn.adaptive_avg_pool2d(X, (1, 2**62)), "output_size"),
        (lambda: fn.max_unpool2d(X, np.zeros(X.shape, dtype=np.int64), 2, 2**63), "stride"),
        (lambda: fn.avg_pool2d(X, 2, divisor_override=10**400), "divisor_override"),
    ],
    ids=[
        "max_pool2d",
        "max_pool2d-dilation",
        "avg_pool2d",
        "Maxpool",
        "adaptive_max",
        "adaptive_avg",
        "max_unpool2d",
        "divisor_override",
    ],
)
def test_parameter_too_large_for_the_kernels(call, name):
    # such values used to overflow deep inside numpy (OverflowError) or ask for exabytes of memory
    with raises(ValueError, name, "at most"):
        call()


def test_dilated_window_with_no_input_cell_names_the_window():
    with raises(ValueError, "along H (size 1)", "starting at -1", "kernel 3", "dilation=2"):
        fn.max_pool2d(np.ones((1, 1, 1, 4)), 3, 3, 1, 2, ceil_mode=True)


@pytest.mark.parametrize(
    "backward",
    [
        lambda s: fn.max_pool2d_backward(np.ones((1, 3, 3, 2)), np.zeros((1, 3, 3, 2), dtype=np.int64), s),
        lambda s: fn.avg_pool2d_backward(np.ones((1, 3, 3, 2)), s, 2),
        lambda s: fn.adaptive_avg_pool2d_backward(np.ones((1, 3, 3, 2)), s, (3, 2)),
    ],
    ids=["max_pool2d_backward", "avg_pool2d_backward", "adaptive_avg_pool2d_backward"],
)
@pytest.mark.parametrize("x_shape", [(True, 3, 6, 5), (1, 3, 6.0, 5)])
def test_x_shape_entries_must_be_ints(backward, x_shape):
    # one shape check (geometry.check_shape) for these and col2im_indices; a bool N used to pass as 1
    with raises(TypeError, "x_shape", repr(x_shape)):
        backward(x_shape)


# ----------------------------------------------------------------------------- the registry's error inputs

REGISTRY_ERRORS = [
    pytest.param(info, error, id=f"{info.name}-{i}") for info in OPINFOS for i, error in enumerate(info.errors)
]


@pytest.mark.parametrize("info,error", REGISTRY_ERRORS)
def test_registry_error_inputs(info, error):
    # every bad call of cs231n_pool.opinfo, on the functional op and on its layer (which may
    # refuse the arguments in its constructor or the input in forward)
    x = np.zeros(error.shape, dtype=error.dtype)

    def through_layer():
        layer, forward = info.make_layer(error.kwargs)
        layer.forward(*info.inputs(x, error.kwargs), **forward)

    with raises(error.error, *error.words):
        info.functional(*info.inputs(x, error.kwargs), **error.kwargs)
    with raises(error.error, *error.words):
        through_layer()
