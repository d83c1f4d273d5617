# cython: language_level=3
"""Compiled im2col/col2im and column argmax (float32/float64, same API as im2col_numpy).

Column layout (CS231n's): ``cols`` has shape (C*kh*kw, out_h*out_w*N); row
``c*kh*kw + i*kw + j`` holds window offset (i, j) of channel c, column
``(oh*out_w + ow)*N + n`` holds window (oh, ow) of image n. Window (oh, ow) reads
input cell (oh*sh - ph + i*dh, ow*sw - pw + j*dw); a cell outside [0, H) x [0, W)
reads ``pad_value`` in im2col and is dropped in col2im. ph/pw are the top/left
padding; out_h/out_w come from the caller (geometry.pool_geometry), so ceil mode
and asymmetric 'same' padding need nothing special here.

The caller validates every argument (cs231n_pool.im2col); these kernels trust
them. Inputs must be C-contiguous.
"""
import numpy as np

from cython cimport floating

from libc.stdint cimport int64_t

# Columns handled per pass of column_argmax: the running max/row stay in L1.
cdef enum:
    M_BLOCK = 1024


def im2col(const floating[:, :, :, ::1] x, Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw,
           Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t out_h, Py_ssize_t out_w,
           double pad_value=0.0):
    """(N, C, H, W) -> (C*kh*kw, out_h*out_w*N) of x's dtype, padding with ``pad_value``."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1]
    dtype = np.float32 if floating is float else np.float64
    cols = np.empty((C * kh * kw, out_h * out_w * N), dtype=dtype)
    cdef floating[:, ::1] out = cols
    if out.shape[0] == 0 or out.shape[1] == 0:
        return cols
    with nogil:
        _im2col_fill(x, &out[0, 0], kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, <floating>pad_value)
    return cols


cdef void _im2col_fill(const floating[:, :, :, ::1] x, floating* out, Py_ssize_t kh, Py_ssize_t kw,
                       Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh,
                       Py_ssize_t dw, Py_ssize_t out_h, Py_ssize_t out_w, floating pad) noexcept nogil:
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t image = C * H * W
    cdef const floating* base = &x[0, 0, 0, 0]
    cdef const floating* src
    cdef floating* dst = out
    cdef Py_ssize_t c, i, j, oh, ow, n, ih, iw
    # Rows, then windows, then images: the column matrix is written front to back.
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                for oh in range(out_h):
                    ih = oh * sh - ph + i * dh
                    for ow in range(out_w):
                        iw = ow * sw - pw + j * dw
                        if 0 <= ih < H and 0 <= iw < W:
                            src = base + (c * H + ih) * W + iw
                            for n in range(N):
                                dst[n] = src[n * image]
                        else:
                            for n in range(N):
                                dst[n] = pad
                        dst += N


def col2im(const floating[:, ::1] cols, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
           Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
           Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t out_h, Py_ssize_t out_w):
    """Adjoint of im2col: (C*kh*kw, out_h*out_w*N) -> (N, C, H, W), summing overlapping windows."""
    dtype = np.float32 if floating is float else np.float64
    x = np.zeros((N, C, H, W), dtype=dtype)
    cdef floating[:, :, :, ::1] dx = x
    if x.size == 0 or cols.shape[0] == 0 or cols.shape[1] == 0:
        return x
    with nogil:
        _col2im_add(&cols[0, 0], dx, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
    return x


cdef void _col2im_add(const floating* cols, floating[:, :, :, ::1] dx, Py_ssize_t kh, Py_ssize_t kw,
                      Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh,
                      Py_ssize_t dw, Py_ssize_t out_h, Py_ssize_t out_w) noexcept nogil:
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t image = C * H * W
    cdef floating* base = &dx[0, 0, 0, 0]
    cdef floating* dst
    cdef const floating* src = cols
    cdef Py_ssize_t c, i, j, oh, ow, n, ih, iw
    # Same order as im2col, so every cell sums its contributions in the order
    # numpy's np.add.at does: results match the reference bit for bit.
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                for oh in range(out_h):
                    ih = oh * sh - ph + i * dh
                    for ow in range(out_w):
                        iw = ow * sw - pw + j * dw
                        if 0 <= ih < H and 0 <= iw < W:
                            dst = base + (c * H + ih) * W + iw
                            for n in range(N):
                                dst[n * image] += src[n]
                        src += N


def column_argmax(const floating[:, ::1] cols):
    """Max and its row over axis 0 of a (K, M) matrix: (values (M,), rows (M,) int64).

    PyTorch's scan rule: rows 0..K-1 in order, replace when ``val > cur or
    isnan(val)``, from cur=-inf, row=-1. Ties -> first max, NaN -> last NaN, an
    all -inf column -> row -1 with value -inf.
    """
    cdef Py_ssize_t K = cols.shape[0], M = cols.shape[1]
    dtype = np.float32 if floating is float else np.float64
    values = np.full(M, -np.inf, dtype=dtype)
    rows = np.full(M, -1, dtype=np.int64)
    cdef floating[::1] best = values
    cdef int64_t[::1] where = rows
    if K == 0 or M == 0:
        return values, rows
    with nogil:
        _column_argmax(&cols[0, 0], K, M, &best[0], &where[0])
    return values, rows


cdef void _column_argmax(const floating* cols, Py_ssize_t K, Py_ssize_t M, floating* best,
                         int64_t* where) noexcept nogil:
    cdef Py_ssize_t b, m0, m1, r, m
    cdef const floating* row
    cdef floating v
    # Blocks of columns, rows swept inside a block: every read is sequential and
    # the running max/row of the block stay in cache.
    for b in range((M + M_BLOCK - 1) // M_BLOCK):
        m0 = b * M_BLOCK
        m1 = min(m0 + M_BLOCK, M)
        for r in range(K):
            row = cols + r * M
            for m in range(m0, m1):
                v = row[m]
                if v > best[m] or v != v:
                    best[m] = v
                    where[m] = r
