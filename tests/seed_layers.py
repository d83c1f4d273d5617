"""Layers the gradient-check tests run through check_layer: the loop reference, and the
forwards of a typical numpy pooling tutorial with two classic wrong backward passes
written out: a max-pool backward that reinterprets the per-window
gradient buffer with as_strided instead of routing each window's gradient to its
argmax, and an average-pool backward that divides by the padded input area instead of
the window area. Each seed layer also has a correct backward for comparison.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from cs231n_pool.naive import (
    avg_pool_backward_naive,
    avg_pool_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)


class NaiveMaxpool:
    """CS231n-style wrapper of the loop reference (first-max ties, -inf padding)."""

    def __init__(self, pool_param):
        self.pool_param = pool_param

    def forward(self, x):
        out, self.cache = max_pool_forward_naive(x, self.pool_param)
        return out

    def backward(self, dout):
        return max_pool_backward_naive(dout, self.cache)


class NaiveAvgpool(NaiveMaxpool):
    def forward(self, x):
        out, self.cache = avg_pool_forward_naive(x, self.pool_param)
        return out

    def backward(self, dout):
        return avg_pool_backward_naive(dout, self.cache)


def strided_windows(xp, k, s):
    """(N, C, H + 2p, W + 2p) -> read-only view (N, C, H', W', k, k) of every k x k window at stride s."""
    N, C, padded_h, padded_w = xp.shape
    out_h, out_w = (padded_h - k) // s + 1, (padded_w - k) // s + 1
    sn, sc, sh, sw = xp.strides
    return as_strided(xp, (N, C, out_h, out_w, k, k), (sn, sc, sh * s, sw * s, sh, sw), writeable=False)


class SeedMaxpool:
    """The tutorial's max pooling: windows via as_strided, a mask of each window's maxima.

    backward_kind 'seed' reinterprets the (N, C, H', W', k, k) masked-gradient buffer
    as an (N, C, H, W) array with as_strided (the tutorial's bug); 'routed' adds each
    window's gradient to its masked cells (correct for inputs without ties).
    """

    def __init__(self, k, s, backward_kind):
        self.k, self.s, self.backward_kind = k, s, backward_kind

    def forward(self, x):
        self.x = np.array(x, copy=True)
        windows = strided_windows(self.x, self.k, self.s)
        out = windows.max(axis=(4, 5))
        self.mask = windows == out[..., None, None]
        return out

    def backward(self, dout):
        per_window = np.ascontiguousarray(dout[..., None, None] * self.mask)
        if self.backward_kind == "seed":
            if per_window.size < self.x.size:
                raise ValueError("this re-derivation needs at least as many window cells as inputs")
            contiguous_strides = np.zeros(self.x.shape).strides
            return as_strided(per_window, self.x.shape, contiguous_strides).copy()
        dx = np.zeros_like(self.x)
        out_h, out_w = dout.shape[2:]
        for oh in range(out_h):
            for ow in range(out_w):
                rows = slice(oh * self.s, oh * self.s + self.k)
                cols = slice(ow * self.s, ow * self.s + self.k)
                dx[:, :, rows, cols] += per_window[:, :, oh, ow]
        return dx


class SeedAvgpool:
    """The tutorial's average pooling with zero padding p (padded zeros count in the mean).

    backward_kind 'seed' divides the spread gradient by the padded input area
    Hp*Wp (the tutorial's bug); 'window' divides by the window area k*k.
    """

    def __init__(self, k, s, p, backward_kind):
        self.k, self.s, self.p, self.backward_kind = k, s, p, backward_kind

    def forward(self, x):
        self.x_shape = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (self.p, self.p), (self.p, self.p)))
        return strided_windows(xp, self.k, self.s).mean(axis=(4, 5))

    def backward(self, dout):
        N, C, H, W = self.x_shape
        dxp = np.zeros((N, C, H + 2 * self.p, W + 2 * self.p))
        out_h, out_w = dout.shape[2:]
        for oh in range(out_h):
            for ow in range(out_w):
                rows = slice(oh * self.s, oh * self.s + self.k)
                cols = slice(ow * self.s, ow * self.s + self.k)
                dxp[:, :, rows, cols] += dout[:, :, oh : oh + 1, ow : ow + 1]
        divisor = dxp.shape[2] * dxp.shape[3] if self.backward_kind == "seed" else self.k * self.k
        return (dxp / divisor)[:, :, self.p : self.p + H, self.p : self.p + W]
