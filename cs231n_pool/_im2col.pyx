# cython: language_level=3
"""Compiled im2col/col2im and column argmax (float32/float64, same API as im2col_numpy).

Column layout (CS231n's): ``cols`` has shape (C*kh*kw, out_h*out_w*N); row
``c*kh*kw + i*kw + j`` holds window offset (i, j) of channel c, column
``(oh*out_w + ow)*N + n`` holds window (oh, ow) of image n. Window (oh, ow) reads
input cell (oh*sh - ph + i*dh, ow*sw - pw + j*dw); a cell outside [0, H) x [0, W)
reads ``pad_value`` in im2col and is dropped in col2im. ph/pw are the top/left
padding; out_h/out_w come from the caller (geometry.pool_geometry), so ceil mode
and asymmetric 'same' padding need nothing special here, and im2col with ph
reduced by oh0*sh and out_h rows gives the band of output rows from oh0 on
(ph may then be negative).

The caller validates every argument (cs231n_pool.im2col); these kernels trust
them. Inputs must be C-contiguous.
"""
import numpy as np

from cython cimport floating

from libc.math cimport INFINITY
from libc.stdint cimport INT32_MAX, int32_t, int64_t
from libc.string cimport memset

cdef enum:
    # im2col/col2im tile: N_BLOCK images by W_BLOCK windows (measured on
    # S1-S4: 64x32 beats 32x32, 128x16 and 256x8 or ties with them).
    N_BLOCK = 64
    W_BLOCK = 32
    # Up to this many images, im2col reads each window straight from x: the
    # planes are few enough to stay in cache, and the tile would only add work
    # (2.5x slower on (2, 64, 32, 32) with 3x3 windows).
    SMALL_BATCH = 8
    # Columns per pass of column_argmax: the running max/row stay in L1.
    M_BLOCK = 1024
    # columns_to_planes transposes tiles of TILE_P windows by TILE_Q planes:
    # TILE_Q float32 values are one cache line, read whole before moving on
    # (32 x 32 tiles were 2.5x slower on S1, whose 1 KB and 16 KB strides put a
    # tile's lines in a few cache sets).
    TILE_P = 128
    TILE_Q = 16


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
        if N <= SMALL_BATCH:
            _im2col_fill_small_batch(x, &out[0, 0], kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w,
                                     <floating>pad_value)
        else:
            _im2col_fill(x, &out[0, 0], kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, <floating>pad_value)
    return cols


cdef void _im2col_fill_small_batch(const floating[:, :, :, ::1] x, floating* out, Py_ssize_t kh,
                                   Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph,
                                   Py_ssize_t pw, Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t out_h,
                                   Py_ssize_t out_w, floating pad) noexcept nogil:
    # A few images (the convolution case): read the N values of each window
    # straight from x and write the column matrix front to back.
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t image = C * H * W
    cdef const floating* base = &x[0, 0, 0, 0]
    cdef const floating* src
    cdef floating* dst = out
    cdef Py_ssize_t c, i, j, oh, ow, n, ih, iw
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


# Both kernels walk the column matrix row by row (c, i, j) and, inside a row,
# window by window. A column-matrix row is a transpose: entry (window, n) comes
# from image n. Transposing straight from x either scatters the writes or reads
# N planes per window, so the kernels go through a small tile instead: for a
# block of N_BLOCK images and W_BLOCK windows of one output row, one pass moves
# data between the image rows (read/written along the row) and the tile, the
# other between the tile and the column matrix (runs of N_BLOCK cells).
# im2col's tile is window-major, so it is copied out in runs; col2im's is
# image-major, so each image row is added from a contiguous run (measured:
# each layout is the faster one for its kernel).

cdef void _im2col_fill(const floating[:, :, :, ::1] x, floating* out, Py_ssize_t kh, Py_ssize_t kw,
                       Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh,
                       Py_ssize_t dw, Py_ssize_t out_h, Py_ssize_t out_w, floating pad) noexcept nogil:
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t image = C * H * W, P = out_h * out_w
    cdef const floating* base = &x[0, 0, 0, 0]
    cdef const floating* src
    cdef floating* dst
    cdef floating* tile_row
    cdef floating tile[W_BLOCK * N_BLOCK]  # (window, image)
    cdef Py_ssize_t c, block, n0, nb, i, j, oh, ih, wblock, ow0, tw, iw0, lo, hi, t, n
    for c in range(C):
        for block in range((N + N_BLOCK - 1) // N_BLOCK):
            n0 = block * N_BLOCK
            nb = min(<Py_ssize_t>N_BLOCK, N - n0)
            for i in range(kh):
                for j in range(kw):
                    for oh in range(out_h):
                        ih = oh * sh - ph + i * dh
                        for wblock in range((out_w + W_BLOCK - 1) // W_BLOCK):
                            ow0 = wblock * W_BLOCK
                            tw = min(<Py_ssize_t>W_BLOCK, out_w - ow0)
                            iw0 = ow0 * sw - pw + j * dw
                            lo, hi = _inside(iw0, sw, tw, W)
                            if not 0 <= ih < H:
                                hi = lo
                            if hi > lo:
                                for n in range(nb):
                                    src = base + (n0 + n) * image + (c * H + ih) * W
                                    for t in range(lo, hi):
                                        tile[t * N_BLOCK + n] = src[iw0 + t * sw]
                            dst = out + ((c * kh + i) * kw + j) * P * N + (oh * out_w + ow0) * N + n0
                            for t in range(tw):
                                tile_row = tile + t * N_BLOCK
                                if lo <= t < hi:
                                    for n in range(nb):
                                        dst[n] = tile_row[n]
                                else:
                                    for n in range(nb):
                                        dst[n] = pad
                                dst += N


cdef inline (Py_ssize_t, Py_ssize_t) _inside(Py_ssize_t start, Py_ssize_t step, Py_ssize_t count,
                                             Py_ssize_t size) noexcept nogil:
    """[lo, hi): the t in [0, count) with 0 <= start + t*step < size (step > 0)."""
    cdef Py_ssize_t lo = 0, hi = count
    if start < 0:
        lo = min((-start + step - 1) // step, count)
    if start + (count - 1) * step >= size:
        hi = (size - start + step - 1) // step if size > start else 0
    return lo, max(lo, hi)


def col2im(const floating[:, ::1] cols, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
           Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
           Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t out_h, Py_ssize_t out_w):
    """Adjoint of im2col: (C*kh*kw, out_h*out_w*N) -> (N, C, H, W), summing overlapping windows."""
    # The loops trust this shape; a mismatch would read past the end of cols.
    if cols.shape[0] != C * kh * kw or cols.shape[1] != out_h * out_w * N:
        raise ValueError(f"cols must have shape {(C * kh * kw, out_h * out_w * N)} (C*kh*kw, out_h*out_w*N), "
                         f"got cols.shape={(cols.shape[0], cols.shape[1])}")
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
    cdef Py_ssize_t image = C * H * W, P = out_h * out_w
    cdef floating* base = &dx[0, 0, 0, 0]
    cdef floating* dst
    cdef const floating* src
    cdef floating* from_tile
    cdef floating tile[N_BLOCK * W_BLOCK]  # (image, window): each image's row of windows is contiguous
    cdef Py_ssize_t c, block, n0, nb, i, j, oh, ih, wblock, ow0, tw, iw0, lo, hi, t, n
    # im2col's order run backwards through the tile. Each cell still sums its
    # contributions in (i, j, oh, ow) order, the order numpy's np.add.at uses,
    # so the result matches the reference bit for bit.
    for c in range(C):
        for block in range((N + N_BLOCK - 1) // N_BLOCK):
            n0 = block * N_BLOCK
            nb = min(<Py_ssize_t>N_BLOCK, N - n0)
            for i in range(kh):
                for j in range(kw):
                    for oh in range(out_h):
                        ih = oh * sh - ph + i * dh
                        if not 0 <= ih < H:
                            continue
                        for wblock in range((out_w + W_BLOCK - 1) // W_BLOCK):
                            ow0 = wblock * W_BLOCK
                            tw = min(<Py_ssize_t>W_BLOCK, out_w - ow0)
                            iw0 = ow0 * sw - pw + j * dw
                            lo, hi = _inside(iw0, sw, tw, W)
                            src = cols + ((c * kh + i) * kw + j) * P * N + (oh * out_w + ow0) * N + n0
                            for t in range(lo, hi):
                                for n in range(nb):
                                    tile[n * W_BLOCK + t] = src[t * N + n]
                            for n in range(nb):
                                dst = base + (n0 + n) * image + (c * H + ih) * W
                                from_tile = tile + n * W_BLOCK
                                if sw == 1:  # a separate loop the compiler can vectorise
                                    for t in range(lo, hi):
                                        dst[iw0 + t] += from_tile[t]
                                else:
                                    for t in range(lo, hi):
                                        dst[iw0 + t * sw] += from_tile[t]


def column_argmax(const floating[:, ::1] cols):
    """Max and its row over axis 0 of a (K, M) matrix: (values (M,), rows (M,) int64).

    PyTorch's scan rule: rows 0..K-1 in order, replace when ``val > cur or
    isnan(val)``, from cur=-inf, row=-1. Ties -> first max, NaN -> last NaN, an
    all -inf column -> row -1 with value -inf. K must be below 2**31.
    """
    dtype = np.float32 if floating is float else np.float64
    values = np.empty(cols.shape[1], dtype=dtype)
    rows = np.empty(cols.shape[1], dtype=np.int64)
    column_argmax_into(cols, values, rows)
    return values, rows


def column_argmax_into(const floating[:, ::1] cols, floating[::1] values, int64_t[::1] rows):
    """:func:`column_argmax` into given (M,) arrays (overwritten), e.g. slices of larger ones."""
    cdef Py_ssize_t K = cols.shape[0], M = cols.shape[1]
    if K > INT32_MAX:
        raise ValueError(f"cols must have fewer than 2**31 rows, got cols.shape={(K, M)}")
    if values.shape[0] != M or rows.shape[0] != M:
        raise ValueError(f"values and rows must have {M} entries (one per column), "
                         f"got {values.shape[0]} and {rows.shape[0]}")
    cdef Py_ssize_t m
    for m in range(M):
        values[m] = -INFINITY
        rows[m] = -1
    if K == 0 or M == 0:
        return
    with nogil:
        _column_argmax(&cols[0, 0], K, M, &values[0], &rows[0])


cdef void _column_argmax(const floating* cols, Py_ssize_t K, Py_ssize_t M, floating* values,
                         int64_t* rows) noexcept nogil:
    # The running max/row of M_BLOCK columns live in stack buffers while the
    # rows are swept, so every read of cols is sequential. Rows go four at a
    # time, so the buffers are loaded and stored once per four rows (2x faster
    # than one at a time). The row buffer is int32: a float32 compare mask can
    # drive an int32 select but not an int64 one, and with int32 the compiler
    # vectorises the loop (SSE2 is enough).
    cdef floating best[M_BLOCK]
    cdef int32_t where[M_BLOCK]
    cdef Py_ssize_t block, m0, nb, r, m
    cdef const floating* row0
    cdef const floating* row1
    cdef const floating* row2
    cdef const floating* row3
    cdef floating v, cur
    cdef int32_t r32, w
    cdef bint take
    for block in range((M + M_BLOCK - 1) // M_BLOCK):
        m0 = block * M_BLOCK
        nb = min(<Py_ssize_t>M_BLOCK, M - m0)
        for m in range(nb):
            best[m] = values[m0 + m]
            where[m] = -1
        r = 0
        while r + 4 <= K:
            row0 = cols + r * M + m0
            row1 = row0 + M
            row2 = row1 + M
            row3 = row2 + M
            r32 = <int32_t>r
            for m in range(nb):
                cur = best[m]
                w = where[m]
                v = row0[m]
                take = (v > cur) | (v != v)
                cur = v if take else cur
                w = r32 if take else w
                v = row1[m]
                take = (v > cur) | (v != v)
                cur = v if take else cur
                w = r32 + 1 if take else w
                v = row2[m]
                take = (v > cur) | (v != v)
                cur = v if take else cur
                w = r32 + 2 if take else w
                v = row3[m]
                take = (v > cur) | (v != v)
                cur = v if take else cur
                w = r32 + 3 if take else w
                best[m] = cur
                where[m] = w
            r += 4
        while r < K:
            row0 = cols + r * M + m0
            r32 = <int32_t>r
            for m in range(nb):
                v = row0[m]
                cur = best[m]
                take = (v > cur) | (v != v)
                best[m] = v if take else cur
                where[m] = r32 if take else where[m]
            r += 1
        for m in range(nb):
            values[m0 + m] = best[m]
            rows[m0 + m] = where[m]


def columns_to_planes(const floating[::1] values, int64_t[::1] rows, const int64_t[::1] first,
                      const int64_t[::1] flat_base, const int64_t[::1] flat_offset):
    """column_argmax's result for pooling planes, in plane order, with flat indices.

    values, rows: (P*Q,) for P windows of Q planes, column ``p*Q + q`` (window p of
    plane q), as column_argmax returns them. A row of -1 (an all -inf window) is set
    to ``first[p]`` IN PLACE; any other row outside [0, K) raises ValueError. Returns (out (Q, P) of values' dtype, indices (Q, P)
    int64) with ``out[q, p] = values[p*Q + q]`` and
    ``indices[q, p] = flat_base[p] + flat_offset[rows[p*Q + q]]``.
    first, flat_base: (P,); flat_offset: (K,), one per window row.
    """
    cdef Py_ssize_t P = first.shape[0], K = flat_offset.shape[0]
    if flat_base.shape[0] != P or values.shape[0] != rows.shape[0] or (P and values.shape[0] % P):
        raise ValueError(f"columns_to_planes: inconsistent sizes values={values.shape[0]}, "
                         f"rows={rows.shape[0]}, first={P}, flat_base={flat_base.shape[0]}")
    cdef Py_ssize_t Q = values.shape[0] // P if P else 0
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((Q, P), dtype=dtype)
    indices = np.empty((Q, P), dtype=np.int64)
    cdef floating[:, ::1] o = out
    cdef int64_t[:, ::1] idx = indices
    cdef Py_ssize_t bad = 0
    if Q == 0 or P == 0:
        return out, indices
    with nogil:
        bad = _columns_to_planes(&values[0], &rows[0], &first[0], &flat_base[0], &flat_offset[0], K, P, Q,
                                 &o[0, 0], &idx[0, 0])
    if bad:
        raise ValueError(f"rows must lie in [-1, {K}) and first in [0, {K}) (one row per window offset), "
                         f"got {bad} rows outside")
    return out, indices


cdef Py_ssize_t _columns_to_planes(const floating* values, int64_t* rows, const int64_t* first,
                                   const int64_t* flat_base, const int64_t* flat_offset, Py_ssize_t K,
                                   Py_ssize_t P, Py_ssize_t Q, floating* out, int64_t* indices) noexcept nogil:
    # A tiled transpose: the reads run along q (a cache line per window), the
    # writes along p (runs of TILE_P per plane).
    cdef Py_ssize_t qb, pb, p0, q0, pe, qe, p, q, r, bad = 0
    for qb in range((Q + TILE_Q - 1) // TILE_Q):
        q0 = qb * TILE_Q
        qe = min(q0 + <Py_ssize_t>TILE_Q, Q)
        for pb in range((P + TILE_P - 1) // TILE_P):
            p0 = pb * TILE_P
            pe = min(p0 + <Py_ssize_t>TILE_P, P)
            for p in range(p0, pe):
                for q in range(q0, qe):
                    r = rows[p * Q + q]
                    if r == -1:
                        r = first[p]
                        rows[p * Q + q] = r
                    if not 0 <= r < K:  # a bad row, or a bad first[p] in its place
                        bad += 1
                        r = 0
                    out[q * P + p] = values[p * Q + q]
                    indices[q * P + p] = flat_base[p] + flat_offset[r]
    return bad

def scatter_planes(const floating[:, ::1] dout, const int64_t[:, ::1] indices, Py_ssize_t plane_size):
    """The max-pool backward: col2im of the one-hot column matrix, by the flat index of each 1.

    dout, indices: (Q, P), window p of plane q; ``indices[q, p]`` is the flat cell (in
    [0, plane_size)) that window's argmax points at. Returns dx (Q, plane_size) of dout's
    dtype: zeros, plus each dout at its index, added plane by plane in window order, so
    repeated indices sum in PyTorch's order. An index outside the plane raises ValueError.
    """
    cdef Py_ssize_t Q = dout.shape[0], P = dout.shape[1]
    if indices.shape[0] != Q or indices.shape[1] != P:
        raise ValueError(f"indices must have dout's shape {(Q, P)}, got indices.shape="
                         f"{(indices.shape[0], indices.shape[1])}")
    dtype = np.float32 if floating is float else np.float64
    x = np.empty((Q, plane_size), dtype=dtype)  # each plane is zeroed just before its scatter
    cdef floating[:, ::1] dx = x
    cdef Py_ssize_t bad = 0
    if Q == 0 or plane_size == 0:
        return x
    with nogil:
        bad = _scatter_planes(&dout[0, 0], &indices[0, 0], &dx[0, 0], Q, P, plane_size)
    if bad:
        raise ValueError(f"indices must lie in [0, {plane_size}) (one plane), got {bad} outside")
    return x


cdef Py_ssize_t _scatter_planes(const floating* dout, const int64_t* indices, floating* dx, Py_ssize_t Q,
                                Py_ssize_t P, Py_ssize_t plane_size) noexcept nogil:
    # Plane by plane, in the (window-major) order the columns' argmaxes were gathered to:
    # reads run along dout and indices, and the writes stay inside one plane. (Scattering
    # from the argmax rows in column order instead, image by image through a transposing
    # tile, ran 2-4x slower on S1-S4.)
    # Each plane is zeroed right before its scatter, while it is in cache (one pass over
    # dx instead of two).
    cdef Py_ssize_t q, k, bad = 0
    cdef int64_t target
    for q in range(Q):
        memset(dx, 0, plane_size * sizeof(floating))
        for k in range(P):
            target = indices[k]
            if 0 <= target < plane_size:
                dx[target] += dout[k]
            else:
                bad += 1
        dout += P
        indices += P
        dx += plane_size
    return bad


def column_mean_planes(const floating[:, ::1] cols, const floating[::1] divisors):
    """Column sums of a (K, P*Q) matrix over P windows of Q planes, divided per window, in plane order.

    Column ``p*Q + q`` is window p of plane q. Returns (Q, P) of cols' dtype with
    ``out[q, p] = (cols[0, c] + cols[1, c] + ... + cols[K-1, c]) / divisors[p]``,
    ``c = p*Q + q``, added row by row in that order (as ``cols.sum(axis=0)`` does).
    """
    cdef Py_ssize_t K = cols.shape[0], M = cols.shape[1], P = divisors.shape[0]
    if K == 0 or (P == 0 and M) or (P and M % P):
        raise ValueError(f"cols must be (K, P*Q) with K > 0 and P={P} windows (divisors), got "
                         f"cols.shape={(K, M)}")
    cdef Py_ssize_t Q = M // P if P else 0
    dtype = np.float32 if floating is float else np.float64
    out = np.empty((Q, P), dtype=dtype)
    cdef floating[:, ::1] o = out
    if Q == 0 or P == 0:
        return out
    cdef floating[::1] sums = np.empty(M, dtype=dtype)
    with nogil:
        _column_mean_planes(&cols[0, 0], K, P, Q, &divisors[0], &sums[0], &o[0, 0])
    return out


cdef void _column_mean_planes(const floating* cols, Py_ssize_t K, Py_ssize_t P, Py_ssize_t Q,
                              const floating* divisors, floating* sums, floating* out) noexcept nogil:
    # Two sequential-read passes: the column sums, M_BLOCK columns at a time
    # (reading each row in long runs), then a tiled transpose that divides. A
    # single pass over (window, plane) tiles read the rows in 256-byte pieces
    # and ran 4-5x slower.
    cdef floating acc[M_BLOCK]
    cdef const floating* src
    cdef Py_ssize_t M = P * Q, block, m0, nb, r, m, qb, pb, q0, qe, p0, pe, p, q
    for block in range((M + M_BLOCK - 1) // M_BLOCK):
        m0 = block * M_BLOCK
        nb = min(<Py_ssize_t>M_BLOCK, M - m0)
        src = cols + m0
        for m in range(nb):
            acc[m] = src[m]
        for r in range(1, K):
            src += M
            for m in range(nb):
                acc[m] = acc[m] + src[m]
        for m in range(nb):
            sums[m0 + m] = acc[m]
    for qb in range((Q + TILE_Q - 1) // TILE_Q):
        q0 = qb * TILE_Q
        qe = min(q0 + <Py_ssize_t>TILE_Q, Q)
        for pb in range((P + TILE_P - 1) // TILE_P):
            p0 = pb * TILE_P
            pe = min(p0 + <Py_ssize_t>TILE_P, P)
            for p in range(p0, pe):
                for q in range(q0, qe):
                    out[q * P + p] = sums[p * Q + q] / divisors[p]

def col2im_spread(const floating[:, :] values, Py_ssize_t N, Py_ssize_t C, Py_ssize_t H, Py_ssize_t W,
                  Py_ssize_t kh, Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw,
                  Py_ssize_t dh, Py_ssize_t dw, Py_ssize_t out_h, Py_ssize_t out_w):
    """col2im of a column matrix whose every column is constant, without building it.

    Column ``(oh*out_w + ow)*N + n`` holds ``values[oh*out_w + ow, n]`` in all its
    C*kh*kw rows; values is (out_h*out_w, N), any strides. Returns (N, C, H, W) as
    col2im of that matrix, except that each cell adds its windows' values in row-major
    window order (PyTorch's average-pool backward order) rather than col2im's.
    """
    cdef Py_ssize_t P = out_h * out_w
    if values.shape[0] != P or values.shape[1] != N:
        raise ValueError(f"values must have shape {(P, N)}, got values.shape={(values.shape[0], values.shape[1])}")
    dtype = np.float32 if floating is float else np.float64
    x = np.zeros((N, C, H, W), dtype=dtype)
    cdef floating[:, :, :, ::1] dx = x
    if x.size == 0 or P == 0:
        return x
    cdef floating[::1] share = np.empty(P, dtype=dtype)
    with nogil:
        _col2im_spread(values, dx, &share[0], kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w)
    return x


cdef void _col2im_spread(const floating[:, :] values, floating[:, :, :, ::1] dx, floating* share, Py_ssize_t kh,
                         Py_ssize_t kw, Py_ssize_t sh, Py_ssize_t sw, Py_ssize_t ph, Py_ssize_t pw, Py_ssize_t dh,
                         Py_ssize_t dw, Py_ssize_t out_h, Py_ssize_t out_w) noexcept nogil:
    # col2im's loops one image at a time, reading the image's P values (copied to
    # `share`) in place of each column-matrix row, but with i and j running
    # backwards: within one cell, oh rises as i falls (and ow as j falls), so each
    # cell adds its windows' shares in row-major window order, PyTorch's order.
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t P = out_h * out_w
    cdef Py_ssize_t n, c, i, j, oh, ih, iw0, lo, hi, t, p
    cdef floating* dst
    cdef const floating* src
    for n in range(N):
        for p in range(P):
            share[p] = values[p, n]
        for c in range(C):
            for i in range(kh - 1, -1, -1):
                for j in range(kw - 1, -1, -1):
                    iw0 = j * dw - pw
                    lo, hi = _inside(iw0, sw, out_w, W)
                    for oh in range(out_h):
                        ih = oh * sh - ph + i * dh
                        if not 0 <= ih < H:
                            continue
                        dst = &dx[n, c, ih, 0]
                        src = share + oh * out_w
                        if sw == 1:  # a separate loop the compiler can vectorise
                            for t in range(lo, hi):
                                dst[iw0 + t] += src[t]
                        else:
                            for t in range(lo, hi):
                                dst[iw0 + t * sw] += src[t]
