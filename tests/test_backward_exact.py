"""Every backward path gives torch's gradient bit for bit, in float32 and float64.

PyTorch's CPU kernels add overlapping contributions plane by plane, window by window in
row-major output order (max: each window's dout at its argmax; average: each window's share
over its in-bounds cells, row-major; adaptive average: ``dout / kh / kw`` per bin, and
``dout / (H*W)`` for a 1x1 output, which torch computes as a mean). Every path here follows
that order, so the gradients are equal, not just close. The upstream gradients span twelve
orders of magnitude, so a sum of three or more of them in another order would round
differently (the first test shows that it does).

Paths: the naive loops (where they apply), im2col on the Cython and the numpy kernels, the
direct kernels, the functional backward passes and the layers.
"""

import numpy as np
import pytest
from helpers import METHODS, distinct_values, expect_rejected, normal_values, pool_param, torch_module
from test_functional_parity import ADAPTIVE_SIZES, AVG_GRID, GRID, SHAPE

from cs231n_pool import _backend, layers, naive
from cs231n_pool import functional as fn

pytestmark = pytest.mark.usefixtures("single_thread_direct")

pytest.importorskip("torch")

KERNEL_SETS = list(_backend.KERNEL_SETS)


def wide_dout(shape, dtype, seed=1):
    """Upstream gradients of magnitudes 1e-6 to 1e6, so the order of any sum of three shows."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 7, size=shape)).astype(dtype)


def torch_grad(op, x, dout):
    """(out, indices or None, dx, g) of torch's op on x with the upstream gradient g = dout(out.shape);
    None if torch refuses."""
    torch = torch_module()
    xt = torch.tensor(x, requires_grad=True)
    try:
        result = op(xt)
    except RuntimeError:
        return None
    out, idx = result if isinstance(result, tuple) else (result, None)
    g = dout(tuple(out.shape))
    out.backward(torch.tensor(g))
    return out.detach().numpy(), None if idx is None else idx.numpy(), xt.grad.numpy(), g


def assert_same(got, want, what):
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    np.testing.assert_array_equal(got, want, err_msg=what, strict=True)


def test_the_cancelling_example_on_every_path():
    # Windows 0, 1 and 2 all pick x[2] = 5: its gradient is (1 + 1e8) + -1e8 = 0 in float32,
    # as torch adds them; adding the last two first would give 1.
    x = np.array([0, 1, 5, 2, 0], dtype=np.float32).reshape(1, 1, 1, 5)
    dout = np.array([1, 1e8, -1e8], dtype=np.float32).reshape(1, 1, 1, 3)
    want = np.zeros_like(x)
    _, _, ref, _ = torch_grad(lambda t: torch_module().nn.functional.max_pool2d(t, (1, 3), 1), x, lambda s: dout)
    assert_same(ref, want, "torch")
    assert (np.float32(1e8) + np.float32(-1e8)) + np.float32(1) == 1  # the other order
    for method in METHODS:
        for kernels in KERNEL_SETS:
            with _backend.use_kernels(kernels):
                layer = layers.Maxpool((1, 3), 1, method=method)
                layer.forward(x)
                assert_same(layer.backward(dout), want, f"Maxpool({method}, {kernels})")
                _, idx = fn.max_pool2d(x, (1, 3), 1, return_indices=True, method=method)
                assert_same(fn.max_pool2d_backward(dout, idx, x.shape, method=method), want, f"functional {method}")
    _, cache = naive.max_pool_forward_naive(x, dict(pool_height=1, pool_width=3, stride=1))
    assert_same(naive.max_pool_backward_naive(dout, cache), want, "naive")


def test_the_cancelling_example_for_average_pooling():
    x = np.zeros((1, 1, 1, 5), dtype=np.float32)
    dout = np.array([1, 1e8, -1e8], dtype=np.float32).reshape(1, 1, 1, 3)
    _, _, ref, _ = torch_grad(
        lambda t: torch_module().nn.functional.avg_pool2d(t, (1, 3), 1, divisor_override=1), x, lambda s: dout
    )
    assert ref[0, 0, 0, 2] == 0  # cell 2: (1 + 1e8) + -1e8, with divisor_override=1
    for method in METHODS:
        for kernels in KERNEL_SETS:
            with _backend.use_kernels(kernels):
                got = fn.avg_pool2d_backward(dout, x.shape, (1, 3), 1, divisor_override=1, method=method)
                assert_same(got, ref, f"avg_pool2d_backward({method}, {kernels})")


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode,dtype,batched", GRID)
def test_max_pool2d_backward_is_torchs_bit_for_bit(kernel, stride, padding, dilation, ceil_mode, dtype, batched):
    x = distinct_values(SHAPE, dtype)
    x = x if batched else x[0]
    args = (kernel, stride, padding, dilation, ceil_mode)
    F = torch_module().nn.functional

    def dout_of(shape):
        return wide_dout(shape, dtype)

    ref = torch_grad(lambda t: F.max_pool2d(t, *args, return_indices=True), x, dout_of)
    if ref is None:  # torch refuses these arguments, and so do we
        expect_rejected(lambda: layers.Maxpool(*args).forward(x))
        return
    _, idx, want, dout = ref
    for method in METHODS:
        for kernels in KERNEL_SETS:
            with _backend.use_kernels(kernels):
                layer = layers.Maxpool(*args, method=method)
                layer.forward(x)
                assert_same(layer.backward(dout), want, f"Maxpool.backward ({method}, {kernels} kernels)")
                assert_same(fn.max_pool2d_backward(dout, idx, x.shape, method=method), want, f"functional {method}")
    if dilation == 1 and not ceil_mode:
        _, cache = naive.max_pool_forward_naive(x, pool_param(kernel, stride, padding))
        assert_same(naive.max_pool_backward_naive(dout, cache), want, "max_pool_backward_naive")


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,count_include_pad,dtype,batched", AVG_GRID)
def test_avg_pool2d_backward_is_torchs_bit_for_bit(
    kernel, stride, padding, ceil_mode, count_include_pad, dtype, batched
):
    x = normal_values(SHAPE, dtype)
    x = x if batched else x[0]
    args = (kernel, stride, padding, ceil_mode, count_include_pad)
    F = torch_module().nn.functional

    def dout_of(shape):
        return wide_dout(shape, dtype)

    ref = torch_grad(lambda t: F.avg_pool2d(t, *args), x, dout_of)
    if ref is None:  # torch refuses these arguments, and so do we
        expect_rejected(lambda: layers.Avgpool(*args).forward(x))
        return
    _, _, want, dout = ref
    for method in METHODS:
        for kernels in KERNEL_SETS:
            with _backend.use_kernels(kernels):
                layer = layers.Avgpool(*args, method=method)
                layer.forward(x)
                assert_same(layer.backward(dout), want, f"Avgpool.backward ({method}, {kernels} kernels)")
                got = fn.avg_pool2d_backward(dout, x.shape, *args, method=method)
                assert_same(got, want, f"avg_pool2d_backward ({method}, {kernels} kernels)")
    if not ceil_mode and count_include_pad:
        _, cache = naive.avg_pool_forward_naive(x, pool_param(kernel, stride, padding))
        assert_same(naive.avg_pool_backward_naive(dout, cache), want, "avg_pool_backward_naive")


@pytest.mark.parametrize("output_size", ADAPTIVE_SIZES + [None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [SHAPE, (2, 3, 13, 9)])
def test_adaptive_backward_is_torchs_bit_for_bit(output_size, dtype, shape):
    F = torch_module().nn.functional
    x = distinct_values(shape, dtype)

    def dout_of(shape):
        return wide_dout(shape, dtype)

    size = shape[2:] if output_size is None else output_size
    _, idx, want, dout = torch_grad(lambda t: F.adaptive_max_pool2d(t, size, return_indices=True), x, dout_of)
    assert_same(fn.adaptive_max_pool2d_backward(dout, idx, x.shape), want, "adaptive_max_pool2d_backward")
    layer = layers.AdaptiveMaxpool(size)
    layer.forward(x)
    assert_same(layer.backward(dout), want, "AdaptiveMaxpool.backward")

    _, _, want, dout = torch_grad(lambda t: F.adaptive_avg_pool2d(t, size), x, dout_of)
    assert_same(fn.adaptive_avg_pool2d_backward(dout, x.shape, size), want, "adaptive_avg_pool2d_backward")
    layer = layers.AdaptiveAvgpool(size)
    layer.forward(x)
    assert_same(layer.backward(dout), want, "AdaptiveAvgpool.backward")
