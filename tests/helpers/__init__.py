"""Shared test helpers: the methods under test, input makers, tolerances and the torch reference.

Imported by the test modules (``from helpers import ...``) and by the checkers in conftest.py.
torch is imported lazily, so tests that do not compare with it run without it.
"""

import os

import numpy as np
import pytest

from cs231n_pool import _backend

# The loop kernels need the compiled extension; without it only the taught path runs, except
# where the extension is required (CI): there a missing _direct fails every "direct" test.
REQUIRE_EXTENSION = os.environ.get("CS231N_POOL_REQUIRE_EXTENSION") == "1"
METHODS = list(_backend.METHODS if REQUIRE_EXTENSION else _backend.available_methods())
TOL = {np.dtype(np.float32): dict(rtol=1e-6, atol=1e-6), np.dtype(np.float64): dict(rtol=1e-12, atol=1e-12)}


def distinct_values(shape, dtype, seed=0):
    """A shuffled arange scaled to ~[-1, 1): all values differ, so every argmax is unambiguous."""
    n = int(np.prod(shape))
    values = np.random.default_rng(seed).permutation(n).astype(np.float64) / max(n, 1) * 2 - 1
    return values.reshape(shape).astype(dtype)


def normal_values(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_close(ours, theirs, dtype, what):
    ours = np.asarray(ours)
    assert ours.dtype == np.dtype(dtype), f"{what}: dtype {ours.dtype} != {np.dtype(dtype)}"
    np.testing.assert_allclose(ours, theirs, err_msg=what, **TOL[np.dtype(dtype)])


def torch_module():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def torch_run(op, x, dout_seed=1):
    """Run ``op(tensor)`` in torch; returns (out, indices or None, dx, dout) or None if torch rejects it."""
    torch = torch_module()
    xt = torch.tensor(x, requires_grad=True)
    try:
        result = op(xt)
    except (RuntimeError, ValueError, IndexError):  # torch's max_unpool2d raises IndexError for stride=(2,)
        return None
    out, idx = result if isinstance(result, tuple) else (result, None)
    dout = normal_values(tuple(out.shape), x.dtype, dout_seed)
    out.backward(torch.tensor(dout))
    return (out.detach().numpy(), None if idx is None else idx.numpy(), xt.grad.numpy(), dout)


def expect_rejected(*calls):
    for call in calls:
        with pytest.raises((ValueError, TypeError)):
            call()


def pool_param(kernel_size, stride, padding):
    # an int, a pair, or torch's one-entry form (k,) meaning (k, k)
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else (tuple(kernel_size) * 2)[-2:]
    return dict(pool_height=kh, pool_width=kw, stride=(kh, kw) if stride is None else stride, pad=padding)
