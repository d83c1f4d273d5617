/* C kernels of cs231n_pool._adaptive: the adaptive average, and numpy's pairwise sum for the
   1x1 mean.

   Included once, by _adaptive.pyx; every function is static and trusts its arguments. Bins: output row oh reads input rows [hs[oh], he[oh]),
   output column ow reads columns [ws[ow], we[ow]). */
#ifndef CS231N_POOL_ADAPTIVE_KERNELS_H
#define CS231N_POOL_ADAPTIVE_KERNELS_H

#include <Python.h>
#include <string.h>

#ifdef _OPENMP
static int cs231n_pool_adaptive_openmp(void) { return 1; }
#else
static int cs231n_pool_adaptive_openmp(void) { return 0; }
#endif

/* On x86-64 Linux GCC also builds an AVX2 version, picked at load time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CS231N_POOL_LEAF_CLONES __attribute__((noinline, target_clones("avx2", "default")))
#else
#define CS231N_POOL_LEAF_CLONES
#endif

/* numpy's pairwise-sum leaf (8 <= n <= 128) of eight arrays `stride` apart at once: eight
   accumulators each, added as numpy adds them. */
#define CS231N_POOL_LEAF8(NAME, T)                                                     \
static CS231N_POOL_LEAF_CLONES void NAME(const T* a, Py_ssize_t n, Py_ssize_t stride, T* res) { \
    T r[8][8];                                                                         \
    Py_ssize_t i, end = n - n % 8;                                                     \
    int l, j;                                                                          \
    for (l = 0; l < 8; l++) for (j = 0; j < 8; j++) r[l][j] = a[l * stride + j];       \
    for (i = 8; i < end; i += 8)                                                       \
        for (l = 0; l < 8; l++) for (j = 0; j < 8; j++) r[l][j] += a[l * stride + i + j]; \
    for (l = 0; l < 8; l++) {                                                          \
        T sum = ((r[l][0] + r[l][1]) + (r[l][2] + r[l][3]))                            \
              + ((r[l][4] + r[l][5]) + (r[l][6] + r[l][7]));                           \
        for (i = end; i < n; i++) sum += a[l * stride + i];                            \
        res[l] = sum;                                                                  \
    }                                                                                  \
}

/* One plane's bin averages: each bin's cells added row-major in T from 0, then divided by kh
   and by kw (PyTorch's CPU order). A bin at a time: the sums of neighbouring bins are
   independent chains, which the CPU overlaps. */
#define CS231N_POOL_AVG_BINS(NAME, T)                                                  \
static void NAME(const T* x, T* o, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,         \
                 const Py_ssize_t* hs, const Py_ssize_t* he, const Py_ssize_t* ws,     \
                 const Py_ssize_t* we) {                                               \
    Py_ssize_t oh, ow, a, b;                                                           \
    for (oh = 0; oh < OH; oh++) {                                                      \
        for (ow = 0; ow < OW; ow++) {                                                  \
            T total = 0;                                                               \
            for (a = hs[oh]; a < he[oh]; a++) {                                        \
                const T* row = x + a * W;                                              \
                for (b = ws[ow]; b < we[ow]; b++) total += row[b];                     \
            }                                                                          \
            o[oh * OW + ow] = (total / (T)(he[oh] - hs[oh])) / (T)(we[ow] - ws[ow]);   \
        }                                                                              \
    }                                                                                  \
}

/* One plane's gradient: dx = 0, then each bin's share dout / kh / kw added to its cells, bins
   in row-major order, so every cell gets its shares in PyTorch's order. */
#define CS231N_POOL_AVG_BINS_BACK(NAME, T)                                             \
static void NAME(const T* g, T* dx, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH,         \
                 Py_ssize_t OW, const Py_ssize_t* hs, const Py_ssize_t* he,            \
                 const Py_ssize_t* ws, const Py_ssize_t* we) {                         \
    Py_ssize_t oh, ow, a, b;                                                           \
    memset(dx, 0, (size_t)(H * W) * sizeof(T));                                        \
    for (oh = 0; oh < OH; oh++) {                                                      \
        for (ow = 0; ow < OW; ow++) {                                                  \
            const T share = (g[oh * OW + ow] / (T)(he[oh] - hs[oh])) / (T)(we[ow] - ws[ow]); \
            for (a = hs[oh]; a < he[oh]; a++) {                                        \
                T* row = dx + a * W;                                                   \
                for (b = ws[ow]; b < we[ow]; b++) row[b] += share;                     \
            }                                                                          \
        }                                                                              \
    }                                                                                  \
}

CS231N_POOL_LEAF8(cs231n_pool_leaf8_f, float)
CS231N_POOL_LEAF8(cs231n_pool_leaf8_d, double)
CS231N_POOL_AVG_BINS(cs231n_pool_avg_bins_f, float)
CS231N_POOL_AVG_BINS(cs231n_pool_avg_bins_d, double)
CS231N_POOL_AVG_BINS_BACK(cs231n_pool_avg_bins_back_f, float)
CS231N_POOL_AVG_BINS_BACK(cs231n_pool_avg_bins_back_d, double)

#endif  /* CS231N_POOL_ADAPTIVE_KERNELS_H */
