/* resnetc forward kernels: vector helpers and the generic kernel bodies of inference (and of the
 * training step's forward pass). Each generated kernel is a thin function that calls one of these
 * with its shapes as compile-time constants, so the C compiler specialises, unrolls and vectorises
 * it for that shape. resnetc pastes this file into every model.c; it also compiles on its own
 * (Tests/KernelTests). */
#ifndef RC_FORWARD_KERNELS_H
#define RC_FORWARD_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Vector-typed values only cross static functions, so no ABI depends on -mavx being set. */
#pragma GCC diagnostic ignored "-Wpsabi"

/* RC_LANES float32 lanes per vector: one pixel of one channel block in the NCHWc layout. The
 * generated model.c sets it to the target's vector width (16 with AVX-512, 8 with AVX2, 4 for
 * the generic target: SSE, NEON, or plain scalar code where the compiler has no vectors); every
 * channel count is padded to whole blocks of RC_LANES. GCC and Clang lower these vector types
 * on any architecture. */
#ifndef RC_LANES
#define RC_LANES 8
#endif
#if RC_LANES != 4 && RC_LANES != 8 && RC_LANES != 16
#error "RC_LANES must be 4, 8 or 16"
#endif
typedef float vecf __attribute__((vector_size(RC_LANES * sizeof(float))));
typedef int32_t veci __attribute__((vector_size(RC_LANES * sizeof(int32_t))));
/* A vector of RC_LANES doubles, for per-lane arithmetic that float would round too coarsely. */
typedef double vecd __attribute__((vector_size(RC_LANES * sizeof(double))));
/* Channel blocks holding c channels, and the floats of one [RC_LANES in][RC_LANES out] weight block. */
#define RC_BLOCKS(c) (((c) + RC_LANES - 1) / RC_LANES)
#define RC_WEIGHT_BLOCK (RC_LANES * RC_LANES)

#define RC_INLINE static inline __attribute__((always_inline))

#if defined(__AVX512F__) || defined(__AVX__) || defined(__SSE__)
#include <immintrin.h>
#endif
/* dst[0 .. floats) = src[...], for output that is not read again soon (a packed weight written
 * once per step, far larger than the caches): with non-temporal stores where the target has them
 * and dst is 64-byte aligned, so the lines go to memory without first being read from it.
 * floats is a multiple of 16. Call rc_stream_fence() before other threads read dst. */
RC_INLINE void rc_stream_floats(float *dst, const float *src, const size_t floats)
{
#if defined(__AVX512F__) || defined(__AVX__) || defined(__SSE__)
    if ((uintptr_t)dst % 64 == 0) {
        for (size_t i = 0; i < floats; i += 16) {
#if defined(__AVX512F__)
            _mm512_stream_ps(dst + i, _mm512_loadu_ps(src + i));
#elif defined(__AVX__)
            _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i)), _mm256_stream_ps(dst + i + 8, _mm256_loadu_ps(src + i + 8));
#else
            for (int q = 0; q < 16; q += 4) _mm_stream_ps(dst + i + q, _mm_loadu_ps(src + i + q));
#endif
        }
        return;
    }
#endif
    memcpy(dst, src, floats * sizeof(float));
}

/* Orders this thread's non-temporal stores before its later stores (and so before a barrier). */
RC_INLINE void rc_stream_fence(void)
{
#if defined(__AVX512F__) || defined(__AVX__) || defined(__SSE__)
    _mm_sfence();
#endif
}

/* A hint to fetch the cache line holding p; nothing where the compiler has no such builtin. */
#if defined(__GNUC__)
#define RC_PREFETCH(p) __builtin_prefetch(p)
#else
#define RC_PREFETCH(p) ((void)(p))
#endif

RC_INLINE vecf vec_load(const float *p) { vecf v; memcpy(&v, p, sizeof v); return v; }
RC_INLINE void vec_store(float *p, vecf v) { memcpy(p, &v, sizeof v); }
RC_INLINE vecf vec_zero(void) { vecf z = {0}; return z; }
/* ReLU and max keep NaN (as PyTorch does): a NaN from bad weights or inputs must reach the logits, not turn into 0. */
RC_INLINE vecf vec_relu(vecf x) { return (vecf)((veci)x & ~(veci)(x < vec_zero())); }
RC_INLINE vecf vec_max(vecf a, vecf b) { veci keep = (veci)(a > b) | (veci)(a != a); return (vecf)(((veci)a & keep) | ((veci)b & ~keep)); }

/* One input channel c of one kernel tap (kh, kw) for a register tile: OB weight vectors (one per
 * output block), each input pixel broadcast once and multiplied into all of them. */
RC_INLINE void rc_conv_tap(vecf acc[4][16], const float *in_row, const float *w_kw, const size_t w_block, const int c,
                           const int IW, const int S, const int P, const int kw, const int ow0, const int TW, const int CHECK,
                           const int OB)
{
    vecf wv[4] = {vec_zero(), vec_zero(), vec_zero(), vec_zero()};
#pragma GCC unroll 4
    for (int j = 0; j < OB; j++) wv[j] = vec_load(w_kw + j * w_block + c * RC_LANES);
#pragma GCC unroll 16
    for (int t = 0; t < TW; t++) {
        const int iw = (ow0 + t) * S - P + kw;
        if (CHECK && (iw < 0 || iw >= IW)) continue;
        const float x = in_row[iw * RC_LANES + c];
#pragma GCC unroll 4
        for (int j = 0; j < OB; j++) acc[j][t] += wv[j] * x;
    }
}

/* Convolution, one register tile: TW output pixels (ow0 ... ow0+TW-1) of output row oh, for OB
 * blocks of RC_LANES output channels (OB <= 4, TW <= 16; the code generator sizes OB x TW to fill
 * the register file, and each broadcast input pixel then feeds OB FMAs). in_img is one image, NCHWc with ICB input
 * blocks, the last of which holds CL real channels (the rest are zero padding, skipped: a
 * 3-channel stem does 3/RC_LANES of the padded work); w_blk holds the first output block's weights as
 * [ICB][K][K][RC_LANES inputs][RC_LANES outputs], the next block's w_block floats further. CHECK guards the
 * columns of pixels whose window may leave the image; interior tiles run without it. Rows are
 * clipped by kh range. Outputs of block j are out_block floats after block 0's. */
RC_INLINE void rc_conv_tile(const float *in_img, const float *w_blk, const float *bias, const float *res_row, float *out_row,
                            const int ICB, const int CL, const int IH, const int IW, const int K, const int S, const int P,
                            const int oh, const int ow0, const int TW, const int CHECK, const int BIAS, const int RES, const int RELU,
                            const int OB, const size_t w_block, const size_t out_block)
{
    vecf acc[4][16];
#pragma GCC unroll 4
    for (int j = 0; j < OB; j++) {
        const vecf bv = BIAS ? vec_load(bias + j * RC_LANES) : vec_zero();
#pragma GCC unroll 16
        for (int t = 0; t < 16; t++) acc[j][t] = bv;
    }
    const int ih0 = oh * S - P;
    const int kh_lo = ih0 < 0 ? -ih0 : 0;
    const int kh_hi = ih0 + K > IH ? IH - ih0 : K;
    for (int icb = 0; icb < ICB; icb++) {
        const int channels = icb == ICB - 1 ? CL : RC_LANES;
        for (int kh = kh_lo; kh < kh_hi; kh++) {
            const float *in_row = in_img + ((size_t)icb * IH + (size_t)(ih0 + kh)) * IW * RC_LANES;
            const float *w_k = w_blk + ((size_t)(icb * K + kh) * K) * RC_WEIGHT_BLOCK;
            /* kw stays a loop: unrolled, the compiler shares broadcasts across kw and spills them.
             * So does c with two blocks (measured on Zen 4: 118 against 218 GFLOP/s unrolled). */
            for (int kw = 0; kw < K; kw++) {
                if (OB == 1) {
#pragma GCC unroll 8
                    for (int c = 0; c < channels; c++) rc_conv_tap(acc, in_row, w_k + kw * RC_WEIGHT_BLOCK, w_block, c, IW, S, P, kw, ow0, TW, CHECK, OB);
                } else {
#pragma GCC unroll 1
                    for (int c = 0; c < channels; c++) rc_conv_tap(acc, in_row, w_k + kw * RC_WEIGHT_BLOCK, w_block, c, IW, S, P, kw, ow0, TW, CHECK, OB);
                }
            }
        }
    }
#pragma GCC unroll 4
    for (int j = 0; j < OB; j++) {
#pragma GCC unroll 16
        for (int t = 0; t < TW; t++) {
            vecf y = acc[j][t];
            if (RES) y += vec_load(res_row + j * out_block + (size_t)(ow0 + t) * RC_LANES);
            if (RELU) y = vec_relu(y);
            vec_store(out_row + j * out_block + (size_t)(ow0 + t) * RC_LANES, y);
        }
    }
}

/* Convolution, one output row (image b, output blocks ocb ... ocb+OB-1, row oh), covered by
 * register tiles: a first tile of TW0 pixels at column 0 and a last one of TWN ending at OW, both
 * checked against the image's columns (their positions are literals, so the checks fold away at
 * compile time), and tiles of TW between them, unchecked unless CHECKM (they are inside the image
 * for ResNets). */
RC_INLINE void rc_conv_row(const float *in, const float *w, const float *bias, const float *res, float *out,
                           const int b, const int ocb, const int oh,
                           const int ICB, const int CL, const int IH, const int IW, const int OCB, const int OH, const int OW,
                           const int K, const int S, const int P, const int TW0, const int TW, const int TWN,
                           const int CHECKM, const int OB, const int BIAS, const int RES, const int RELU)
{
    const float *in_img = in + (size_t)b * ICB * IH * IW * RC_LANES;
    const size_t w_block = (size_t)ICB * K * K * RC_WEIGHT_BLOCK, out_block = (size_t)OH * OW * RC_LANES;
    const float *w_blk = w + ocb * w_block;
    const float *bias_blk = BIAS ? bias + ocb * RC_LANES : 0;
    const size_t row = (((size_t)b * OCB + ocb) * OH + oh) * OW * RC_LANES;
    const float *res_row = RES ? res + row : 0;
    float *out_row = out + row;
    rc_conv_tile(in_img, w_blk, bias_blk, res_row, out_row, ICB, CL, IH, IW, K, S, P, oh, 0, TW0, 1, BIAS, RES, RELU, OB, w_block, out_block);
    for (int ow = TW0; ow < OW - TWN; ow += TW)
        rc_conv_tile(in_img, w_blk, bias_blk, res_row, out_row, ICB, CL, IH, IW, K, S, P, oh, ow, TW, CHECKM, BIAS, RES, RELU, OB, w_block,
                     out_block);
    if (TWN > 0)
        rc_conv_tile(in_img, w_blk, bias_blk, res_row, out_row, ICB, CL, IH, IW, K, S, P, oh, OW - TWN, TWN, 1, BIAS, RES, RELU, OB, w_block,
                     out_block);
}

/* A convolution of n images, called by every thread of a parallel region that the generated
 * kernel opens (so its literal sizes reach the tiles): rows of OB output blocks, then, when OCB
 * is not a multiple of OB, the rows of each remaining block, each in its own work-shared loop so
 * both tile shapes compile with literal sizes. */
RC_INLINE void rc_conv(int n, const float *in, const float *w, const float *bias, const float *res, float *out,
                       const int ICB, const int CL, const int IH, const int IW, const int OCB, const int OH, const int OW,
                       const int K, const int S, const int P, const int TW0, const int TW, const int TWN,
                       const int CHECKM, const int OB, const int BIAS, const int RES, const int RELU)
{
#pragma omp for collapse(3) schedule(static) nowait
    for (int b = 0; b < n; b++)
        for (int g = 0; g < OCB / OB; g++)
            for (int oh = 0; oh < OH; oh++)
                rc_conv_row(in, w, bias, res, out, b, g * OB, oh, ICB, CL, IH, IW, OCB, OH, OW, K, S, P, TW0, TW, TWN, CHECKM, OB, BIAS,
                            RES, RELU);
    if (OCB % OB) {
#pragma omp for collapse(3) schedule(static) nowait
        for (int b = 0; b < n; b++)
            for (int ocb = OCB - OCB % OB; ocb < OCB; ocb++)
                for (int oh = 0; oh < OH; oh++)
                    rc_conv_row(in, w, bias, res, out, b, ocb, oh, ICB, CL, IH, IW, OCB, OH, OW, K, S, P, TW0, TW, TWN, CHECKM, 1, BIAS,
                                RES, RELU);
    }
}

/* 1x1 stride-1 convolution as a GEMM over pixels, one register tile: OB output blocks of RC_LANES
 * channels x TP consecutive pixels of one image (OB <= 4, TP <= 8). Each input value is
 * broadcast once for OB weight vectors, so a 4 x 6 tile does 24 FMAs per 4 weight loads and 6
 * broadcasts, where a one-block tile does 12 per 13; and the input is read OCB/OB times, not
 * OCB. Weights are the convolution's [OCB][ICB][RC_LANES in][RC_LANES out] packing (K = 1). */
RC_INLINE void rc_conv1x1_tile(const float *in_img, const float *w, const float *bias, const float *res_img, float *out_img,
                               const int ICB, const int HW, const int ocb0, const int p0, const int OB, const int TP,
                               const int BIAS, const int RES, const int RELU)
{
    vecf acc[4][8];
#pragma GCC unroll 4
    for (int j = 0; j < OB; j++) {
        const vecf bv = BIAS ? vec_load(bias + (ocb0 + j) * RC_LANES) : vec_zero();
#pragma GCC unroll 8
        for (int t = 0; t < TP; t++) acc[j][t] = bv;
    }
    for (int icb = 0; icb < ICB; icb++) {
        const float *x = in_img + ((size_t)icb * HW + p0) * RC_LANES;
        const float *w_icb = w + ((size_t)ocb0 * ICB + icb) * RC_WEIGHT_BLOCK;
        /* c stays a loop: unrolled, GCC hoists the weight loads of all RC_LANES and spills accumulators. */
#pragma GCC unroll 1
        for (int c = 0; c < RC_LANES; c++) {
            vecf wv[4] = {vec_zero(), vec_zero(), vec_zero(), vec_zero()}; /* zeroed only to quiet -Wmaybe-uninitialized; unrolled, it costs nothing */
#pragma GCC unroll 4
            for (int j = 0; j < OB; j++) wv[j] = vec_load(w_icb + (size_t)j * ICB * RC_WEIGHT_BLOCK + c * RC_LANES);
#pragma GCC unroll 8
            for (int t = 0; t < TP; t++) {
                const float xv = x[t * RC_LANES + c];
#pragma GCC unroll 4
                for (int j = 0; j < OB; j++) acc[j][t] += wv[j] * xv;
            }
        }
    }
#pragma GCC unroll 4
    for (int j = 0; j < OB; j++) {
#pragma GCC unroll 8
        for (int t = 0; t < TP; t++) {
            const size_t at = ((size_t)(ocb0 + j) * HW + p0 + t) * RC_LANES;
            vecf y = acc[j][t];
            if (RES) y += vec_load(res_img + at);
            if (RELU) y = vec_relu(y);
            vec_store(out_img + at, y);
        }
    }
}

/* 1x1 stride-1 convolution of n images, called by every thread of a parallel region (the
 * generated kernel opens it, so the sizes it passes stay literals inside: a parallel region
 * opened here would be outlined with them as run-time values). OB x TP register tiles cover
 * (image, output-block group, pixel tile), then the remainders (OCB % OB blocks, HW % TP pixels)
 * as tile shapes of their own, each in its own work-shared loop, so every tile call has literal
 * sizes and compiles to straight-line code. */
RC_INLINE void rc_conv1x1(int n, const float *in, const float *w, const float *bias, const float *res, float *out,
                          const int ICB, const int OCB, const int HW, const int OB, const int TP,
                          const int BIAS, const int RES, const int RELU)
{
    const int groups = OCB / OB, tiles = HW / TP, OBR = OCB % OB, TPR = HW % TP;
    const size_t in_image = (size_t)ICB * HW * RC_LANES, out_image = (size_t)OCB * HW * RC_LANES;
#define RC_CONV1X1_TILE(ocb0, p0, ob, tp)                                                                                          \
    rc_conv1x1_tile(in + b * in_image, w, bias, RES ? res + b * out_image : 0, out + b * out_image, ICB, HW, ocb0, p0, ob, tp, BIAS, \
                    RES, RELU)
#pragma omp for collapse(3) schedule(static) nowait
    for (size_t b = 0; b < (size_t)n; b++)
        for (int g = 0; g < groups; g++)
            for (int tile = 0; tile < tiles; tile++) RC_CONV1X1_TILE(g * OB, tile * TP, OB, TP);
    if (TPR > 0) {
#pragma omp for collapse(2) schedule(static) nowait
        for (size_t b = 0; b < (size_t)n; b++)
            for (int g = 0; g < groups; g++) RC_CONV1X1_TILE(g * OB, tiles * TP, OB, TPR);
    }
    if (OBR > 0) {
#pragma omp for collapse(2) schedule(static) nowait
        for (size_t b = 0; b < (size_t)n; b++)
            for (int tile = 0; tile < tiles; tile++) RC_CONV1X1_TILE(groups * OB, tile * TP, OBR, TP);
    }
    if (OBR > 0 && TPR > 0) {
#pragma omp for schedule(static) nowait
        for (size_t b = 0; b < (size_t)n; b++) RC_CONV1X1_TILE(groups * OB, tiles * TP, OBR, TPR);
    }
#undef RC_CONV1X1_TILE
}

/* The kernels below, like the convolutions above, share out their loops among the threads of the
 * parallel region they are called in (`omp for ... nowait`), and the caller puts a barrier after
 * each: inference runs its whole forward pass in one region. Called outside a region, the calling
 * thread does all the work. */

/* NCHW (C channels, as the caller passes images) to NCHWc with the channels padded by zeros. */
RC_INLINE void rc_input_block(int n, const float *src, float *out, const int C, const int H, const int W)
{
    const int CB = RC_BLOCKS(C);
#pragma omp for collapse(2) schedule(static) nowait
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++)
            for (int p = 0; p < H * W; p++)
                for (int l = 0; l < RC_LANES; l++) {
                    const int c = cb * RC_LANES + l;
                    out[(((size_t)b * CB + cb) * H * W + p) * RC_LANES + l] = c < C ? src[((size_t)b * C + c) * H * W + p] : 0.0f;
                }
}

/* Option A shortcut: every S-th pixel from (0, 0); channels C ... OC-1 are zero. */
RC_INLINE void rc_shortcut_pad(int n, const float *in, float *out, const int C, const int IH, const int IW,
                               const int OC, const int OH, const int OW, const int S)
{
    const int ICB = RC_BLOCKS(C), OCB = RC_BLOCKS(OC);
#pragma omp for collapse(2) schedule(static) nowait
    for (int b = 0; b < n; b++)
        for (int ocb = 0; ocb < OCB; ocb++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    float *o = out + ((((size_t)b * OCB + ocb) * OH + oh) * OW + ow) * RC_LANES;
                    if (ocb < ICB) {
                        vec_store(o, vec_load(in + ((((size_t)b * ICB + ocb) * IH + oh * S) * IW + ow * S) * RC_LANES));
                    } else {
                        vec_store(o, vec_zero());
                    }
                }
}

/* Max pool with -inf padding (padding never wins, as in PyTorch). */
RC_INLINE void rc_max_pool(int n, const float *in, float *out, const int CB, const int IH, const int IW,
                           const int OH, const int OW, const int K, const int S, const int P)
{
#pragma omp for collapse(3) schedule(static) nowait
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++)
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    vecf best = vec_zero() - INFINITY;
                    for (int kh = 0; kh < K; kh++) {
                        const int ih = oh * S - P + kh;
                        if (ih < 0 || ih >= IH) continue;
                        for (int kw = 0; kw < K; kw++) {
                            const int iw = ow * S - P + kw;
                            if (iw < 0 || iw >= IW) continue;
                            best = vec_max(best, vec_load(in + ((((size_t)b * CB + cb) * IH + ih) * IW + iw) * RC_LANES));
                        }
                    }
                    vec_store(out + ((((size_t)b * CB + cb) * OH + oh) * OW + ow) * RC_LANES, best);
                }
}

/* Global average pool: NCHWc to dense NxC (padding channels dropped). */
RC_INLINE void rc_global_avg_pool(int n, const float *in, float *out, const int C, const int HW)
{
    const int CB = RC_BLOCKS(C);
#pragma omp for collapse(2) schedule(static) nowait
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++) {
            vecf sum = vec_zero();
            for (int p = 0; p < HW; p++) sum += vec_load(in + (((size_t)b * CB + cb) * HW + p) * RC_LANES);
            for (int l = 0; l < RC_LANES && cb * RC_LANES + l < C; l++) out[(size_t)b * C + cb * RC_LANES + l] = sum[l] / (float)HW;
        }
}

/* Fully connected: out[b][o] = bias[o] + sum_f w[o][f]*x[b][f], each dot product in RC_LANES
 * partial sums (a scalar float sum is one dependency chain that the compiler may not reorder). */
RC_INLINE void rc_linear(int n, const float *x, const float *w, const float *bias, float *out, const int F, const int O)
{
#pragma omp for collapse(2) schedule(static) nowait
    for (int b = 0; b < n; b++)
        for (int o = 0; o < O; o++) {
            const float *xb = x + (size_t)b * F, *wo = w + (size_t)o * F;
            vecf partial = vec_zero();
            int f = 0;
            for (; f + RC_LANES <= F; f += RC_LANES) partial += vec_load(wo + f) * vec_load(xb + f);
            float sum = 0.0f;
            for (int l = 0; l < RC_LANES; l++) sum += partial[l];
            for (; f < F; f++) sum += wo[f] * xb[f];
            out[(size_t)b * O + o] = sum + bias[o];
        }
}

/* Inference batch norm that no convolution absorbed, on NCHWc with padded per-channel vectors. */
RC_INLINE void rc_batch_norm(int n, const float *in, const float *gamma, const float *beta, const float *mean,
                             const float *var, float *out, const int CB, const int HW, const float EPS)
{
#pragma omp for collapse(2) schedule(static) nowait
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++) {
            vecf scale, shift;
            for (int l = 0; l < RC_LANES; l++) {
                const int c = cb * RC_LANES + l;
                scale[l] = gamma[c] / sqrtf(var[c] + EPS);
                shift[l] = beta[c] - mean[c] * scale[l];
            }
            for (int p = 0; p < HW; p++) {
                const size_t i = (((size_t)b * CB + cb) * HW + p) * RC_LANES;
                vec_store(out + i, vec_load(in + i) * scale + shift);
            }
        }
}

/* Elementwise ReLU and add over E stored floats per image (in place is allowed). */
RC_INLINE void rc_relu(int n, const float *in, float *out, const int E)
{
#pragma omp for schedule(static) nowait
    for (size_t i = 0; i < (size_t)n * E; i++) out[i] = in[i] < 0.0f ? 0.0f : in[i];
}

RC_INLINE void rc_add(int n, const float *a, const float *b, float *out, const int E)
{
#pragma omp for schedule(static) nowait
    for (size_t i = 0; i < (size_t)n * E; i++) out[i] = a[i] + b[i];
}

/* OpenMP threads for every kernel (all cores unless set). */
void rc_set_threads(int threads)
{
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
#else
    (void)threads;
#endif
}

/* Weight packing, run once by rc_pack. */

/* Folds an inference batch norm into the weight before it: w*gamma/sqrt(var+eps), per output channel. */
__attribute__((noinline, unused)) static void rc_fold_bn_weight(float *dst, const float *w, const float *gamma, const float *var, int O, int per, float eps)
{
    for (int o = 0; o < O; o++) {
        const double scale = (double)gamma[o] / sqrt((double)var[o] + (double)eps);
        for (int i = 0; i < per; i++) dst[(size_t)o * per + i] = (float)((double)w[(size_t)o * per + i] * scale);
    }
}

/* The bias folding leaves: beta - mean*gamma/sqrt(var+eps). */
__attribute__((noinline, unused)) static void rc_fold_bn_bias(float *dst, const float *gamma, const float *beta, const float *mean, const float *var, int C, float eps)
{
    for (int c = 0; c < C; c++) {
        const double scale = (double)gamma[c] / sqrt((double)var[c] + (double)eps);
        dst[c] = (float)((double)beta[c] - (double)mean[c] * scale);
    }
}

/* O x I x K x K (PyTorch) to [O/L][I/L][K][K][L in][L out] (L = RC_LANES), zero-padded: the layout rc_conv_tile
 * reads (layout 0). Layout 1, the transpose [..][L out][L in], is what a strided convolution's input gradient
 * reads. Layout 2 packs the weights of the input gradient of a stride-1 convolution, which is itself a forward
 * convolution of the output gradient: inputs and outputs swapped and each kernel flipped, in layout 0 (so its
 * blocks run over I/L output blocks and O/L input blocks). The blocks are shared out among the threads of an
 * enclosing parallel region; called outside one, the calling thread packs them all. */
__attribute__((noinline, unused)) static void rc_pack_conv_weight(float *dst, const float *src, int O, int I, int K, int layout)
{
    const int swapped = layout == 2, OCB = RC_BLOCKS(swapped ? I : O), ICB = RC_BLOCKS(swapped ? O : I);
#pragma omp for schedule(static) nowait
    for (int ocb = 0; ocb < OCB; ocb++)
        for (int icb = 0; icb < ICB; icb++)
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++)
                    for (int il = 0; il < RC_LANES; il++)
                        for (int ol = 0; ol < RC_LANES; ol++) {
                            /* (o, i) index the source tensor; the block's own output and input lanes are ol and il. */
                            const int bo = ocb * RC_LANES + ol, bi = icb * RC_LANES + il;
                            const int o = swapped ? bi : bo, i = swapped ? bo : bi;
                            const int sh = swapped ? K - 1 - kh : kh, sw = swapped ? K - 1 - kw : kw;
                            const size_t block = ((((size_t)ocb * ICB + icb) * K + kh) * K + kw) * RC_WEIGHT_BLOCK;
                            dst[block + (layout == 1 ? ol * RC_LANES + il : il * RC_LANES + ol)] =
                                (o < O && i < I) ? src[(((size_t)o * I + i) * K + sh) * K + sw] : 0.0f;
                        }
}

/* A per-channel vector padded with zeros to whole blocks of RC_LANES. */
__attribute__((noinline, unused)) static void rc_pack_vector(float *dst, const float *src, int C)
{
    const int padded = RC_BLOCKS(C) * RC_LANES;
    for (int c = 0; c < padded; c++) dst[c] = c < C ? src[c] : 0.0f;
}

__attribute__((noinline, unused)) static void rc_pack_dense(float *dst, const float *src, long count)
{
    memcpy(dst, src, (size_t)count * sizeof(float));
}

#endif /* RC_FORWARD_KERNELS_H */
