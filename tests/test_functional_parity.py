"""Parity with PyTorch over a grid like its own sample inputs, for every pooling op.

kernel {2, 3, (3, 2)} x stride {None, 1, 2, (2, 1)} x padding {0, 1} x dilation {1, 2}
x ceil_mode {F, T} x dtype {f32, f64} x batched/unbatched: forward, backward (torch
autograd with a random dout) and indices must match, for the functional API and the
layers, on both kernels. The checkers live in conftest.py.
"""

import itertools
import re

import numpy as np
import pytest
from helpers import METHODS, assert_close, distinct_values, normal_values, torch_module

from cs231n_pool import functional as fn
from cs231n_pool import layers
from cs231n_pool.geometry import as_pair
from cs231n_pool.opinfo import OPINFOS

pytestmark = pytest.mark.usefixtures("single_thread_direct")

pytest.importorskip("torch")

KERNELS = [2, 3, (3, 2)]
STRIDES = [None, 1, 2, (2, 1)]
PADDINGS = [0, 1]
DTYPES = [np.float32, np.float64]
SHAPE = (2, 3, 7, 6)


def _input(maker, dtype, batched, seed=0):
    x = maker(SHAPE, dtype, seed)
    return x if batched else x[0]


GRID = list(itertools.product(KERNELS, STRIDES, PADDINGS, [1, 2], [False, True], DTYPES, [True, False]))


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode,dtype,batched", GRID)
def test_max_pool2d_grid(check_max_pool2d, kernel, stride, padding, dilation, ceil_mode, dtype, batched):
    x = _input(distinct_values, dtype, batched)
    check_max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)


AVG_GRID = list(itertools.product(KERNELS, STRIDES, PADDINGS, [False, True], [True, False], DTYPES, [True, False]))


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,count_include_pad,dtype,batched", AVG_GRID)
def test_avg_pool2d_grid(check_avg_pool2d, kernel, stride, padding, ceil_mode, count_include_pad, dtype, batched):
    x = _input(normal_values, dtype, batched)
    check_avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad, None)


@pytest.mark.parametrize("divisor_override", [1, 5, -3])
@pytest.mark.parametrize(
    "kernel,stride,padding,ceil_mode", [(3, 2, 1, True), ((3, 2), (2, 1), 1, False), (2, None, 0, True)]
)
def test_avg_pool2d_divisor_override(check_avg_pool2d, kernel, stride, padding, ceil_mode, divisor_override):
    x = normal_values(SHAPE, np.float64)
    check_avg_pool2d(x, kernel, stride, padding, ceil_mode, True, divisor_override)


@pytest.mark.parametrize("kernel,stride,padding", list(itertools.product(KERNELS, STRIDES, PADDINGS)))
@pytest.mark.parametrize("dtype,batched", list(itertools.product(DTYPES, [True, False])))
def test_max_unpool2d_round_trip(check_max_unpool2d, kernel, stride, padding, dtype, batched):
    check_max_unpool2d(_input(distinct_values, dtype, batched), kernel, stride, padding)


@pytest.mark.parametrize("output_size", [(7, 6), (8, 5), [7, 7], (2, 3, 8, 6)])
def test_max_unpool2d_explicit_output_size(check_max_unpool2d, output_size):
    check_max_unpool2d(distinct_values(SHAPE, np.float64), 2, 2, 0, output_size)


ADAPTIVE_SIZES = [1, 2, 3, (2, 4), (4, 3), (5, 5), (7, 6), (9, 11), (3, None), (None, 4)]


@pytest.mark.parametrize("output_size", ADAPTIVE_SIZES + [None])  # None: global pooling
@pytest.mark.parametrize("dtype,batched", list(itertools.product(DTYPES, [True, False])))
def test_adaptive_max_pool2d_grid(check_adaptive_max_pool2d, output_size, dtype, batched):
    check_adaptive_max_pool2d(_input(distinct_values, dtype, batched), output_size)


@pytest.mark.parametrize("output_size", ADAPTIVE_SIZES + [None])
@pytest.mark.parametrize("dtype,batched", list(itertools.product(DTYPES, [True, False])))
def test_adaptive_avg_pool2d_grid(check_adaptive_avg_pool2d, output_size, dtype, batched):
    check_adaptive_avg_pool2d(_input(normal_values, dtype, batched), output_size)


@pytest.mark.parametrize(
    "kernel,stride,padding,dilation,ceil_mode",
    [
        (3, 2, 1, 1, True),
        ((3, 2), 1, 0, 2, False),
        (2, (2, 1), 1, 1, True),
        (1, 2, 0, 1, True),
    ],
)
def test_max_pool2d_random_normal_input(check_max_pool2d, kernel, stride, padding, dilation, ceil_mode):
    x = normal_values((3, 2, 9, 8), np.float64, seed=5)
    check_max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 2, 2, 9), (4, 1, 5, 3), (0, 2, 5, 5)])
def test_max_and_avg_pool2d_odd_shapes(check_max_pool2d, check_avg_pool2d, shape):
    x = distinct_values(shape, np.float64)
    check_max_pool2d(x, (1, 2) if shape[2] == 1 else 2, 1, 0, 1, True)
    check_avg_pool2d(x, (1, 2) if shape[2] == 1 else 2, 1, 0, True)


def test_checkers_accept_a_rejection_from_the_layer_constructor(check_max_pool2d, check_avg_pool2d):
    # padding > kernel // 2: torch rejects it, and so does our constructor (the checkers used to
    # build the layer outside pytest.raises, so such a config errored instead of passing)
    x = distinct_values(SHAPE, np.float64)
    check_max_pool2d(x, 2, None, 2)
    check_avg_pool2d(x, 2, None, 2)


@pytest.mark.parametrize("kernel,padding,dilation", [(2, 2, 1), (9, 0, 1), (3, 2, 1), (5, 0, 2)])
def test_configs_torch_rejects_are_rejected(kernel, padding, dilation):
    torch = pytest.importorskip("torch")
    x = distinct_values(SHAPE, np.float64)
    with pytest.raises(RuntimeError):
        torch.nn.functional.max_pool2d(torch.tensor(x), kernel, None, padding, dilation)
    for call in (
        lambda: fn.max_pool2d(x, kernel, None, padding, dilation),
        lambda: layers.Maxpool(kernel, None, padding, dilation).forward(x),
    ):
        with pytest.raises(ValueError, match="padding|output size"):
            call()
    if dilation == 1:
        with pytest.raises(RuntimeError):
            torch.nn.functional.avg_pool2d(torch.tensor(x), kernel, None, padding)
        with pytest.raises(ValueError, match="padding|output size"):
            fn.avg_pool2d(x, kernel, None, padding)


def _torch_same_padding(size, kernel, stride, dilation):
    """TensorFlow 'SAME' (top, bottom) padding, written out independently of geometry.py."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


SAME_GRID = list(itertools.product(KERNELS, [1, 2, (2, 1), 3], [1, 2]))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kernel,stride,dilation", SAME_GRID)
def test_same_padding_matches_torch_on_explicitly_padded_input(kernel, stride, dilation, method):
    """'same' is not in torch pooling: compare with torch on an input padded by hand (-inf for max,
    and for average the sum over the window divided by the number of real cells in it)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    kh, kw = as_pair(kernel, "k")
    sh, sw = as_pair(stride, "s")
    x = distinct_values(SHAPE, np.float64)
    top, bottom = _torch_same_padding(SHAPE[2], kh, sh, dilation)
    left, right = _torch_same_padding(SHAPE[3], kw, sw, dilation)
    xt = torch.tensor(x, requires_grad=True)
    ref = F.max_pool2d(F.pad(xt, (left, right, top, bottom), value=-np.inf), (kh, kw), (sh, sw), 0, dilation)
    dout = normal_values(tuple(ref.shape), np.float64, 1)
    ref.backward(torch.tensor(dout))
    out, idx = fn.max_pool2d(x, kernel, stride, "same", dilation, return_indices=True, method=method)
    np.testing.assert_array_equal(out, ref.detach().numpy())
    np.testing.assert_allclose(fn.max_pool2d_backward(dout, idx, x.shape, method=method), xt.grad.numpy(), rtol=1e-12)
    if dilation == 2:
        return
    xt.grad = None
    pad = (left, right, top, bottom)
    sums = F.avg_pool2d(F.pad(xt, pad), (kh, kw), (sh, sw), divisor_override=1)
    counts = F.avg_pool2d(F.pad(torch.ones_like(xt), pad), (kh, kw), (sh, sw), divisor_override=1)
    ref = sums / counts
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(
        fn.avg_pool2d(x, kernel, stride, "same", method=method), ref.detach().numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(
        fn.avg_pool2d_backward(dout, x.shape, kernel, stride, "same", method=method),
        xt.grad.numpy(),
        rtol=1e-12,
        atol=1e-15,
    )


# ----------------------------------------------------------------------------- argument forms torch accepts

# (kernel, stride, padding, dilation) in torch's short forms, and what they mean
SHORT_FORMS = [
    (((3,), None, 0, 1), (3, None, 0, 1)),
    ((3, (2,), 0, 1), (3, 2, 0, 1)),
    ((3, 2, (1,), 1), (3, 2, 1, 1)),
    ((3, 1, 0, (2,)), (3, 1, 0, 2)),
    (([3], [2], [1], [2]), (3, 2, 1, 2)),
    (((3,), (2,), (1,), (2,)), (3, 2, 1, 2)),
    (((3,), (), 1, 1), (3, None, 1, 1)),
    ((2, [], 0, 1), (2, None, 0, 1)),
    (((3, 2), (1,), (1,), 1), ((3, 2), 1, 1, 1)),
]


@pytest.mark.parametrize("short,full", SHORT_FORMS)
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_one_entry_tuples_expand_as_in_torch(check_max_pool2d, check_avg_pool2d, short, full, ceil_mode):
    # torch reads (v,) as (v, v) and an empty stride as the default, for max and average pooling
    x = distinct_values(SHAPE, np.float64)
    kernel, stride, padding, dilation = short
    check_max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    if dilation == 1:
        check_avg_pool2d(x, kernel, stride, padding, ceil_mode)
    np.testing.assert_array_equal(fn.max_pool2d(x, *short, ceil_mode), fn.max_pool2d(x, *full, ceil_mode))


@pytest.mark.parametrize("kernel,stride,padding", [((2,), None, 0), (2, (2,), 0), (2, 2, (0,))])
def test_one_entry_tuples_are_refused_by_unpooling_as_in_torch(check_max_unpool2d, kernel, stride, padding):
    # torch's max_unpool2d indexes kernel_size/stride/padding as pairs and fails on (v,): so do we
    check_max_unpool2d(distinct_values(SHAPE, np.float64), kernel, stride, padding)
    pooled, idx = fn.max_pool2d(distinct_values(SHAPE, np.float64), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"must be an int or a pair of ints, got \((2|0),\) with 1 entries"):
        fn.max_unpool2d(pooled, idx, kernel, stride, padding)


@pytest.mark.parametrize("op", ["adaptive_max_pool2d", "adaptive_avg_pool2d"])
@pytest.mark.parametrize("output_size", [(3,), [3], (1, 2, 3)])
def test_adaptive_output_size_takes_an_int_or_a_pair_as_in_torch(op, output_size):
    torch = pytest.importorskip("torch")
    x = distinct_values(SHAPE, np.float64)
    with pytest.raises(RuntimeError, match="output_size"):
        getattr(torch.nn.functional, op)(torch.tensor(x), output_size)
    with pytest.raises(
        ValueError, match=rf"output_size must be an int or a pair of ints, got {re.escape(repr(output_size))}"
    ):
        getattr(fn, op)(x, output_size)


@pytest.mark.parametrize("output_size", [2, (3, 1), (3, None), (5, 7), None])  # None: global pooling
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_pooling_of_zero_channels_as_in_torch(
    check_adaptive_max_pool2d, check_adaptive_avg_pool2d, output_size, dtype
):
    # torch's test_adaptive_pooling_zero_batch: a 3-D (0, H, W) input pools to (0, h, w), and its
    # gradient is (0, H, W); the checkers compare forward, indices and backward, functional and layer
    x = np.zeros((0, 4, 6), dtype=dtype)
    check_adaptive_max_pool2d(x, output_size)
    check_adaptive_avg_pool2d(x, output_size)
    out, idx = fn.adaptive_max_pool2d(x, 2 if output_size is None else output_size, return_indices=True)
    assert out.dtype == dtype and idx.dtype == np.int64 and out.shape == idx.shape and out.shape[0] == 0


@pytest.mark.parametrize("op", ["adaptive_max_pool2d", "adaptive_avg_pool2d", "max_pool2d", "avg_pool2d"])
def test_zero_channels_are_refused_where_torch_refuses_them_or_is_inconsistent(op):
    # 4-D inputs with C = 0: torch's adaptive_max_pool2d refuses them and its adaptive_avg_pool2d accepts
    # them; we refuse both, one rule for every op. 3-D (0, H, W): torch's max/avg_pool2d refuse, so do we.
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    args = (2,)
    for shape in ((2, 0, 4, 4), (0, 4, 4)):
        if op.startswith("adaptive") and len(shape) == 3:
            continue
        x = np.zeros(shape)
        if op != "adaptive_avg_pool2d":
            with pytest.raises(RuntimeError):
                getattr(F, op)(torch.tensor(x), *args)
        with pytest.raises(ValueError, match=re.escape(f"x must have non-empty C, H and W, got x.shape={shape}")):
            getattr(fn, op)(x, *args)


# ----------------------------------------------------------------------------- the registry's samples

REGISTRY_SAMPLES = [
    pytest.param(info, sample, id=f"{info.name}-{i}") for info in OPINFOS for i, sample in enumerate(info.samples)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("info,sample", REGISTRY_SAMPLES)
def test_registry_samples_match_torch(info, sample, dtype):
    # every op of cs231n_pool.opinfo on each of its samples: the functional op (and its indices)
    # and the layer's forward and backward against torch, whose backward is autograd's
    torch = torch_module()
    x = distinct_values(sample.shape, dtype)
    arrays = info.inputs(x, sample.kwargs)
    extra = dict(return_indices=True) if info.indices else {}
    tensors = [torch.tensor(arrays[0], requires_grad=True)] + [torch.tensor(a) for a in arrays[1:]]
    ref = getattr(torch.nn.functional, info.torch_name)(*tensors, **info.torch_kwargs(sample.kwargs), **extra)
    ref_out, ref_idx = ref if info.indices else (ref, None)
    dout = normal_values(tuple(ref_out.shape), dtype, 1)
    ref_out.backward(torch.tensor(dout))
    got = info.functional(*arrays, **sample.kwargs, **extra)
    got_out, got_idx = got if info.indices else (got, None)
    assert_close(got_out, ref_out.detach().numpy(), dtype, f"{info.name} forward")
    layer, forward = info.make_layer(sample.kwargs)
    assert_close(layer.forward(*arrays, **forward), ref_out.detach().numpy(), dtype, f"{info.layer.__name__}.forward")
    if info.indices:
        np.testing.assert_array_equal(got_idx, ref_idx.numpy(), err_msg=f"{info.name} indices")
        np.testing.assert_array_equal(layer.indices, ref_idx.numpy(), err_msg=f"{info.layer.__name__}.indices")
    assert_close(layer.backward(dout), tensors[0].grad.numpy(), dtype, f"{info.layer.__name__}.backward")
