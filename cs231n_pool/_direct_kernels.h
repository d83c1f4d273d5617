/* C kernels of cs231n_pool._direct: the hot loops of the fused pooling kernels.

   Included once, by the Cython module _direct.pyx (after Python.h, which defines
   Py_ssize_t); every function is static. The Cython side validates all arguments and
   precomputes the window placement, so nothing here checks its input.

   Scan rule everywhere (PyTorch's CPU rule): cells are offered in row-major window
   order and replace the running max when they are larger or NaN, so ties go to the
   first maximum and a NaN wins with the index of the last NaN. Sums run in the input
   dtype in the same order. */
#ifndef CS231N_POOL_DIRECT_KERNELS_H
#define CS231N_POOL_DIRECT_KERNELS_H

#include <Python.h>
#include <math.h>
#include <stdint.h>

/* ---------------------------------------------------------------- OpenMP */

#ifdef _OPENMP
#include <omp.h>
static int cs231n_pool_have_openmp(void) { return 1; }
static int cs231n_pool_max_threads(void) { return omp_get_max_threads(); }
#else
static int cs231n_pool_have_openmp(void) { return 0; }
static int cs231n_pool_max_threads(void) { return 1; }
#endif

/* ---------------------------------------------------------------- max forward */

/* Kept out of line: inlined into the OpenMP body, GCC stops vectorising them.
   On x86-64 GCC also builds AVX2 and AVX-512 clones, picked at load time from the CPU.
   _AVX2 kernels skip the AVX-512 clone because it is slower for them (see the separable kernel). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CS231N_POOL_NOINLINE __attribute__((noinline, target_clones("avx512f", "avx2", "default")))
#define CS231N_POOL_NOINLINE_AVX2 __attribute__((noinline, target_clones("avx2", "default")))
#elif defined(__GNUC__)
#define CS231N_POOL_NOINLINE __attribute__((noinline))
#define CS231N_POOL_NOINLINE_AVX2 __attribute__((noinline))
#else
#define CS231N_POOL_NOINLINE
#define CS231N_POOL_NOINLINE_AVX2
#endif
#define CS231N_POOL_MAX_CELLS(NAME, T, STRIDE)                                        \
static CS231N_POOL_NOINLINE void NAME(const T* __restrict xs, T* __restrict o, int32_t* __restrict b,     \
                 Py_ssize_t n, Py_ssize_t stride, int32_t base) {                    \
    Py_ssize_t k;                                                                    \
    (void)stride;                                                                    \
    for (k = 0; k < n; k++) {                                                        \
        T v = xs[k * (STRIDE)];                                                      \
        T cur = o[k];                                                                \
        int take = (v > cur) | (v != v);  /* larger, or NaN: PyTorch's rule */       \
        o[k] = take ? v : cur;                                                       \
        b[k] = take ? base + (int32_t)(k * (STRIDE)) : b[k];                         \
    }                                                                                \
}
CS231N_POOL_MAX_CELLS(cs231n_pool_max_f1, float, 1)
CS231N_POOL_MAX_CELLS(cs231n_pool_max_f2, float, 2)
CS231N_POOL_MAX_CELLS(cs231n_pool_max_fs, float, stride)
CS231N_POOL_MAX_CELLS(cs231n_pool_max_d1, double, 1)
CS231N_POOL_MAX_CELLS(cs231n_pool_max_d2, double, 2)
CS231N_POOL_MAX_CELLS(cs231n_pool_max_ds, double, stride)

/* A whole K x K block of in-bounds cells per output (K a literal, adjacent
   columns: dilation_w = 1): the compiler unrolls the window scan (row-major,
   same rule) and vectorises across the output row, keeping the running max in
   registers. rstride = dilation_h * W. */
#define CS231N_POOL_MAX_WINDOW(NAME, T, STRIDE, K)                                    \
static CS231N_POOL_NOINLINE void NAME(const T* __restrict x0, Py_ssize_t rstride,     \
                 T* __restrict o, int32_t* __restrict b, Py_ssize_t n,               \
                 Py_ssize_t stride, int32_t base) {                                  \
    Py_ssize_t k, off;                                                               \
    int i, j, take;                                                                  \
    (void)stride;                                                                    \
    for (k = 0; k < n; k++) {                                                        \
        T cur = x0[k * (STRIDE)], v;                                                 \
        int32_t best = base + (int32_t)(k * (STRIDE));                               \
        for (i = 0; i < (K); i++) {                                                  \
            for (j = 0; j < (K); j++) {                                              \
                if (i == 0 && j == 0) continue;                                      \
                off = i * rstride + j + k * (STRIDE);                                \
                v = x0[off];                                                         \
                take = (v > cur) | (v != v);                                         \
                cur = take ? v : cur;                                                \
                best = take ? base + (int32_t)off : best;                            \
            }                                                                        \
        }                                                                            \
        o[k] = cur;                                                                  \
        b[k] = best;                                                                 \
    }                                                                                \
}
#define CS231N_POOL_MAX_WINDOWS(T, SUFFIX)                                            \
CS231N_POOL_MAX_WINDOW(cs231n_pool_win2_1##SUFFIX, T, 1, 2)                           \
CS231N_POOL_MAX_WINDOW(cs231n_pool_win2_2##SUFFIX, T, 2, 2)                           \
CS231N_POOL_MAX_WINDOW(cs231n_pool_win2_s##SUFFIX, T, stride, 2)                      \
CS231N_POOL_MAX_WINDOW(cs231n_pool_win3_1##SUFFIX, T, 1, 3)                           \
CS231N_POOL_MAX_WINDOW(cs231n_pool_win3_2##SUFFIX, T, 2, 3)                           \
CS231N_POOL_MAX_WINDOW(cs231n_pool_win3_s##SUFFIX, T, stride, 3)                      \
/* 1 when a specialised loop handled the K x K blocks, 0 when K is not 2 or 3 */      \
static int cs231n_pool_max_window##SUFFIX(const T* x0, Py_ssize_t rstride,            \
        T* o, int32_t* b, Py_ssize_t n, Py_ssize_t stride,                            \
        Py_ssize_t kernel, int32_t base) {                                            \
    if (kernel == 2) {                                                                \
        if (stride == 1) cs231n_pool_win2_1##SUFFIX(x0, rstride, o, b, n, stride, base); \
        else if (stride == 2) cs231n_pool_win2_2##SUFFIX(x0, rstride, o, b, n, stride, base); \
        else cs231n_pool_win2_s##SUFFIX(x0, rstride, o, b, n, stride, base);      \
        return 1;                                                                     \
    }                                                                                 \
    if (kernel == 3) {                                                                \
        if (stride == 1) cs231n_pool_win3_1##SUFFIX(x0, rstride, o, b, n, stride, base); \
        else if (stride == 2) cs231n_pool_win3_2##SUFFIX(x0, rstride, o, b, n, stride, base); \
        else cs231n_pool_win3_s##SUFFIX(x0, rstride, o, b, n, stride, base);      \
        return 1;                                                                     \
    }                                                                                 \
    return 0;                                                                         \
}
CS231N_POOL_MAX_WINDOWS(float, _f)
CS231N_POOL_MAX_WINDOWS(double, _d)

/* One clipped window (border column), scanned row-major from -inf. The select is
   done on the bits with a mask, so random data costs no branch mispredictions. */
#define CS231N_POOL_MAX_CLIPPED(NAME, T, UT)                                          \
static T NAME(const T* x, Py_ssize_t W, Py_ssize_t r0, Py_ssize_t rows, Py_ssize_t dh, \
              Py_ssize_t c0, Py_ssize_t cols, Py_ssize_t dw, int64_t* best_out) {    \
    union { T f; UT u; } cur, v;                                                     \
    int64_t best = r0 * W + c0, cell, keep;                                          \
    Py_ssize_t i, j;                                                                 \
    UT take;                                                                         \
    cur.f = -(T)INFINITY;                                                            \
    for (i = 0; i < rows; i++) {                                                     \
        for (j = 0; j < cols; j++) {                                                 \
            cell = (r0 + i * dh) * W + c0 + j * dw;                                  \
            v.f = x[cell];                                                           \
            take = (UT)0 - (UT)((v.f > cur.f) | (v.f != v.f));                       \
            cur.u = (v.u & take) | (cur.u & ~take);                                  \
            keep = (int64_t)(take & 1) - 1;  /* all ones when not taken */           \
            best = (best & keep) | (cell & ~keep);                                   \
        }                                                                            \
    }                                                                                \
    *best_out = best;                                                                \
    return cur.f;                                                                    \
}
CS231N_POOL_MAX_CLIPPED(cs231n_pool_max_clipped_f, float, uint32_t)
CS231N_POOL_MAX_CLIPPED(cs231n_pool_max_clipped_d, double, uint64_t)

/* Separable max for K x K windows (no dilation) at stride S: first the max of each
   K-cell run of every input row under every output column (first maximum, last NaN),
   then across the window's rows with the same rule. Rows are the outer order of the
   row-major scan, so this equals the scan of the whole window: with a NaN, the last
   row holding one wins with its last NaN; without, the first row reaching the
   maximum wins with its first maximum. One call does a whole plane, so small planes
   pay no per-row call, and the loops run flat across rows where the layout allows:
   the run pass when W == S * OW (run j starts at x[S*j - pl]), the fold at stride 1
   over consecutive full-height output rows. hv/hi: (H, OW) run maxima and their
   32-bit indices. Every column and row count must be >= 1 (direct.py checks).
   No AVX-512 clone: its 16-lane loops leave long remainders on 28-wide rows and pay
   more for the stride-2 de-interleave (measured on Zen 4: S2 3.0 vs 2.3 ms, S4 1.1 vs
   1.05 ms for the AVX2 build). */
/* cur, best = v, vi when v > cur or v is NaN (PyTorch's rule), selected on the bits
   so that scalar remainders do not branch on random data; force = 1 takes v and
   allow = 0 keeps cur, per lane. */
#define CS231N_POOL_TAKE_IF(T, UT, cur, best, v, vi, force, allow)                  \
    do {                                                                            \
        union { T f; UT u; } v_, c_;                                                \
        UT m_ = (UT)0 - (UT)(((((v) > (cur)) | ((v) != (v))) | (force)) & (allow)); \
        int32_t mi_ = (int32_t)m_;                                                  \
        v_.f = (v);                                                                 \
        c_.f = (cur);                                                               \
        c_.u = (v_.u & m_) | (c_.u & ~m_);                                          \
        (cur) = c_.f;                                                               \
        (best) = ((vi) & mi_) | ((best) & ~mi_);                                    \
    } while (0)
#define CS231N_POOL_TAKE(T, UT, cur, best, v, vi) CS231N_POOL_TAKE_IF(T, UT, cur, best, v, vi, 0, 1)
/* Runs of R cells (a literal: 1 <= R <= 3) at column c0 of every row: unrolled and
   branch-free (a strided loop, so scalar; 1 or 2 such columns per plane side). */
#define CS231N_POOL_BORDER_RUNS(T, UT, R)                                           \
do {                                                                                 \
    for (r = 0, pos = c0; r < H; r++, pos += (int32_t)W) {                           \
        cur = xc[r * W];                                                             \
        best = pos;                                                                  \
        for (t = 1; t < (R); t++) {                                                  \
            v = xc[r * W + t];                                                       \
            CS231N_POOL_TAKE(T, UT, cur, best, v, pos + (int32_t)t);                 \
        }                                                                            \
        hv[r * OW + ow] = cur;                                                       \
        hi[r * OW + ow] = best;                                                      \
    }                                                                                \
} while (0)
/* Fold R run rows (a literal: 1 <= R <= 3) of n outputs starting at v0/i0. */
#define CS231N_POOL_FOLD_RUNS(T, UT, R)                                             \
do {                                                                                 \
    for (k = 0; k < n; k++) {                                                        \
        cur = v0[k];                                                                 \
        best = i0[k];                                                                \
        for (t = 1; t < (R); t++) {                                                  \
            v = v0[t * OW + k];                                                      \
            CS231N_POOL_TAKE(T, UT, cur, best, v, i0[t * OW + k]);                   \
        }                                                                            \
        oo[k] = cur;                                                                 \
        io[k] = best;                                                                \
    }                                                                                \
} while (0)
#define CS231N_POOL_SEP_PLANE(NAME, T, UT, K, S)                                        \
static CS231N_POOL_NOINLINE_AVX2 void NAME(const T* __restrict x, T* __restrict o,         \
        int64_t* __restrict idx, T* __restrict hv, int32_t* __restrict hi,           \
        Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t pl,     \
        const Py_ssize_t* row_start, const Py_ssize_t* row_count,                    \
        const Py_ssize_t* col_start, const Py_ssize_t* col_count,                    \
        Py_ssize_t ow_lo, Py_ssize_t ow_hi, const int32_t* __restrict cls) {        \
    Py_ssize_t r, k, n, oh, ow, run, cnt, t, passes, jbeg, jend;                    \
    T cur, v;                                                                        \
    int32_t best, pos;                                                               \
    if ((K) == 3 && cls != NULL) {                                                  \
        /* 3-cell runs at every position of the plane in one loop (W == S * OW); a  \
           border run drops its first (cls 1) or last (cls 2) cell by forcing or    \
           blocking that cell's decision. Only the runs at the plane's two ends,    \
           whose dropped cell lies outside the plane, are done one by one. */       \
        jend = H * W - (K) + pl < 0 ? 0 : (H * W - (K) + pl) / (S) + 1;             \
        jend = jend < H * OW ? jend : H * OW;                                       \
        jbeg = (pl + (S) - 1) / (S) < jend ? (pl + (S) - 1) / (S) : jend;           \
        const T* __restrict xr = x - pl;                                            \
        for (k = jbeg, pos = (int32_t)((S) * jbeg - pl); k < jend; k++, pos += (S)) {\
            cur = xr[k * (S)];                                                      \
            best = pos;                                                             \
            v = xr[k * (S) + 1];                                                    \
            CS231N_POOL_TAKE_IF(T, UT, cur, best, v, pos + 1, cls[k] == 1, 1);      \
            v = xr[k * (S) + 2];                                                    \
            CS231N_POOL_TAKE_IF(T, UT, cur, best, v, pos + 2, 0, cls[k] != 2);      \
            hv[k] = cur;                                                            \
            hi[k] = best;                                                           \
        }                                                                           \
        for (k = jbeg > 0 ? 0 : jend; k < H * OW; k = (k + 1 == jbeg) ? jend : k + 1) {\
            r = k / OW;                                                             \
            ow = k % OW;                                                            \
            cur = x[r * W + col_start[ow]];                                         \
            best = (int32_t)(r * W + col_start[ow]);                                \
            for (t = 1; t < col_count[ow]; t++) {                                   \
                v = x[r * W + col_start[ow] + t];                                   \
                CS231N_POOL_TAKE(T, UT, cur, best, v, (int32_t)(r * W + col_start[ow] + t));\
            }                                                                       \
            hv[k] = cur;                                                            \
            hi[k] = best;                                                           \
        }                                                                           \
    } else {                                                                        \
        /* runs of the interior columns; in the flat case the runs that straddle two\
           rows read in-bounds cells and are overwritten by the border pass below */\
        if (ow_hi > ow_lo) {                                                        \
            passes = (W == (S) * OW) ? 1 : H;                                       \
            n = (W == (S) * OW) ? (H - 1) * OW + ow_hi - ow_lo : ow_hi - ow_lo;     \
            for (r = 0; r < passes; r++) {                                          \
                const T* __restrict xr = x + r * W + (S) * ow_lo - pl;              \
                T* __restrict hvr = hv + r * OW + ow_lo;                            \
                int32_t* __restrict hir = hi + r * OW + ow_lo;                      \
                const int32_t base = (int32_t)(r * W + (S) * ow_lo - pl);           \
                for (k = 0, pos = base; k < n; k++, pos += (S)) {                   \
                    cur = xr[k * (S)];                                              \
                    best = pos;  /* a 32-bit induction variable: 64-bit lanes halve the width */\
                    for (t = 1; t < (K); t++) {                                     \
                        v = xr[k * (S) + t];                                        \
                        CS231N_POOL_TAKE(T, UT, cur, best, v, pos + (int32_t)t);    \
                    }                                                               \
                    hvr[k] = cur;                                                   \
                    hir[k] = best;                                                  \
                }                                                                   \
            }                                                                       \
        }                                                                           \
        /* clipped runs of the border columns, one column at a time down the rows */\
        for (ow = 0; ow < OW; ow++) {                                               \
            if (ow >= ow_lo && ow < ow_hi) continue;                                \
            const T* xc = x + col_start[ow];                                        \
            const int32_t c0 = (int32_t)col_start[ow];                              \
            if (col_count[ow] == 1) CS231N_POOL_BORDER_RUNS(T, UT, 1);              \
            else if (col_count[ow] == 2) CS231N_POOL_BORDER_RUNS(T, UT, 2);         \
            else CS231N_POOL_BORDER_RUNS(T, UT, 3);                                 \
        }                                                                           \
    }                                                                               \
    /* fold the rows of each window; the int64 index is written here directly */    \
    for (oh = 0; oh < OH; oh += run) {                                              \
        cnt = row_count[oh];                                                        \
        run = 1;                                                                    \
        if ((S) == 1 && cnt == (K))                                                 \
            while (oh + run < OH && row_count[oh + run] == (K)) run++;              \
        const T* __restrict v0 = hv + row_start[oh] * OW;                           \
        const int32_t* __restrict i0 = hi + row_start[oh] * OW;                     \
        T* __restrict oo = o + oh * OW;                                             \
        int64_t* __restrict io = idx + oh * OW;                                     \
        n = run * OW;                                                               \
        if (cnt == 1) CS231N_POOL_FOLD_RUNS(T, UT, 1);                              \
        else if (cnt == 2) CS231N_POOL_FOLD_RUNS(T, UT, 2);                         \
        else CS231N_POOL_FOLD_RUNS(T, UT, 3);                                       \
    }                                                                               \
}
#define CS231N_POOL_SEPARABLE(T, UT, SUFFIX)                                            \
CS231N_POOL_SEP_PLANE(cs231n_pool_sep2_1##SUFFIX, T, UT, 2, 1)                            \
CS231N_POOL_SEP_PLANE(cs231n_pool_sep3_1##SUFFIX, T, UT, 3, 1)                            \
CS231N_POOL_SEP_PLANE(cs231n_pool_sep3_2##SUFFIX, T, UT, 3, 2)                            \
/* one plane of K x K pooling at stride S: (2, 1), (3, 1) or (3, 2) */                \
static void cs231n_pool_sep_plane##SUFFIX(const T* x, T* o, int64_t* idx, T* hv,      \
        int32_t* hi, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,        \
        Py_ssize_t kernel, Py_ssize_t stride, Py_ssize_t pl,                          \
        const Py_ssize_t* row_start, const Py_ssize_t* row_count,                     \
        const Py_ssize_t* col_start, const Py_ssize_t* col_count,                     \
        Py_ssize_t ow_lo, Py_ssize_t ow_hi, const int32_t* cls) {                                         \
    if (kernel == 2)                                                                  \
        cs231n_pool_sep2_1##SUFFIX(x, o, idx, hv, hi, H, W, OH, OW, pl, row_start,    \
                                   row_count, col_start, col_count, ow_lo, ow_hi, cls);    \
    else if (stride == 1)                                                             \
        cs231n_pool_sep3_1##SUFFIX(x, o, idx, hv, hi, H, W, OH, OW, pl, row_start,    \
                                   row_count, col_start, col_count, ow_lo, ow_hi, cls);    \
    else                                                                              \
        cs231n_pool_sep3_2##SUFFIX(x, o, idx, hv, hi, H, W, OH, OW, pl, row_start,    \
                                   row_count, col_start, col_count, ow_lo, ow_hi, cls);    \
}
CS231N_POOL_SEPARABLE(float, uint32_t, _f)
CS231N_POOL_SEPARABLE(double, uint64_t, _d)

/* ---------------------------------------------------------------- average */

#define CS231N_POOL_ADD_CELLS(NAME, T, STRIDE)                                        \
static CS231N_POOL_NOINLINE void NAME(const T* __restrict xs, T* __restrict acc,      \
                                      Py_ssize_t n, Py_ssize_t stride) {              \
    Py_ssize_t k;                                                                    \
    (void)stride;                                                                    \
    for (k = 0; k < n; k++) acc[k] += xs[k * (STRIDE)];                              \
}
#define CS231N_POOL_SPREAD_CELLS(NAME, T, STRIDE)                                     \
static CS231N_POOL_NOINLINE void NAME(T* __restrict dxs, const T* __restrict g,       \
                                      Py_ssize_t n, Py_ssize_t stride) {              \
    Py_ssize_t k;                                                                    \
    (void)stride;                                                                    \
    for (k = 0; k < n; k++) dxs[k * (STRIDE)] += g[k];                               \
}
/* K x K window sums (adjacent columns), held in registers: 0 + c00 + c01 + ... */
#define CS231N_POOL_SUM_WINDOW(NAME, T, STRIDE, K)                                    \
static CS231N_POOL_NOINLINE void NAME(const T* __restrict x0, Py_ssize_t rstride,     \
                                      T* __restrict o, Py_ssize_t n, Py_ssize_t stride) { \
    Py_ssize_t k;                                                                    \
    int i, j;                                                                        \
    (void)stride;                                                                    \
    for (k = 0; k < n; k++) {                                                        \
        T total = 0;                                                                 \
        for (i = 0; i < (K); i++)                                                    \
            for (j = 0; j < (K); j++)                                                \
                total += x0[i * rstride + j + k * (STRIDE)];                         \
        o[k] = total;                                                                \
    }                                                                                \
}
/* Non-overlapping K x K tiles (stride K, adjacent columns): each output's share
   goes to its K*K cells; no two windows of one output row touch the same cell. */
#define CS231N_POOL_SPREAD_TILES(NAME, T, K)                                          \
static CS231N_POOL_NOINLINE void NAME(T* __restrict x0, Py_ssize_t rstride,           \
                                      const T* __restrict g, Py_ssize_t n) {          \
    Py_ssize_t k;                                                                    \
    int i, j;                                                                        \
    for (k = 0; k < n; k++) {                                                        \
        T share = g[k];                                                              \
        for (i = 0; i < (K); i++)                                                    \
            for (j = 0; j < (K); j++)                                                \
                x0[i * rstride + j + k * (K)] += share;                              \
    }                                                                                \
}
/* One window row of 3-wide, stride-2 windows (neighbours share one column), written
   cell by cell so the stores are contiguous: cell 2m gets window m-1's share, then
   window m's (row-major window order, as PyTorch adds them); cell 2m+1 gets window m's. */
#define CS231N_POOL_SPREAD_3S2(NAME, T)                                               \
static CS231N_POOL_NOINLINE void NAME(T* __restrict x0, const T* __restrict g,        \
                                      Py_ssize_t n) {                                 \
    Py_ssize_t m;                                                                    \
    x0[0] += g[0];                                                                   \
    x0[1] += g[0];                                                                   \
    for (m = 1; m < n; m++) {                                                        \
        x0[2 * m] = (x0[2 * m] + g[m - 1]) + g[m];                                   \
        x0[2 * m + 1] += g[m];                                                       \
    }                                                                                \
    x0[2 * n] += g[n - 1];                                                           \
}
#define CS231N_POOL_AVG_KERNELS(T, SUFFIX)                                            \
CS231N_POOL_SPREAD_3S2(cs231n_pool_spread_3s2##SUFFIX, T)                             \
CS231N_POOL_SPREAD_TILES(cs231n_pool_tiles2##SUFFIX, T, 2)                            \
CS231N_POOL_SPREAD_TILES(cs231n_pool_tiles3##SUFFIX, T, 3)                            \
/* 1 when a specialised loop spread the K x K tiles, 0 when K is not 2 or 3 */        \
static int cs231n_pool_spread_tiles##SUFFIX(T* x0, Py_ssize_t rstride, const T* g,    \
                                            Py_ssize_t n, Py_ssize_t kernel) {        \
    if (kernel == 2) { cs231n_pool_tiles2##SUFFIX(x0, rstride, g, n); return 1; }     \
    if (kernel == 3) { cs231n_pool_tiles3##SUFFIX(x0, rstride, g, n); return 1; }     \
    return 0;                                                                         \
}                                                                                     \
CS231N_POOL_ADD_CELLS(cs231n_pool_add1##SUFFIX, T, 1)                                 \
CS231N_POOL_ADD_CELLS(cs231n_pool_add2##SUFFIX, T, 2)                                 \
CS231N_POOL_ADD_CELLS(cs231n_pool_adds##SUFFIX, T, stride)                            \
CS231N_POOL_SPREAD_CELLS(cs231n_pool_spread1##SUFFIX, T, 1)                           \
CS231N_POOL_SPREAD_CELLS(cs231n_pool_spread2##SUFFIX, T, 2)                           \
CS231N_POOL_SPREAD_CELLS(cs231n_pool_spreads##SUFFIX, T, stride)                      \
CS231N_POOL_SUM_WINDOW(cs231n_pool_sum2_1##SUFFIX, T, 1, 2)                           \
CS231N_POOL_SUM_WINDOW(cs231n_pool_sum2_2##SUFFIX, T, 2, 2)                           \
CS231N_POOL_SUM_WINDOW(cs231n_pool_sum2_s##SUFFIX, T, stride, 2)                      \
CS231N_POOL_SUM_WINDOW(cs231n_pool_sum3_1##SUFFIX, T, 1, 3)                           \
CS231N_POOL_SUM_WINDOW(cs231n_pool_sum3_2##SUFFIX, T, 2, 3)                           \
CS231N_POOL_SUM_WINDOW(cs231n_pool_sum3_s##SUFFIX, T, stride, 3)                      \
static void cs231n_pool_add##SUFFIX(const T* xs, T* acc, Py_ssize_t n, Py_ssize_t stride) { \
    if (stride == 1) cs231n_pool_add1##SUFFIX(xs, acc, n, stride);                    \
    else if (stride == 2) cs231n_pool_add2##SUFFIX(xs, acc, n, stride);               \
    else cs231n_pool_adds##SUFFIX(xs, acc, n, stride);                                \
}                                                                                     \
static void cs231n_pool_spread##SUFFIX(T* dxs, const T* g, Py_ssize_t n, Py_ssize_t stride) { \
    if (stride == 1) cs231n_pool_spread1##SUFFIX(dxs, g, n, stride);                  \
    else if (stride == 2) cs231n_pool_spread2##SUFFIX(dxs, g, n, stride);             \
    else cs231n_pool_spreads##SUFFIX(dxs, g, n, stride);                              \
}                                                                                     \
/* 1 when a specialised loop summed the K x K windows, 0 when K is not 2 or 3 */      \
static int cs231n_pool_sum_window##SUFFIX(const T* x0, Py_ssize_t rstride, T* o,      \
                                          Py_ssize_t n, Py_ssize_t stride, Py_ssize_t kernel) { \
    if (kernel == 2) {                                                                \
        if (stride == 1) cs231n_pool_sum2_1##SUFFIX(x0, rstride, o, n, stride);       \
        else if (stride == 2) cs231n_pool_sum2_2##SUFFIX(x0, rstride, o, n, stride);  \
        else cs231n_pool_sum2_s##SUFFIX(x0, rstride, o, n, stride);                   \
        return 1;                                                                     \
    }                                                                                 \
    if (kernel == 3) {                                                                \
        if (stride == 1) cs231n_pool_sum3_1##SUFFIX(x0, rstride, o, n, stride);       \
        else if (stride == 2) cs231n_pool_sum3_2##SUFFIX(x0, rstride, o, n, stride);  \
        else cs231n_pool_sum3_s##SUFFIX(x0, rstride, o, n, stride);                   \
        return 1;                                                                     \
    }                                                                                 \
    return 0;                                                                         \
}
CS231N_POOL_AVG_KERNELS(float, _f)
CS231N_POOL_AVG_KERNELS(double, _d)

#endif  /* CS231N_POOL_DIRECT_KERNELS_H */
