# cython: language_level=3
"""Fused adaptive pooling kernels on C-contiguous (P, H, W) planes (P = N*C), float32/float64.

The bins come from the caller (geometry.adaptive_bins): output row oh reads input rows
``[hs[oh], he[oh])``, output column ow reads columns ``[ws[ow], we[ow])``; bins may overlap
or share cells. Each kernel runs an OpenMP ``prange`` over the planes (serially when the
extension was built without OpenMP). The caller (cs231n_pool.ops) validates everything;
these kernels trust their arguments.

The orders are PyTorch's CPU orders, so the results are torch's bit for bit:

* max: each bin is scanned row-major from -inf with its first cell's index, and a value
  replaces the running max when it is greater or NaN (ties: first maximum; NaN: last NaN).
* average: each bin's cells are added row-major in the input dtype from 0, then divided by
  kh and then by kw. The backward adds ``dout / kh / kw`` to every cell of the bin, bins in
  row-major order. For a 1x1 output (``mean``) torch computes a mean instead: its backward
  sets every cell to ``dout / (H*W)``, which ``avg_backward(mean=True)`` does too; its forward is torch's
  vectorised sum, which these kernels do not reproduce: ``avg_forward(mean=True)`` sums each
  plane in numpy's pairwise order (what ``plane.sum()`` gives) and divides once by H*W.

Every kernel works one bin at a time (the average ones are C, in _adaptive_kernels.h): the
sums of neighbouring bins are independent chains of adds, which the CPU overlaps. That beat
running the sums of a whole output row side by side with masked cells (one thread, hot, S1 to
7x7, in a C harness: forward 1.6 against 3.7 ms, backward 2.2 against 4.4 ms).
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.stdint cimport int64_t

cdef extern from "_adaptive_kernels.h":
    int cs231n_pool_adaptive_openmp() noexcept nogil
    void cs231n_pool_leaf8_f(const float* a, Py_ssize_t n, Py_ssize_t stride, float* res) noexcept nogil
    void cs231n_pool_leaf8_d(const double* a, Py_ssize_t n, Py_ssize_t stride, double* res) noexcept nogil
    void cs231n_pool_avg_bins_f(const float* x, float* o, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                                const Py_ssize_t* hs, const Py_ssize_t* he, const Py_ssize_t* ws,
                                const Py_ssize_t* we) noexcept nogil
    void cs231n_pool_avg_bins_d(const double* x, double* o, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                                const Py_ssize_t* hs, const Py_ssize_t* he, const Py_ssize_t* ws,
                                const Py_ssize_t* we) noexcept nogil
    void cs231n_pool_avg_bins_back_f(const float* g, float* dx, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                                     Py_ssize_t OW, const Py_ssize_t* hs, const Py_ssize_t* he,
                                     const Py_ssize_t* ws, const Py_ssize_t* we) noexcept nogil
    void cs231n_pool_avg_bins_back_d(const double* g, double* dx, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,
                                     Py_ssize_t OW, const Py_ssize_t* hs, const Py_ssize_t* he,
                                     const Py_ssize_t* ws, const Py_ssize_t* we) noexcept nogil

HAVE_OPENMP = bool(cs231n_pool_adaptive_openmp())

cdef enum:
    # Planes summed side by side by the 1x1 mean, so that independent chains of
    # accumulators hide the add latency (S1 to 1x1, one thread, hot, shared machine:
    # 0.29-0.32 ms; numpy's plane.sum 0.58 ms, torch's mean 0.16-0.17 ms).
    LANES = 8
    # numpy's pairwise-sum leaf size
    PW_BLOCKSIZE = 128


def max_forward(const floating[:, :, ::1] x, floating[:, :, ::1] out, int64_t[:, :, ::1] idx,
                const Py_ssize_t[::1] hs, const Py_ssize_t[::1] he, const Py_ssize_t[::1] ws,
                const Py_ssize_t[::1] we, int threads):
    """Adaptive max of every plane into out (P, OH, OW), with flat ``ih*W + iw`` indices in idx."""
    cdef Py_ssize_t p, P = x.shape[0], W = x.shape[2], OH = out.shape[1], OW = out.shape[2]
    if P == 0:
        return
    for p in prange(P, nogil=True, num_threads=threads, schedule="static"):
        _max_plane(&x[p, 0, 0], &out[p, 0, 0], &idx[p, 0, 0], W, OH, OW, &hs[0], &he[0], &ws[0], &we[0])


cdef void _max_plane(const floating* x, floating* o, int64_t* idx, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                     const Py_ssize_t* hs, const Py_ssize_t* he, const Py_ssize_t* ws,
                     const Py_ssize_t* we) noexcept nogil:
    # One bin at a time, the running max in registers. A new maximum is rare once a scan is
    # under way, so the branch is well predicted; it beat a branch-free select across the
    # output row (one thread, hot: S1 to 7x7 9.3 vs 11.4 ms, to 13x13 18.7 vs 22.3 ms, torch
    # 12.0 and 25.7 ms; the large case 151 vs 203 ms, torch 255 and 356 ms in those runs).
    cdef Py_ssize_t oh, ow, a, b, best
    cdef const floating* row
    cdef floating v, cur
    for oh in range(OH):
        for ow in range(OW):
            cur = -INFINITY
            best = hs[oh] * W + ws[ow]
            for a in range(hs[oh], he[oh]):
                row = x + a * W
                for b in range(ws[ow], we[ow]):
                    v = row[b]
                    if v > cur or v != v:
                        cur = v
                        best = a * W + b
            o[ow] = cur
            idx[ow] = best
        o += OW
        idx += OW


def avg_forward(const floating[:, :, ::1] x, floating[:, :, ::1] out,
                const Py_ssize_t[::1] hs, const Py_ssize_t[::1] he, const Py_ssize_t[::1] ws,
                const Py_ssize_t[::1] we, bint mean, int threads):
    """Adaptive average of every plane into out (P, OH, OW); ``mean``: a 1x1 output (see the module)."""
    cdef Py_ssize_t p, g, P = x.shape[0], H = x.shape[1], W = x.shape[2], OH = out.shape[1], OW = out.shape[2]
    if P == 0:
        return
    if mean:
        for g in prange((P + LANES - 1) // LANES, nogil=True, num_threads=threads, schedule="static"):
            _mean_planes(&x[g * LANES, 0, 0], &out[g * LANES, 0, 0], H * W, min(<Py_ssize_t>LANES, P - g * LANES))
        return
    for p in prange(P, nogil=True, num_threads=threads, schedule="static"):
        if floating is float:
            cs231n_pool_avg_bins_f(&x[p, 0, 0], &out[p, 0, 0], W, OH, OW, &hs[0], &he[0], &ws[0], &we[0])
        else:
            cs231n_pool_avg_bins_d(&x[p, 0, 0], &out[p, 0, 0], W, OH, OW, &hs[0], &he[0], &ws[0], &we[0])


cdef void _mean_planes(const floating* x, floating* o, Py_ssize_t n, Py_ssize_t lanes) noexcept nogil:
    """o[l] = (0 + pairwise sum of plane l) / n for the `lanes` (<= LANES) planes of n cells from x."""
    cdef floating sums[LANES]
    cdef Py_ssize_t l
    _pairwise(x, n, n, lanes, sums)
    for l in range(lanes):
        o[l] = (0 + sums[l]) / <floating>n


cdef void _pairwise(const floating* a, Py_ssize_t n, Py_ssize_t stride, Py_ssize_t lanes,
                    floating* res) noexcept nogil:
    """numpy's pairwise sum of n cells, for `lanes` arrays `stride` apart at once (res[l] for array l)."""
    cdef floating r[LANES * 8]
    cdef floating right[LANES]
    cdef Py_ssize_t i, j, l, n2
    if n < 8:
        for l in range(lanes):
            res[l] = -0.0
            for i in range(n):
                res[l] = res[l] + a[l * stride + i]
    elif n <= PW_BLOCKSIZE and lanes == LANES:
        if floating is float:
            cs231n_pool_leaf8_f(a, n, stride, res)
        else:
            cs231n_pool_leaf8_d(a, n, stride, res)
    elif n <= PW_BLOCKSIZE:
        for l in range(lanes):
            for j in range(8):
                r[l * 8 + j] = a[l * stride + j]
        i = 8
        while i < n - (n % 8):
            for l in range(lanes):
                for j in range(8):
                    r[l * 8 + j] = r[l * 8 + j] + a[l * stride + i + j]
            i += 8
        for l in range(lanes):
            res[l] = (((r[l * 8] + r[l * 8 + 1]) + (r[l * 8 + 2] + r[l * 8 + 3]))
                      + ((r[l * 8 + 4] + r[l * 8 + 5]) + (r[l * 8 + 6] + r[l * 8 + 7])))
            for j in range(i, n):
                res[l] = res[l] + a[l * stride + j]
    else:
        n2 = n // 2
        n2 -= n2 % 8
        _pairwise(a, n2, stride, lanes, res)
        _pairwise(a + n2, n - n2, stride, lanes, right)
        for l in range(lanes):
            res[l] = res[l] + right[l]


def avg_backward(const floating[:, :, ::1] dout, floating[:, :, ::1] dx,
                 const Py_ssize_t[::1] hs, const Py_ssize_t[::1] he, const Py_ssize_t[::1] ws,
                 const Py_ssize_t[::1] we, bint mean, int threads):
    """dx = 0, then each bin's ``dout / kh / kw`` (``mean``: ``dout / (H*W)``) added to its cells."""
    cdef Py_ssize_t p, k, P = dx.shape[0], H = dx.shape[1], W = dx.shape[2], OH = dout.shape[1], OW = dout.shape[2]
    cdef floating s
    if P == 0:
        return
    for p in prange(P, nogil=True, num_threads=threads, schedule="static"):
        if mean:  # torch's mean backward: every cell is dout / (H*W) itself (a -0 stays -0)
            s = dout[p, 0, 0] / <floating>(H * W)
            for k in range(H * W):
                (&dx[p, 0, 0])[k] = s
        elif floating is float:
            cs231n_pool_avg_bins_back_f(&dout[p, 0, 0], &dx[p, 0, 0], H, W, OH, OW, &hs[0], &he[0], &ws[0], &we[0])
        else:
            cs231n_pool_avg_bins_back_d(&dout[p, 0, 0], &dx[p, 0, 0], H, W, OH, OW, &hs[0], &he[0], &ws[0], &we[0])
