# cython: language_level=3
"""Fused pooling kernels that work straight on C-contiguous (P, H, W) planes.

P = N*C: the wrappers in direct.py reshape (N, C, H, W) to planes, validate every
argument and precompute the window placement, so these kernels never see bad
input. Each kernel runs an OpenMP ``prange`` over the planes, or over the threads'
ranges of planes (serially when the extension was built without OpenMP).

Window placement arrays (all from geometry.window_placement, one entry per output
row or column): ``row_start[oh]`` is the first in-bounds input row of window row
``oh`` (padding rows skipped in steps of the dilation), ``row_count[oh]`` how many
in-bounds rows it reads; likewise ``col_start``/``col_count``. Output columns
``[ow_lo, ow_hi)`` are interior: all kernel_w columns in bounds, at
``ow*stride_w - pad_left + j*dilation_w``. Those are processed a cell at a time
across the whole output row (a contiguous, vectorisable loop); the scan order
inside each window stays row-major, so ties and NaN resolve exactly as in a
per-window scan. Padding is never read (max: it is -inf and never wins;
average: it adds nothing).

Hot loops are small C functions in ``_direct_kernels.h`` so the compiler
vectorises them: whole 2x2 / 3x3 windows held in registers, literal strides 1 and
2, a 32-bit running argmax (same lane width as a float), a separable max (row
runs, then across rows, a whole plane per call) for 2x2 windows at stride 1 and 3x3
at stride 1 or 2, and on x86-64 Linux
with GCC AVX2 and AVX-512 clones chosen at load time. Every other geometry takes the
generic cell-at-a-time loops, with the same scan order.
"""
from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, int64_t
from libc.math cimport INFINITY
from libc.string cimport memset

ctypedef fused floating:
    float
    double

cdef extern from "_direct_kernels.h":
    int cs231n_pool_have_openmp() nogil
    int cs231n_pool_max_threads() nogil

HAVE_OPENMP = bool(cs231n_pool_have_openmp())


def openmp_max_threads():
    """omp_get_max_threads() when built with OpenMP, else 1."""
    return cs231n_pool_max_threads()


# ---------------------------------------------------------------- max forward

# The running-max update is written in C so that the compiler vectorises it: the
# comparison mask and a 32-bit running index have the same lane width as a float,
# and the select is unconditional. Literal strides 1 and 2 get their own loops.
cdef extern from "_direct_kernels.h":
    void cs231n_pool_max_f1(const float* xs, float* o, int32_t* b, Py_ssize_t n, Py_ssize_t stride, int32_t base) noexcept nogil
    void cs231n_pool_max_f2(const float* xs, float* o, int32_t* b, Py_ssize_t n, Py_ssize_t stride, int32_t base) noexcept nogil
    void cs231n_pool_max_fs(const float* xs, float* o, int32_t* b, Py_ssize_t n, Py_ssize_t stride, int32_t base) noexcept nogil
    void cs231n_pool_max_d1(const double* xs, double* o, int32_t* b, Py_ssize_t n, Py_ssize_t stride, int32_t base) noexcept nogil
    void cs231n_pool_max_d2(const double* xs, double* o, int32_t* b, Py_ssize_t n, Py_ssize_t stride, int32_t base) noexcept nogil
    void cs231n_pool_max_ds(const double* xs, double* o, int32_t* b, Py_ssize_t n, Py_ssize_t stride, int32_t base) noexcept nogil
    float cs231n_pool_max_clipped_f(const float* x, Py_ssize_t W, Py_ssize_t r0, Py_ssize_t rows, Py_ssize_t dh,
                                    Py_ssize_t c0, Py_ssize_t cols, Py_ssize_t dw, int64_t* best) noexcept nogil
    double cs231n_pool_max_clipped_d(const double* x, Py_ssize_t W, Py_ssize_t r0, Py_ssize_t rows, Py_ssize_t dh,
                                     Py_ssize_t c0, Py_ssize_t cols, Py_ssize_t dw, int64_t* best) noexcept nogil
    void cs231n_pool_sep_plane_f(const float* x, float* o, int64_t* idx, float* hv, int32_t* hi,
                                 Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kernel,
                                 Py_ssize_t stride, Py_ssize_t pl, const Py_ssize_t* row_start,
                                 const Py_ssize_t* row_count, const Py_ssize_t* col_start,
                                 const Py_ssize_t* col_count, Py_ssize_t ow_lo, Py_ssize_t ow_hi,
                                 const int32_t* cls) noexcept nogil
    void cs231n_pool_sep_plane_d(const double* x, double* o, int64_t* idx, double* hv, int32_t* hi,
                                 Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kernel,
                                 Py_ssize_t stride, Py_ssize_t pl, const Py_ssize_t* row_start,
                                 const Py_ssize_t* row_count, const Py_ssize_t* col_start,
                                 const Py_ssize_t* col_count, Py_ssize_t ow_lo, Py_ssize_t ow_hi,
                                 const int32_t* cls) noexcept nogil
    int cs231n_pool_max_window_f(const float* x0, Py_ssize_t rstride, float* o, int32_t* b,
                                 Py_ssize_t n, Py_ssize_t stride, Py_ssize_t kernel, int32_t base) noexcept nogil
    int cs231n_pool_max_window_d(const double* x0, Py_ssize_t rstride, double* o, int32_t* b,
                                 Py_ssize_t n, Py_ssize_t stride, Py_ssize_t kernel, int32_t base) noexcept nogil


cdef inline void _max_cells(const floating* xs, floating* o, int32_t* b, Py_ssize_t n,
                            Py_ssize_t stride, int32_t base) noexcept nogil:
    """Offer cell ``xs[k*stride]`` (flat index base + k*stride) to running max k, for k < n."""
    if floating is float:
        if stride == 1:
            cs231n_pool_max_f1(xs, o, b, n, stride, base)
        elif stride == 2:
            cs231n_pool_max_f2(xs, o, b, n, stride, base)
        else:
            cs231n_pool_max_fs(xs, o, b, n, stride, base)
    else:
        if stride == 1:
            cs231n_pool_max_d1(xs, o, b, n, stride, base)
        elif stride == 2:
            cs231n_pool_max_d2(xs, o, b, n, stride, base)
        else:
            cs231n_pool_max_ds(xs, o, b, n, stride, base)


cdef void _max_rows(const floating* x, floating* o, int32_t* b, Py_ssize_t W, Py_ssize_t n,
                    Py_ssize_t kw, Py_ssize_t sw, Py_ssize_t dh, Py_ssize_t dw,
                    Py_ssize_t rows, Py_ssize_t first) noexcept nogil:
    """Any window, a cell at a time: start at each window's first cell, offer the others in row-major order."""
    cdef Py_ssize_t k, i, j, cell
    for k in range(n):
        o[k] = x[first + k * sw]
        b[k] = <int32_t>(first + k * sw)
    for i in range(rows):
        for j in range(kw):
            if i == 0 and j == 0:
                continue
            cell = first + i * dh * W + j * dw
            _max_cells(x + cell, o, b, n, sw, <int32_t>cell)


cdef inline bint _max_windows(const floating* x0, Py_ssize_t rstride, floating* o, int32_t* b,
                              Py_ssize_t n, Py_ssize_t stride, Py_ssize_t kernel, int32_t base) noexcept nogil:
    """Square in-bounds blocks of side 2 or 3 with adjacent columns at once; False (nothing done) otherwise."""
    if floating is float:
        return cs231n_pool_max_window_f(x0, rstride, o, b, n, stride, kernel, base)
    else:
        return cs231n_pool_max_window_d(x0, rstride, o, b, n, stride, kernel, base)


cdef inline void _max_clipped(const floating* x, Py_ssize_t W, Py_ssize_t r0, Py_ssize_t rows, Py_ssize_t dh,
                              Py_ssize_t c0, Py_ssize_t cols, Py_ssize_t dw, floating* out, int64_t* best) noexcept nogil:
    """out[0], best[0] = max and argmax of one clipped window (rows x cols in-bounds cells)."""
    if floating is float:
        out[0] = cs231n_pool_max_clipped_f(x, W, r0, rows, dh, c0, cols, dw, best)
    else:
        out[0] = cs231n_pool_max_clipped_d(x, W, r0, rows, dh, c0, cols, dw, best)


cdef void _max_plane(const floating* x, floating* o, int64_t* idx, int32_t* b, Py_ssize_t W,
                     Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kw, Py_ssize_t sw, Py_ssize_t pl,
                     Py_ssize_t dh, Py_ssize_t dw,
                     const Py_ssize_t* row_start, const Py_ssize_t* row_count,
                     const Py_ssize_t* col_start, const Py_ssize_t* col_count,
                     Py_ssize_t ow_lo, Py_ssize_t ow_hi) noexcept nogil:
    """One plane. b: scratch for the running 32-bit indices of one output row."""
    cdef Py_ssize_t oh, ow, n_in, cell
    for oh in range(OH):
        # a dilated window can miss the plane entirely; then every column takes the border path
        n_in = ow_hi - ow_lo if row_count[oh] > 0 else 0
        # interior columns: start from the window's first cell, then offer the rest
        if n_in > 0:
            cell = row_start[oh] * W + ow_lo * sw - pl
            # the whole in-bounds block is kw x kw for most rows of 2x2 and 3x3 pooling
            if not (row_count[oh] == kw and dw == 1 and
                    _max_windows(x + cell, dh * W, o + ow_lo, b, n_in, sw, kw, <int32_t>cell)):
                _max_rows(x, o + ow_lo, b, W, n_in, kw, sw, dh, dw, row_count[oh], cell)
            for ow in range(n_in):
                idx[ow_lo + ow] = b[ow]
        # border columns (all columns when no interior run was done): clipped windows, one at a time
        for ow in range(ow_lo if n_in > 0 else OW):
            _max_clipped(x, W, row_start[oh], row_count[oh], dh, col_start[ow], col_count[ow], dw, o + ow, idx + ow)
        for ow in range(ow_hi if n_in > 0 else OW, OW):
            _max_clipped(x, W, row_start[oh], row_count[oh], dh, col_start[ow], col_count[ow], dw, o + ow, idx + ow)
        o += OW
        idx += OW


cdef inline void _max_plane_separable(const floating* x, floating* o, int64_t* idx, floating* hv, int32_t* hi,
                                      Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kw,
                                      Py_ssize_t sw, Py_ssize_t pl,
                                      const Py_ssize_t* row_start, const Py_ssize_t* row_count,
                                      const Py_ssize_t* col_start, const Py_ssize_t* col_count,
                                      Py_ssize_t ow_lo, Py_ssize_t ow_hi, const int32_t* cls) noexcept nogil:
    """One plane of kw x kw pooling at stride sw, no dilation (see CS231N_POOL_SEP_PLANE).

    hv/hi: (H, OW) scratch for the run maxima of every input row under every output column.
    cls: NULL, or the (H, OW) run classes of the one-loop 3x3 path (0 whole, 1 drop first, 2 drop last).
    """
    if floating is float:
        cs231n_pool_sep_plane_f(x, o, idx, hv, hi, H, W, OH, OW, kw, sw, pl, row_start, row_count,
                                col_start, col_count, ow_lo, ow_hi, cls)
    else:
        cs231n_pool_sep_plane_d(x, o, idx, hv, hi, H, W, OH, OW, kw, sw, pl, row_start, row_count,
                                col_start, col_count, ow_lo, ow_hi, cls)


def max_forward(const floating[:, :, ::1] x, floating[:, :, ::1] out, int64_t[:, :, ::1] idx,
                int32_t[:, ::1] scratch, floating[:, ::1] row_values, int32_t[:, ::1] row_indices,
                bint separable, const int32_t[::1] run_class,
                Py_ssize_t kw, Py_ssize_t sw, Py_ssize_t pl, Py_ssize_t dh, Py_ssize_t dw,
                const Py_ssize_t[::1] row_start, const Py_ssize_t[::1] row_count,
                const Py_ssize_t[::1] col_start, const Py_ssize_t[::1] col_count,
                Py_ssize_t ow_lo, Py_ssize_t ow_hi, int threads):
    """Max pooling of every plane: fills out (P, OH, OW) and idx (flat ih*W + iw).

    scratch: (threads, OW) int32, one row per thread; H*W must fit in int32.
    separable: square 2x2 windows at stride 1 or 3x3 at stride 1 or 2, without dilation, and
    every window row and column count >= 1; then row_values and row_indices are
    (threads, H * OW) scratch for the per-row run maxima. run_class is empty or, for 3x3
    windows with W == stride * OW (direct.py passes it at stride 1), the (H * OW) class of
    every run (0 all cells in bounds, 1 first cell outside, 2 last cell outside), which lets
    one loop do every run.
    """
    cdef Py_ssize_t p, P = x.shape[0], H = x.shape[1], W = x.shape[2], OH = out.shape[1], OW = out.shape[2]
    if run_class.shape[0] not in (0, H * OW):
        raise ValueError(f"run_class must be empty or hold H * OW = {H * OW} entries, got {run_class.shape[0]}")
    if P == 0:
        return
    for p in prange(P, nogil=True, num_threads=threads, schedule="guided"):
        if separable:
            _max_plane_separable(&x[p, 0, 0], &out[p, 0, 0], &idx[p, 0, 0],
                                 &row_values[threadid(), 0], &row_indices[threadid(), 0], H, W, OH, OW, kw, sw, pl,
                                 &row_start[0], &row_count[0], &col_start[0], &col_count[0], ow_lo, ow_hi,
                                 &run_class[0] if run_class.shape[0] > 0 else NULL)
        else:
            _max_plane(&x[p, 0, 0], &out[p, 0, 0], &idx[p, 0, 0], &scratch[threadid(), 0], W, OH, OW,
                       kw, sw, pl, dh, dw, &row_start[0], &row_count[0], &col_start[0], &col_count[0],
                       ow_lo, ow_hi)


cdef void _scatter_plane(const floating* g, const int64_t* where, floating* plane, Py_ssize_t n_out,
                         Py_ssize_t HW) noexcept nogil:
    cdef Py_ssize_t k
    cdef int64_t target
    for k in range(n_out):
        target = where[k]
        if 0 <= target < HW:
            plane[target] += g[k]


def max_backward(const floating[:, :, ::1] dout, const int64_t[:, :, ::1] idx,
                 floating[:, :, ::1] dx, int threads):
    """dx = 0, then dx[plane, idx] += dout for every output; indices outside the plane are skipped."""
    cdef Py_ssize_t p, t, lo, hi, P = dx.shape[0], HW = dx.shape[1] * dx.shape[2]
    cdef Py_ssize_t n_out = dout.shape[1] * dout.shape[2]
    if P == 0:
        return
    if n_out * 4 * 64 <= HW * <Py_ssize_t>sizeof(floating):
        # Outputs touch at most a quarter of a plane's cache lines (global or coarse adaptive
        # pooling): each thread zeroes its planes in one memset, which for a large dx streams
        # past the cache, and then touches only the cells it adds to.
        for t in prange(threads, nogil=True, num_threads=threads, schedule="static"):
            lo = t * P // threads
            hi = (t + 1) * P // threads
            if hi > lo:
                memset(&dx[lo, 0, 0], 0, (hi - lo) * HW * sizeof(floating))
            for p in range(lo, hi):
                _scatter_plane(&dout[p, 0, 0], &idx[p, 0, 0], &dx[p, 0, 0], n_out, HW)
        return
    for p in prange(P, nogil=True, num_threads=threads, schedule="guided"):
        # zero the plane just before scattering into it, while it is hot in cache
        memset(&dx[p, 0, 0], 0, HW * sizeof(floating))
        _scatter_plane(&dout[p, 0, 0], &idx[p, 0, 0], &dx[p, 0, 0], n_out, HW)


# ---------------------------------------------------------------- average

# Sums run in the input dtype in row-major window order (as PyTorch's CPU kernel and
# the im2col column sum do), so the outputs match both bit for bit.
cdef extern from "_direct_kernels.h":
    void cs231n_pool_add_f(const float* xs, float* acc, Py_ssize_t n, Py_ssize_t stride) noexcept nogil
    void cs231n_pool_add_d(const double* xs, double* acc, Py_ssize_t n, Py_ssize_t stride) noexcept nogil
    void cs231n_pool_spread_f(float* dxs, const float* g, Py_ssize_t n, Py_ssize_t stride) noexcept nogil
    void cs231n_pool_spread_d(double* dxs, const double* g, Py_ssize_t n, Py_ssize_t stride) noexcept nogil
    void cs231n_pool_spread_3s2_f(float* x0, const float* g, Py_ssize_t n) noexcept nogil
    void cs231n_pool_spread_3s2_d(double* x0, const double* g, Py_ssize_t n) noexcept nogil
    int cs231n_pool_spread_tiles_f(float* x0, Py_ssize_t rstride, const float* g, Py_ssize_t n,
                                   Py_ssize_t kernel) noexcept nogil
    int cs231n_pool_spread_tiles_d(double* x0, Py_ssize_t rstride, const double* g, Py_ssize_t n,
                                   Py_ssize_t kernel) noexcept nogil
    int cs231n_pool_sum_window_f(const float* x0, Py_ssize_t rstride, float* o, Py_ssize_t n, Py_ssize_t stride,
                                 Py_ssize_t kernel) noexcept nogil
    int cs231n_pool_sum_window_d(const double* x0, Py_ssize_t rstride, double* o, Py_ssize_t n, Py_ssize_t stride,
                                 Py_ssize_t kernel) noexcept nogil


cdef inline void _add_cells_any_stride(const floating* xs, floating* acc, Py_ssize_t n,
                                       Py_ssize_t stride) noexcept nogil:
    """acc[k] += xs[k*stride] for k < n."""
    if floating is float:
        cs231n_pool_add_f(xs, acc, n, stride)
    else:
        cs231n_pool_add_d(xs, acc, n, stride)


cdef inline void _spread_cells_any_stride(floating* dxs, const floating* g, Py_ssize_t n,
                                          Py_ssize_t stride) noexcept nogil:
    """dxs[k*stride] += g[k] for k < n."""
    if floating is float:
        cs231n_pool_spread_f(dxs, g, n, stride)
    else:
        cs231n_pool_spread_d(dxs, g, n, stride)


cdef inline void _spread_3s2(floating* x0, const floating* g, Py_ssize_t n) noexcept nogil:
    """One window row of n windows 3 wide at stride 2 (adjacent columns), n >= 1."""
    if floating is float:
        cs231n_pool_spread_3s2_f(x0, g, n)
    else:
        cs231n_pool_spread_3s2_d(x0, g, n)


cdef inline bint _spread_tiles(floating* x0, Py_ssize_t rstride, const floating* g, Py_ssize_t n,
                               Py_ssize_t kernel) noexcept nogil:
    """Non-overlapping square tiles of side 2 or 3 at once; False (nothing done) otherwise."""
    if floating is float:
        return cs231n_pool_spread_tiles_f(x0, rstride, g, n, kernel)
    else:
        return cs231n_pool_spread_tiles_d(x0, rstride, g, n, kernel)


cdef inline bint _sum_windows(const floating* x0, Py_ssize_t rstride, floating* o, Py_ssize_t n,
                              Py_ssize_t stride, Py_ssize_t kernel) noexcept nogil:
    """Square in-bounds blocks of side 2 or 3 with adjacent columns at once; False (nothing done) otherwise."""
    if floating is float:
        return cs231n_pool_sum_window_f(x0, rstride, o, n, stride, kernel)
    else:
        return cs231n_pool_sum_window_d(x0, rstride, o, n, stride, kernel)


cdef void _avg_plane(const floating* x, floating* o, const double* div, Py_ssize_t W,
                     Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kw, Py_ssize_t sw, Py_ssize_t pl,
                     Py_ssize_t dh, Py_ssize_t dw,
                     const Py_ssize_t* row_start, const Py_ssize_t* row_count,
                     const Py_ssize_t* col_start, const Py_ssize_t* col_count,
                     Py_ssize_t ow_lo, Py_ssize_t ow_hi) noexcept nogil:
    cdef Py_ssize_t oh, ow, i, j, r, n_in = ow_hi - ow_lo
    cdef floating total
    cdef bint whole
    for oh in range(OH):
        # sums in the input dtype, cells added in row-major window order
        for ow in range(OW):
            o[ow] = 0
        whole = (n_in > 0 and row_count[oh] == kw and dw == 1 and
                 _sum_windows(x + row_start[oh] * W + ow_lo * sw - pl, dh * W, o + ow_lo, n_in, sw, kw))
        for i in range(row_count[oh]):
            r = row_start[oh] + i * dh
            if n_in > 0 and not whole:
                for j in range(kw):
                    _add_cells_any_stride(x + r * W + ow_lo * sw - pl + j * dw, o + ow_lo, n_in, sw)
            for ow in range(OW):
                if ow_lo <= ow < ow_hi:
                    continue
                total = o[ow]
                for j in range(col_count[ow]):
                    total = total + x[r * W + col_start[ow] + j * dw]
                o[ow] = total
        for ow in range(OW):
            o[ow] = <floating>(o[ow] / div[ow])
        o += OW
        div += OW


def avg_forward(const floating[:, :, ::1] x, floating[:, :, ::1] out, const double[:, ::1] divisors,
                Py_ssize_t kw, Py_ssize_t sw, Py_ssize_t pl, Py_ssize_t dh, Py_ssize_t dw,
                const Py_ssize_t[::1] row_start, const Py_ssize_t[::1] row_count,
                const Py_ssize_t[::1] col_start, const Py_ssize_t[::1] col_count,
                Py_ssize_t ow_lo, Py_ssize_t ow_hi, int threads):
    """Average pooling of every plane: sum of the in-bounds cells / divisors[oh, ow]."""
    cdef Py_ssize_t p, P = x.shape[0], W = x.shape[2], OH = out.shape[1], OW = out.shape[2]
    if P == 0:
        return
    for p in prange(P, nogil=True, num_threads=threads, schedule="guided"):
        _avg_plane(&x[p, 0, 0], &out[p, 0, 0], &divisors[0, 0], W, OH, OW, kw, sw, pl, dh, dw,
                   &row_start[0], &row_count[0], &col_start[0], &col_count[0], ow_lo, ow_hi)


cdef void _avg_back_plane(const floating* dout, floating* dx, floating* g, const double* div,
                          Py_ssize_t HW, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kw,
                          Py_ssize_t sw, Py_ssize_t pl, Py_ssize_t dh, Py_ssize_t dw,
                          const Py_ssize_t* row_start, const Py_ssize_t* row_count,
                          const Py_ssize_t* col_start, const Py_ssize_t* col_count,
                          Py_ssize_t ow_lo, Py_ssize_t ow_hi) noexcept nogil:
    cdef Py_ssize_t oh, ow, i, j, r, n_in = ow_hi - ow_lo
    cdef bint whole
    memset(dx, 0, HW * sizeof(floating))
    for oh in range(OH):
        # each window's share, rounded once to the input dtype (as PyTorch does)
        for ow in range(OW):
            g[ow] = <floating>(dout[ow] / div[ow])
        whole = (n_in > 0 and row_count[oh] == kw and sw == kw and dw == 1 and
                 _spread_tiles(dx + row_start[oh] * W + ow_lo * sw - pl, dh * W, g + ow_lo, n_in, kw))
        # Every cell gets its windows' shares in row-major window order, PyTorch's order: the
        # left border columns, then the interior (j falling, so ow rises within a cell), then
        # the right border.
        for i in range(row_count[oh]):
            r = row_start[oh] + i * dh
            for ow in range(ow_lo if n_in > 0 else OW):
                for j in range(col_count[ow]):
                    dx[r * W + col_start[ow] + j * dw] += g[ow]
            if n_in > 0 and not whole and kw == 3 and sw == 2 and dw == 1:
                _spread_3s2(dx + r * W + ow_lo * sw - pl, g + ow_lo, n_in)
            elif n_in > 0 and not whole:
                for j in range(kw - 1, -1, -1):
                    _spread_cells_any_stride(dx + r * W + ow_lo * sw - pl + j * dw, g + ow_lo, n_in, sw)
            for ow in range(ow_hi if n_in > 0 else OW, OW):
                for j in range(col_count[ow]):
                    dx[r * W + col_start[ow] + j * dw] += g[ow]
        dout += OW
        div += OW


def avg_backward(const floating[:, :, ::1] dout, floating[:, :, ::1] dx, const double[:, ::1] divisors,
                 floating[:, ::1] scratch,
                 Py_ssize_t kw, Py_ssize_t sw, Py_ssize_t pl, Py_ssize_t dh, Py_ssize_t dw,
                 const Py_ssize_t[::1] row_start, const Py_ssize_t[::1] row_count,
                 const Py_ssize_t[::1] col_start, const Py_ssize_t[::1] col_count,
                 Py_ssize_t ow_lo, Py_ssize_t ow_hi, int threads):
    """dx = 0, then dout[oh, ow] / divisors[oh, ow] is added to every in-bounds cell of its window.

    scratch: (P, OW) buffer for the per-window shares (one row per plane, so threads never share one).
    """
    cdef Py_ssize_t p, P = dx.shape[0], W = dx.shape[2], HW = dx.shape[1] * dx.shape[2]
    cdef Py_ssize_t OH = dout.shape[1], OW = dout.shape[2]
    if P == 0:
        return
    for p in prange(P, nogil=True, num_threads=threads, schedule="guided"):
        _avg_back_plane(&dout[p, 0, 0], &dx[p, 0, 0], &scratch[p, 0], &divisors[0, 0], HW, W, OH, OW,
                        kw, sw, pl, dh, dw, &row_start[0], &row_count[0], &col_start[0], &col_count[0],
                        ow_lo, ow_hi)


# ---------------------------------------------------------------- whole planes through a padded copy

# Undilated K x K windows (K 2 or 3) at stride 1 or 2: max values without indices, and the
# average forward. Each plane is copied with its padding into per-thread scratch, so every
# window is a full block (exact: see _direct_planes.h).
cdef extern from "_direct_planes.h":
    void cs231n_pool_pad_plane_f(const float* x, Py_ssize_t H, Py_ssize_t W, float* xp, Py_ssize_t Hp,
                                 Py_ssize_t Wp, Py_ssize_t pt, Py_ssize_t pl, float fill) noexcept nogil
    void cs231n_pool_pad_plane_d(const double* x, Py_ssize_t H, Py_ssize_t W, double* xp, Py_ssize_t Hp,
                                 Py_ssize_t Wp, Py_ssize_t pt, Py_ssize_t pl, double fill) noexcept nogil
    void cs231n_pool_max_values_f(const float* xp, Py_ssize_t ld, float* o, Py_ssize_t OH, Py_ssize_t OW,
                                  float* h, Py_ssize_t kernel, Py_ssize_t stride) noexcept nogil
    void cs231n_pool_max_values_d(const double* xp, Py_ssize_t ld, double* o, Py_ssize_t OH, Py_ssize_t OW,
                                  double* h, Py_ssize_t kernel, Py_ssize_t stride) noexcept nogil
    void cs231n_pool_avg_values_f(const float* xp, Py_ssize_t ld, float* o, Py_ssize_t OH, Py_ssize_t OW,
                                  const float* dv, Py_ssize_t kernel, Py_ssize_t stride) noexcept nogil
    void cs231n_pool_avg_values_d(const double* xp, Py_ssize_t ld, double* o, Py_ssize_t OH, Py_ssize_t OW,
                                  const double* dv, Py_ssize_t kernel, Py_ssize_t stride) noexcept nogil
    void cs231n_pool_avg_back_plane_f(const float* dout, float* dx, const float* dv, float* gp, Py_ssize_t H,
                                      Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kernel, int tiles,
                                      Py_ssize_t stride, Py_ssize_t pt, Py_ssize_t pl) noexcept nogil
    void cs231n_pool_avg_back_plane_d(const double* dout, double* dx, const double* dv, double* gp, Py_ssize_t H,
                                      Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kernel, int tiles,
                                      Py_ssize_t stride, Py_ssize_t pt, Py_ssize_t pl) noexcept nogil


cdef void _values_plane(const floating* x, floating* o, floating* xp, floating* h, const floating* dv,
                        bint average, bint pad, Py_ssize_t H, Py_ssize_t W, Py_ssize_t Hp, Py_ssize_t Wp,
                        Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kernel, Py_ssize_t stride,
                        Py_ssize_t pt, Py_ssize_t pl) noexcept nogil:
    cdef Py_ssize_t ld = W
    cdef floating fill = 0
    if not average:
        fill = -INFINITY
    if pad:
        if floating is float:
            cs231n_pool_pad_plane_f(x, H, W, xp, Hp, Wp + (Wp % 2 if stride == 2 else 0), pt, pl, fill)
        else:
            cs231n_pool_pad_plane_d(x, H, W, xp, Hp, Wp + (Wp % 2 if stride == 2 else 0), pt, pl, fill)
        x = xp
        ld = Wp + (Wp % 2 if stride == 2 else 0)  # see plane_values
    if floating is float:
        if average:
            cs231n_pool_avg_values_f(x, ld, o, OH, OW, dv, kernel, stride)
        else:
            cs231n_pool_max_values_f(x, ld, o, OH, OW, h, kernel, stride)
    else:
        if average:
            cs231n_pool_avg_values_d(x, ld, o, OH, OW, dv, kernel, stride)
        else:
            cs231n_pool_max_values_d(x, ld, o, OH, OW, h, kernel, stride)


def plane_values(const floating[:, :, ::1] x, floating[:, :, ::1] out, floating[:, ::1] padded,
                 floating[:, ::1] runs, const floating[:, ::1] divisors, bint average, bint pad,
                 Py_ssize_t kernel, Py_ssize_t stride, Py_ssize_t pt, Py_ssize_t pl, int threads):
    """Max values (no indices) or averages of every plane, for kernel x kernel windows at stride.

    The window block of output (oh, ow) starts at row oh*stride - pt, column ow*stride - pl.
    pad: copy each plane into padded[thread] as a (Hp, ld) block with Hp = (OH-1)*stride + kernel,
    Wp likewise and ld = Wp rounded up to even at stride 2 (so the max's run pass is one flat loop),
    padding -inf (max) or 0 (average); without pad every block lies inside x (ld = W).
    runs: max only, (threads, Hp * ld) scratch for the row-run maxima. divisors: average only,
    (OH, OW) in x's dtype.
    """
    cdef Py_ssize_t p, P = x.shape[0], H = x.shape[1], W = x.shape[2], OH = out.shape[1], OW = out.shape[2]
    cdef Py_ssize_t Hp = (OH - 1) * stride + kernel, Wp = (OW - 1) * stride + kernel
    cdef Py_ssize_t ld = Wp + (Wp % 2 if stride == 2 else 0) if pad else W
    if kernel not in (2, 3) or stride not in (1, 2):
        raise ValueError(f"plane_values handles kernel 2 or 3 at stride 1 or 2, got kernel={kernel}, stride={stride}")
    if P == 0 or OH == 0 or OW == 0:
        return
    if (pad and padded.shape[1] < Hp * ld) or (not pad and (Hp + pt > H or Wp + pl > W or pt or pl)):
        raise ValueError("the padded scratch is too small, or an unpadded window leaves the plane")
    if (not average and runs.shape[1] < Hp * ld) or (average and (divisors.shape[0], divisors.shape[1]) != (OH, OW)):
        raise ValueError("the run scratch is too small, or divisors is not (OH, OW)")
    if padded.shape[0] < threads or runs.shape[0] < threads:
        raise ValueError("the scratch needs one row per thread")
    for p in prange(P, nogil=True, num_threads=threads, schedule="guided"):
        _values_plane(&x[p, 0, 0], &out[p, 0, 0], &padded[threadid(), 0], &runs[threadid(), 0], &divisors[0, 0],
                      average, pad, H, W, Hp, Wp, OH, OW, kernel, stride, pt, pl)


def avg_backward_planes(const floating[:, :, ::1] dout, floating[:, :, ::1] dx, const floating[:, ::1] divisors,
                        floating[:, ::1] scratch, Py_ssize_t kernel, bint tiles, Py_ssize_t stride,
                        Py_ssize_t pt, Py_ssize_t pl, int threads):
    """Average backward in PyTorch's order, for kernel x kernel windows (kernel 2 or 3, undilated).

    tiles: stride == kernel, no padding, and the tiles cover the plane exactly; else stride 1, or
    stride 2 with kernel 3, padding pt, pl <= kernel // 2. divisors: (OH, OW) in dout's dtype.
    scratch: one row per thread of avg_backward_scratch(...) entries.
    """
    cdef Py_ssize_t p, P = dx.shape[0], H = dx.shape[1], W = dx.shape[2], OH = dout.shape[1], OW = dout.shape[2]
    if kernel not in (2, 3) or (tiles and (H != OH * kernel or W != OW * kernel or stride != kernel)) \
            or pt > kernel // 2 or pl > kernel // 2 or (not tiles and (stride, kernel) not in ((1, 2), (1, 3), (2, 3))):
        raise ValueError(f"avg_backward_planes got a geometry it does not handle: kernel={kernel}, "
                         f"stride={stride}, tiles={tiles}")
    if not tiles and stride == 1 and (OH > H + pt or OW > W + pl):
        raise ValueError("avg_backward_planes: the output does not fit a stride-1 geometry of dx")
    if not tiles and stride == 2 and ((H - 1 + pt) // 2 + 1 > OH + 2 or (W + pl + 1) // 2 + 1 > OW + 3
                                      or W + pl > 2 * (OW + 3)):
        raise ValueError("avg_backward_planes: the output does not fit a stride-2 geometry of dx")
    if scratch.shape[0] < threads or scratch.shape[1] < avg_backward_scratch(H, W, OH, OW, kernel, tiles, stride):
        raise ValueError("avg_backward_planes: the scratch needs one big enough row per thread")
    if (divisors.shape[0], divisors.shape[1]) != (OH, OW) or dout.shape[0] != P:
        raise ValueError("avg_backward_planes: divisors must be (OH, OW) and dout must have dx's planes")
    if P == 0:
        return
    for p in prange(P, nogil=True, num_threads=threads, schedule="guided"):
        if floating is float:
            cs231n_pool_avg_back_plane_f(&dout[p, 0, 0], &dx[p, 0, 0], &divisors[0, 0], &scratch[threadid(), 0],
                                         H, W, OH, OW, kernel, tiles, stride, pt, pl)
        else:
            cs231n_pool_avg_back_plane_d(&dout[p, 0, 0], &dx[p, 0, 0], &divisors[0, 0], &scratch[threadid(), 0],
                                         H, W, OH, OW, kernel, tiles, stride, pt, pl)


def avg_backward_scratch(Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kernel, bint tiles,
                         Py_ssize_t stride):
    """Entries of one thread's scratch row for avg_backward_planes."""
    if tiles:
        return OW
    if stride == 2:
        return (OH + 3) * (OW + 3) + 2 * (OW + 3)
    return (H + kernel - 1) * (W + kernel - 1)
