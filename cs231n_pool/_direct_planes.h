/* Whole-plane kernels of cs231n_pool._direct for undilated K x K windows at stride S
   (K, S literals): max values without indices, and average forward.

   Included by _direct.pyx after _direct_kernels.h (which defines CS231N_POOL_NOINLINE).
   A padded plane is first written to per-thread scratch (padding: -inf for max, 0 for
   average), so every window is a full K x K block and the loops run unclipped and
   vectorised across the output row. This is exact:
   - max: the scan rule of _direct_kernels.h (v > cur or NaN), cells offered in row-major
     window order. A -inf padding cell never replaces the running max, and when a window's
     first cells are padding the running value is -inf, the same bits an in-bounds -inf
     would give; so the values equal the in-bounds scan's bit for bit (the indices, which
     this path does not compute, would differ).
   - average: the sum starts at +0 and adds the window's cells in row-major order. A
     round-to-nearest sum that starts at +0 is never -0, and s + (+0) == s for every other
     s (NaN and inf included), so the padding zeros leave every partial sum unchanged and
     the result equals the sum of the in-bounds cells in the same order. */
#ifndef CS231N_POOL_DIRECT_PLANES_H
#define CS231N_POOL_DIRECT_PLANES_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

/* xp (Hp, Wp) = fill, with plane x (H, W) copied in at row pt, column pl; the parts of x
   that fall outside xp (windows that never reach them) are dropped. */
#define CS231N_POOL_PAD_PLANE(NAME, T)                                                 \
static void NAME(const T* x, Py_ssize_t H, Py_ssize_t W, T* xp, Py_ssize_t Hp,         \
                 Py_ssize_t Wp, Py_ssize_t pt, Py_ssize_t pl, T fill) {                \
    Py_ssize_t r, c, rows = H < Hp - pt ? H : Hp - pt, cols = W < Wp - pl ? W : Wp - pl; \
    for (r = 0; r < pt * Wp; r++) xp[r] = fill;                                        \
    for (r = 0; r < rows; r++) {                                                       \
        T* row = xp + (pt + r) * Wp;                                                   \
        for (c = 0; c < pl; c++) row[c] = fill;                                        \
        memcpy(row + pl, x + r * W, (size_t)cols * sizeof(T));                         \
        for (c = pl + cols; c < Wp; c++) row[c] = fill;                                \
    }                                                                                  \
    for (r = (pt + rows) * Wp; r < Hp * Wp; r++) xp[r] = fill;                         \
}
CS231N_POOL_PAD_PLANE(cs231n_pool_pad_plane_f, float)
CS231N_POOL_PAD_PLANE(cs231n_pool_pad_plane_d, double)

/* cur = v when v > cur or v is NaN (the scan rule), selected on the bits: a branch-free
   select the compiler vectorises (a ?: here compiled to branches, 18x slower on random data) */
#define CS231N_POOL_OFFER(T, UT, cur, v)                                               \
    do {                                                                               \
        union { T f; UT u; } v_, c_;                                                   \
        UT m_ = (UT)0 - (UT)(((v) > (cur)) | ((v) != (v)));                            \
        v_.f = (v);                                                                    \
        c_.f = (cur);                                                                  \
        c_.u = (v_.u & m_) | (c_.u & ~m_);                                             \
        (cur) = c_.f;                                                                  \
    } while (0)

/* Max values of one plane: the max of each K-cell run of every needed row under every output
   column (into h), then across the window's K rows. Rows are the outer order of the row-major
   scan, so the two passes give the whole-window scan's values (see the separable kernel in
   _direct_kernels.h). When ld is a multiple of S the run pass is one flat loop over the plane
   (run k covers cells S*k .. S*k+K-1; h rows are ld/S apart, the runs that straddle two rows
   are never folded); otherwise it goes row by row (h rows OW apart). */
#define CS231N_POOL_MAX_VALUES(NAME, T, UT, K, S)                                      \
static CS231N_POOL_NOINLINE_AVX2 void NAME(const T* __restrict xp, Py_ssize_t ld,     \
        T* __restrict o, Py_ssize_t OH, Py_ssize_t OW, T* __restrict h) {              \
    Py_ssize_t rows = (OH - 1) * (S) + (K), r, k, n, oh, t;                            \
    Py_ssize_t hw = ld % (S) == 0 ? ld / (S) : OW;  /* row stride of h */              \
    T cur, v;                                                                          \
    if (ld % (S) == 0) {                                                               \
        n = (rows - 1) * hw + OW;                                                      \
        for (k = 0; k < n; k++) {                                                      \
            cur = xp[k * (S)];                                                         \
            for (t = 1; t < (K); t++) { v = xp[k * (S) + t]; CS231N_POOL_OFFER(T, UT, cur, v); } \
            h[k] = cur;                                                                \
        }                                                                              \
    } else {                                                                           \
        for (r = 0; r < rows; r++) {                                                   \
            const T* __restrict xr = xp + r * ld;                                      \
            T* __restrict hr = h + r * OW;                                             \
            for (k = 0; k < OW; k++) {                                                 \
                cur = xr[k * (S)];                                                     \
                for (t = 1; t < (K); t++) { v = xr[k * (S) + t]; CS231N_POOL_OFFER(T, UT, cur, v); } \
                hr[k] = cur;                                                           \
            }                                                                          \
        }                                                                              \
    }                                                                                  \
    for (oh = 0; oh < OH; oh++) {                                                      \
        const T* __restrict h0 = h + oh * (S) * hw;                                    \
        T* __restrict oo = o + oh * OW;                                                \
        for (k = 0; k < OW; k++) {                                                     \
            cur = h0[k];                                                               \
            for (t = 1; t < (K); t++) { v = h0[t * hw + k]; CS231N_POOL_OFFER(T, UT, cur, v); } \
            oo[k] = cur;                                                               \
        }                                                                              \
    }                                                                                  \
}

/* Average of one plane: each window's K x K cells summed from +0 in row-major order, then
   divided by its divisor (dv: (OH, OW) in T; DIV a literal: 0 leaves the sums undivided). */
#define CS231N_POOL_AVG_VALUES(NAME, T, K, S, DIV)                                     \
static CS231N_POOL_NOINLINE_AVX2 void NAME(const T* __restrict xp, Py_ssize_t ld,     \
        T* __restrict o, Py_ssize_t OH, Py_ssize_t OW, const T* __restrict dv) {       \
    Py_ssize_t oh, k;                                                                  \
    int i, j;                                                                          \
    for (oh = 0; oh < OH; oh++) {                                                      \
        const T* __restrict x0 = xp + oh * (S) * ld;                                   \
        T* __restrict oo = o + oh * OW;                                                \
        const T* __restrict d0 = (DIV) ? dv + oh * OW : dv;                            \
        for (k = 0; k < OW; k++) {                                                     \
            T total = 0;                                                               \
            for (i = 0; i < (K); i++)                                                  \
                for (j = 0; j < (K); j++) total += x0[i * ld + k * (S) + j];           \
            oo[k] = (DIV) ? total / d0[k] : total;                                     \
        }                                                                              \
    }                                                                                  \
}

/* Average backward at stride 1 as a gather: the windows holding cell (r, c) are (r + pt - i,
   c + pl - j), so with the shares dout / divisor placed at (oh + K-1 - pt, ow + K-1 - pl) of a
   zeroed (H + K-1, W + K-1) plane gp, dx[r][c] is the K x K block sum of gp at (r, c), taken in
   row-major order: the windows' own row-major order, in which PyTorch's CPU kernel adds their
   shares to a zeroed dx (and the zeros of gp leave the sum unchanged, as above). */
#define CS231N_POOL_SHARES(NAME, T)                                                    \
static void NAME(const T* __restrict dout, const T* __restrict dv, T* __restrict gp,  \
        Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t Hg, Py_ssize_t Wg, Py_ssize_t top,    \
        Py_ssize_t left) {                                                             \
    Py_ssize_t oh, ow;                                                                 \
    memset(gp, 0, (size_t)(Hg * Wg) * sizeof(T));                                     \
    for (oh = 0; oh < OH; oh++) {                                                      \
        T* __restrict row = gp + (oh + top) * Wg + left;                               \
        for (ow = 0; ow < OW; ow++) row[ow] = dout[oh * OW + ow] / dv[oh * OW + ow];   \
    }                                                                                  \
}

/* Average backward of K x K tiles that cover the plane exactly (stride K, no padding): each
   cell gets one share, +0 + dout / divisor, as PyTorch adds it to a zeroed dx. */
#define CS231N_POOL_AVG_TILES(NAME, T, K)                                              \
static CS231N_POOL_NOINLINE_AVX2 void NAME(const T* __restrict dout, T* __restrict dx, \
        Py_ssize_t OH, Py_ssize_t OW, const T* __restrict dv, T* __restrict g) {       \
    Py_ssize_t oh, ow, W = OW * (K);                                                   \
    int i, j;                                                                          \
    for (oh = 0; oh < OH; oh++) {                                                      \
        for (ow = 0; ow < OW; ow++) g[ow] = (T)0 + dout[oh * OW + ow] / dv[oh * OW + ow]; \
        for (i = 0; i < (K); i++) {                                                    \
            T* __restrict row = dx + (oh * (K) + i) * W;                               \
            for (ow = 0; ow < OW; ow++)                                                \
                for (j = 0; j < (K); j++) row[ow * (K) + j] = g[ow];                   \
        }                                                                              \
    }                                                                                  \
}

/* Average backward of 3 x 3 windows at stride 2 as a gather. Cell b of a row (b = c + pl) lies
   in windows n-1 and n when b = 2n, in window n alone when b = 2n+1; rows likewise. gp: the
   (Hg, Wg) shares plane with share (oh, ow) at (oh + 1, ow + 1), zero elsewhere, so the windows
   outside the output add +0. Each cell sums its windows' shares in the windows' row-major order
   (PyTorch's CPU order), the even and odd cells of a row in two vectorised streams. t: scratch
   for one row of 2 * Wg cells. */
#define CS231N_POOL_AVG_BACK_3S2(NAME, T)                                              \
static CS231N_POOL_NOINLINE_AVX2 void NAME(const T* __restrict gp, Py_ssize_t Wg,     \
        T* __restrict dx, Py_ssize_t H, Py_ssize_t W, Py_ssize_t pt, Py_ssize_t pl,     \
        T* __restrict t) {                                                             \
    Py_ssize_t r, n, a, nn = (W + pl + 1) / 2;                                         \
    for (r = 0; r < H; r++) {                                                          \
        a = r + pt;                                                                    \
        const T* __restrict g0 = gp + ((a >> 1) + ((a & 1) ? 1 : 0)) * Wg;             \
        const T* __restrict g1 = gp + ((a >> 1) + 1) * Wg;                             \
        if (a & 1) {  /* one window row */                                             \
            for (n = 0; n < nn; n++) {                                                 \
                T e = 0, o = 0;                                                        \
                e += g0[n]; e += g0[n + 1];                                            \
                o += g0[n + 1];                                                        \
                t[2 * n] = e; t[2 * n + 1] = o;                                        \
            }                                                                          \
        } else {                                                                       \
            for (n = 0; n < nn; n++) {                                                 \
                T e = 0, o = 0;                                                        \
                e += g0[n]; e += g0[n + 1]; e += g1[n]; e += g1[n + 1];                \
                o += g0[n + 1]; o += g1[n + 1];                                        \
                t[2 * n] = e; t[2 * n + 1] = o;                                        \
            }                                                                          \
        }                                                                              \
        memcpy(dx + r * W, t + pl, (size_t)W * sizeof(T));                             \
    }                                                                                  \
}

#define CS231N_POOL_PLANE_KERNELS(T, UT, SUFFIX)                                           \
CS231N_POOL_MAX_VALUES(cs231n_pool_maxv2_1##SUFFIX, T, UT, 2, 1)                           \
CS231N_POOL_MAX_VALUES(cs231n_pool_maxv2_2##SUFFIX, T, UT, 2, 2)                           \
CS231N_POOL_MAX_VALUES(cs231n_pool_maxv3_1##SUFFIX, T, UT, 3, 1)                           \
CS231N_POOL_MAX_VALUES(cs231n_pool_maxv3_2##SUFFIX, T, UT, 3, 2)                           \
CS231N_POOL_AVG_VALUES(cs231n_pool_avgv2_1##SUFFIX, T, 2, 1, 1)                        \
CS231N_POOL_AVG_VALUES(cs231n_pool_avgv2_2##SUFFIX, T, 2, 2, 1)                        \
CS231N_POOL_AVG_VALUES(cs231n_pool_avgv3_1##SUFFIX, T, 3, 1, 1)                        \
CS231N_POOL_AVG_VALUES(cs231n_pool_avgv3_2##SUFFIX, T, 3, 2, 1)                        \
CS231N_POOL_AVG_VALUES(cs231n_pool_sumv2##SUFFIX, T, 2, 1, 0)                          \
CS231N_POOL_AVG_VALUES(cs231n_pool_sumv3##SUFFIX, T, 3, 1, 0)                          \
CS231N_POOL_SHARES(cs231n_pool_shares##SUFFIX, T)                                      \
CS231N_POOL_AVG_TILES(cs231n_pool_avg_tiles2##SUFFIX, T, 2)                            \
CS231N_POOL_AVG_TILES(cs231n_pool_avg_tiles3##SUFFIX, T, 3)                            \
CS231N_POOL_AVG_BACK_3S2(cs231n_pool_avg_back3s2##SUFFIX, T)                           \
/* one plane of the average backward: kernel in {2, 3}; tiles: stride == kernel covering the \
   plane; stride 2 (kernel 3): the gather above; else stride 1. gp: scratch for the shares   \
   plane, (H + K-1) x (W + K-1) at stride 1, (OH + 3) x (OW + 3) plus a 2 * (OW + 3) row at \
   stride 2; OW entries for tiles. */                                                  \
static void cs231n_pool_avg_back_plane##SUFFIX(const T* dout, T* dx, const T* dv, T* gp, \
        Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t kernel,   \
        int tiles, Py_ssize_t stride, Py_ssize_t pt, Py_ssize_t pl) {                  \
    Py_ssize_t Hg = H + kernel - 1, Wg = W + kernel - 1;                              \
    if (stride == 2 && !tiles) {                                                       \
        cs231n_pool_shares##SUFFIX(dout, dv, gp, OH, OW, OH + 3, OW + 3, 1, 1);        \
        cs231n_pool_avg_back3s2##SUFFIX(gp, OW + 3, dx, H, W, pt, pl, gp + (OH + 3) * (OW + 3)); \
        return;                                                                        \
    }                                                                                  \
    if (tiles) {                                                                       \
        if (kernel == 2) cs231n_pool_avg_tiles2##SUFFIX(dout, dx, OH, OW, dv, gp);     \
        else cs231n_pool_avg_tiles3##SUFFIX(dout, dx, OH, OW, dv, gp);                 \
        return;                                                                        \
    }                                                                                  \
    cs231n_pool_shares##SUFFIX(dout, dv, gp, OH, OW, Hg, Wg, kernel - 1 - pt, kernel - 1 - pl); \
    if (kernel == 2) cs231n_pool_sumv2##SUFFIX(gp, Wg, dx, H, W, NULL);                \
    else cs231n_pool_sumv3##SUFFIX(gp, Wg, dx, H, W, NULL);                            \
}                                                                                      \
/* one plane; kernel in {2, 3}, stride in {1, 2} (direct.py checks) */                 \
static void cs231n_pool_max_values##SUFFIX(const T* xp, Py_ssize_t ld, T* o, Py_ssize_t OH, \
        Py_ssize_t OW, T* h, Py_ssize_t kernel, Py_ssize_t stride) {                   \
    if (kernel == 2 && stride == 1) cs231n_pool_maxv2_1##SUFFIX(xp, ld, o, OH, OW, h);  \
    else if (kernel == 2) cs231n_pool_maxv2_2##SUFFIX(xp, ld, o, OH, OW, h);            \
    else if (stride == 1) cs231n_pool_maxv3_1##SUFFIX(xp, ld, o, OH, OW, h);            \
    else cs231n_pool_maxv3_2##SUFFIX(xp, ld, o, OH, OW, h);                             \
}                                                                                      \
static void cs231n_pool_avg_values##SUFFIX(const T* xp, Py_ssize_t ld, T* o, Py_ssize_t OH, \
        Py_ssize_t OW, const T* dv, Py_ssize_t kernel, Py_ssize_t stride) {            \
    if (kernel == 2 && stride == 1) cs231n_pool_avgv2_1##SUFFIX(xp, ld, o, OH, OW, dv); \
    else if (kernel == 2) cs231n_pool_avgv2_2##SUFFIX(xp, ld, o, OH, OW, dv);           \
    else if (stride == 1) cs231n_pool_avgv3_1##SUFFIX(xp, ld, o, OH, OW, dv);           \
    else cs231n_pool_avgv3_2##SUFFIX(xp, ld, o, OH, OW, dv);                            \
}
CS231N_POOL_PLANE_KERNELS(float, uint32_t, _f)
CS231N_POOL_PLANE_KERNELS(double, uint64_t, _d)

#endif  /* CS231N_POOL_DIRECT_PLANES_H */
