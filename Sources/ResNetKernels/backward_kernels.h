/* resnetc training kernels beyond the forward ones: batch norm on batch statistics and every
 * gradient op, on NCHWc feature maps (channel blocks of RC_LANES, padding lanes kept at zero). Sizes
 * are run-time arguments here; the convolution forward pass reuses the shape-specialised kernels
 * of inference. The training step runs in one parallel region: every kernel here is called by all
 * its threads and shares out its loops (`omp for`, each ending at its implicit barrier), except
 * those marked serial, which the step runs on one thread (`omp single`). Include forward_kernels.h first. */
#ifndef RC_BACKWARD_KERNELS_H
#define RC_BACKWARD_KERNELS_H

#include <stdio.h>

/* ---- Training kernels ---- */

/* A batch norm's batch statistics, saved by the forward pass for the running averages and the
 * backward pass: stats[0..C) the mean, stats[C..2C) 1/sqrt(var + eps), stats[2C..3C) the biased
 * variance. */

/* The doubles of scratch a training batch norm over C channels needs for n images: two vectors per
 * (image, channel block), its per-image sums. */
#define RC_BATCH_NORM_SCRATCH(n, C) ((size_t)(n) * RC_BLOCKS(C) * 2 * RC_LANES)

/* One (image, block) plane of a training batch norm's output: gamma * ((x - mean) * rstd) + beta,
 * in the order PyTorch rounds it (folding the mean into a shift, x * scale + shift, rounds
 * differently near zero, where ReLU decides), plus `residual` if given, then ReLU if `relu`.
 * Inlined with constant `relu` and a null or non-null residual, so each variant is its own loop. */
RC_INLINE void rc_bn_apply(const float *x, const float *residual, float *y, vecf scale, vecf mu, vecf rstd, vecf shift, int HW, const int relu)
{
    for (int p = 0; p < HW; p++) {
        vecf v = scale * ((vec_load(x + p * RC_LANES) - mu) * rstd) + shift;
        if (residual) v += vec_load(residual + p * RC_LANES);
        vec_store(y + p * RC_LANES, relu ? vec_relu(v) : v);
    }
}

/* y = gamma * (x - mean) * rstd + beta from the statistics rc_bn_train saved in stats, with the
 * residual add (residual non-null) and ReLU (relu) that follow the batch norm fused in, so the
 * block's output is one pass over memory; padding lanes stay zero. Called by every thread of a
 * parallel region. */
__attribute__((noinline, unused)) static void rc_bn_normalize(int n, const float *x, const float *gamma, const float *beta, const float *stats,
                                                              const float *residual, int relu, float *y, int C, int HW)
{
    const int CB = RC_BLOCKS(C);
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++) {
            vecf scale = vec_zero(), mu = vec_zero(), rstd = vec_zero(), shift = vec_zero();
            for (int l = 0; l < RC_LANES && cb * RC_LANES + l < C; l++) {
                const int c = cb * RC_LANES + l;
                scale[l] = gamma[c];
                mu[l] = stats[c];
                rstd[l] = stats[C + c];
                shift[l] = beta[c];
            }
            const size_t base = ((size_t)b * CB + cb) * HW * RC_LANES;
            if (residual && relu) rc_bn_apply(x + base, residual + base, y + base, scale, mu, rstd, shift, HW, 1);
            else if (residual) rc_bn_apply(x + base, residual + base, y + base, scale, mu, rstd, shift, HW, 0);
            else if (relu) rc_bn_apply(x + base, 0, y + base, scale, mu, rstd, shift, HW, 1);
            else rc_bn_apply(x + base, 0, y + base, scale, mu, rstd, shift, HW, 0);
        }
}

/* A batch norm on the batch's own statistics: saves them in stats and, unless y is NULL (its
 * normalisation then runs later, fused with what follows, as rc_bn_normalize), writes
 * y = gamma * (x - mean) * rstd + beta. Each image's sum and squared deviations are taken in float over one cached
 * plane, in parallel over (image, block), and merged into the batch's in image order in double
 * (Chan's parallel variance): two passes over data in cache, one over memory, no E[x^2] - E[x]^2
 * cancellation, and results that do not depend on the thread count. Called by every thread of a
 * parallel region; scratch holds RC_BATCH_NORM_SCRATCH(n, C) doubles. For sync batch norm,
 * local (unless NULL) also receives each channel's mean, variance and squared mean in double. */
__attribute__((noinline, unused)) static void rc_bn_train(int n, const float *x, const float *gamma, const float *beta, float *y,
                                                          float *stats, double *local, double *scratch, int C, int HW, float eps)
{
    const int CB = RC_BLOCKS(C);
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++) {
            const float *v = x + ((size_t)b * CB + cb) * HW * RC_LANES;
            vecf s = vec_zero();
            for (int p = 0; p < HW; p++) s += vec_load(v + p * RC_LANES);
            const vecf image_mean = s / (float)HW;
            vecf q = vec_zero();
            for (int p = 0; p < HW; p++) { const vecf d = vec_load(v + p * RC_LANES) - image_mean; q += d * d; }
            double *sums = scratch + ((size_t)b * CB + cb) * 2 * RC_LANES;
            for (int l = 0; l < RC_LANES; l++) { sums[l] = s[l]; sums[RC_LANES + l] = q[l]; }
        }
#pragma omp for schedule(static)
    for (int cb = 0; cb < CB; cb++) {
        /* Running (mean, M2) per lane over the images so far, merged image by image. */
        double mean[RC_LANES] = {0}, m2[RC_LANES] = {0};
        for (int b = 0; b < n; b++) {
            const double *sums = scratch + ((size_t)b * CB + cb) * 2 * RC_LANES;
            const double seen = (double)b * HW, total = seen + HW;
            for (int l = 0; l < RC_LANES; l++) {
                const double delta = sums[l] / HW - mean[l];
                mean[l] += delta * HW / total;
                m2[l] += sums[RC_LANES + l] + delta * delta * seen * HW / total;
            }
        }
        const double count = (double)n * HW;
        for (int l = 0; l < RC_LANES && cb * RC_LANES + l < C; l++) {
            const double var = m2[l] / count;
            stats[cb * RC_LANES + l] = (float)mean[l];
            stats[C + cb * RC_LANES + l] = (float)(1.0 / sqrt(var + eps));
            stats[2 * C + cb * RC_LANES + l] = (float)var;
            if (local) {
                const int c = cb * RC_LANES + l;
                local[c] = mean[l];
                local[C + c] = var;
                local[2 * C + c] = mean[l] * mean[l];
            }
        }
    }
    if (y) rc_bn_normalize(n, x, gamma, beta, stats, 0, 0, y, C, HW);
}

/* An all-reduce mean of count doubles over the processes of a data-parallel run, in place (the
 * host's MPI), with an opaque context; NULL when the run is one process. */
typedef void (*rc_average_fn)(void *context, double *values, int count);

/* Sync batch norm: a batch norm's statistics replaced by the whole global batch's, the processes
 * holding equal shards. local holds what rc_bn_train left there (mean, variance, squared mean per
 * channel, in double); averaged over the processes, the global mean is the mean of the means and
 * the global variance the mean variance plus the variance of the means. Serial: one thread calls
 * average, the others wait. */
__attribute__((noinline, unused)) static void rc_bn_sync_stats(rc_average_fn average, void *context, double *local, float *stats, int C, float eps)
{
    if (!average) return;
    average(context, local, 3 * C);
    for (int c = 0; c < C; c++) {
        const double mean = local[c], var = local[C + c] + fmax(local[2 * C + c] - mean * mean, 0.0);
        stats[c] = (float)mean;
        stats[C + c] = (float)(1.0 / sqrt(var + eps));
        stats[2 * C + c] = (float)var;
    }
}

/* Sync batch norm's backward: a channel reduction (dgamma or dbeta, NULL for none) replaced by its
 * mean over the processes, so the input gradient divides the global sums by the global count.
 * Serial. */
__attribute__((noinline, unused)) static void rc_sync_average(rc_average_fn average, void *context, double *buffer, float *values, int count)
{
    if (!average || !values) return;
    for (int i = 0; i < count; i++) buffer[i] = values[i];
    average(context, buffer, count);
    for (int i = 0; i < count; i++) values[i] = (float)buffer[i];
}

/* running = (1 - m) * running + m * batch statistic from the saved stats (the variance made
 * unbiased, as PyTorch keeps it). Serial: one thread runs it. */
__attribute__((noinline, unused)) static void rc_bn_running(int n, const float *stats, float *running, int C, int HW, float momentum, int variance)
{
    const double count = (double)n * HW;
    for (int c = 0; c < C; c++) {
        const double batch = variance ? stats[2 * C + c] * count / (count > 1 ? count - 1 : 1) : stats[c];
        running[c] = (float)((1.0 - momentum) * running[c] + momentum * batch);
    }
}

/* The gradient that reaches batch norm's output: gy, or with a fused ReLU (y != NULL, the
 * ReLU's output) gy where y > 0. */
RC_INLINE vecf rc_masked_gradient(const float *gy, const float *y, size_t i)
{
    const vecf g = vec_load(gy + i);
    if (!y) return g;
    return (vecf)((veci)g & (veci)(vec_load(y + i) > vec_zero()));
}

/* The reductions of batch norm's backward pass, over batch and space per channel:
 * dgamma = sum(g * xhat) and dbeta = sum(g) (either may be NULL; x and stats are read only for
 * dgamma); g as rc_masked_gradient gives it. Each image's sums in float vectors, in parallel over
 * (image, block), then the sum over images in image order in double. Called by every thread of a
 * parallel region; scratch holds RC_BATCH_NORM_SCRATCH(n, C) doubles. */
__attribute__((noinline, unused)) static void rc_bn_backward_sums(int n, const float *gy, const float *y, const float *x, const float *stats,
                                                                  float *dgamma, float *dbeta, double *scratch, int C, int HW)
{
    const int CB = RC_BLOCKS(C);
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++) {
            vecf mean = vec_zero(), rstd = vec_zero();
            for (int l = 0; l < RC_LANES && cb * RC_LANES + l < C && dgamma; l++) { mean[l] = stats[cb * RC_LANES + l]; rstd[l] = stats[C + cb * RC_LANES + l]; }
            const size_t base = ((size_t)b * CB + cb) * HW * RC_LANES;
            vecf sg = vec_zero(), sgx = vec_zero();
            for (int p = 0; p < HW; p++) {
                const vecf g = rc_masked_gradient(gy, y, base + p * RC_LANES);
                sg += g;
                if (dgamma) sgx += g * ((vec_load(x + base + p * RC_LANES) - mean) * rstd);
            }
            double *sums = scratch + ((size_t)b * CB + cb) * 2 * RC_LANES;
            for (int l = 0; l < RC_LANES; l++) { sums[l] = sg[l]; sums[RC_LANES + l] = sgx[l]; }
        }
#pragma omp for schedule(static)
    for (int cb = 0; cb < CB; cb++) {
        double sum_g[RC_LANES] = {0}, sum_gx[RC_LANES] = {0};
        for (int b = 0; b < n; b++) {
            const double *sums = scratch + ((size_t)b * CB + cb) * 2 * RC_LANES;
            for (int l = 0; l < RC_LANES; l++) { sum_g[l] += sums[l]; sum_gx[l] += sums[RC_LANES + l]; }
        }
        for (int l = 0; l < RC_LANES && cb * RC_LANES + l < C; l++) {
            if (dgamma) dgamma[cb * RC_LANES + l] = (float)sum_gx[l];
            if (dbeta) dbeta[cb * RC_LANES + l] = (float)sum_g[l];
        }
    }
}

/* Batch norm's input gradient from the saved statistics and the two reductions:
 * gx = gamma * rstd / M * (M * g - dbeta - xhat * dgamma), M = n * HW, g masked as above. */
__attribute__((noinline, unused)) static void rc_bn_backward(int n, const float *gy, const float *y, const float *x, const float *gamma,
                                                             const float *stats, const float *dgamma, const float *dbeta, float *gx, int C, int HW)
{
    const int CB = RC_BLOCKS(C);
    const double count = (double)n * HW;
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++) {
            /* gx = a * ((g - mg) - (x - mean) * rstd * mgx) per lane, in double vectors: g is often
             * close to its mean, and over the constant backgrounds of real images the float rounding
             * of that difference is the same at every pixel, so it adds up instead of averaging out. */
            vecd a = {0}, mg = {0}, mgx = {0}, mean = {0}, rstd = {0};
            for (int l = 0; l < RC_LANES && cb * RC_LANES + l < C; l++) {
                const int c = cb * RC_LANES + l;
                a[l] = (double)gamma[c] * stats[C + c];
                mg[l] = dbeta[c] / count;
                mgx[l] = dgamma[c] / count;
                mean[l] = stats[c];
                rstd[l] = stats[C + c];
            }
            const size_t base = ((size_t)b * CB + cb) * HW * RC_LANES;
            for (int p = 0; p < HW; p++) {
                const size_t i = base + p * RC_LANES;
                const vecd g = __builtin_convertvector(rc_masked_gradient(gy, y, i), vecd);
                const vecd v = __builtin_convertvector(vec_load(x + i), vecd);
                vec_store(gx + i, __builtin_convertvector(a * ((g - mg) - (v - mean) * rstd * mgx), vecf));
            }
        }
}

/* Sum over the batch per channel of a dense N x C gradient: a fully connected layer's bias gradient. Serial. */
__attribute__((noinline, unused)) static void rc_channel_sum(int n, const float *gy, float *out, int C)
{
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int b = 0; b < n; b++) s += gy[(size_t)b * C + c];
        out[c] = (float)s;
    }
}

/* A row's maximum and log(sum(exp(row - max))): the stable log-sum-exp softmax needs. */
static inline double rc_log_sum_exp(const float *row, int K, float *top)
{
    *top = row[0];
    for (int k = 1; k < K; k++) if (row[k] > *top) *top = row[k];
    double sum = 0;
    for (int k = 0; k < K; k++) sum += exp((double)row[k] - *top);
    return log(sum);
}

/* Mean softmax cross-entropy over the batch. Serial. */
__attribute__((noinline, unused)) static float rc_softmax_cross_entropy(int n, const float *logits, const int32_t *labels, int K)
{
    double total = 0;
    for (int b = 0; b < n; b++) {
        float top;
        const double lse = rc_log_sum_exp(logits + (size_t)b * K, K, &top);
        total += top + lse - logits[(size_t)b * K + labels[b]];
    }
    return (float)(total / n);
}

/* (softmax - one-hot) / N. Serial. */
__attribute__((noinline, unused)) static void rc_softmax_cross_entropy_backward(int n, const float *logits, const int32_t *labels, float *g, int K)
{
    for (int b = 0; b < n; b++) {
        const float *row = logits + (size_t)b * K;
        float top;
        const double lse = rc_log_sum_exp(row, K, &top);
        for (int k = 0; k < K; k++) g[(size_t)b * K + k] = (float)((exp((double)row[k] - top - lse) - (k == labels[b])) / n);
    }
}

/* gx[b][f] = sum_o gy[b][o] * w[o][f];  gw[o][f] = sum_b gy[b][o] * x[b][f]. Both sum in index
 * order (o, then b); the loops over f run innermost, over contiguous rows, so they vectorise. */
__attribute__((noinline, unused)) static void rc_linear_backward_input(int n, const float *gy, const float *w, float *gx, int F, int O)
{
#pragma omp for schedule(static)
    for (int b = 0; b < n; b++) {
        float *row = gx + (size_t)b * F;
        for (int f = 0; f < F; f++) row[f] = 0;
        for (int o = 0; o < O; o++) {
            const float g = gy[(size_t)b * O + o];
            const float *w_row = w + (size_t)o * F;
            for (int f = 0; f < F; f++) row[f] += g * w_row[f];
        }
    }
}

/* Columns of gw one task of rc_linear_backward_weight sums at once, in double. */
#define RC_LINEAR_GRADIENT_COLUMNS 64

__attribute__((noinline, unused)) static void rc_linear_backward_weight(int n, const float *gy, const float *x, float *gw, int F, int O)
{
    const int chunks = (F + RC_LINEAR_GRADIENT_COLUMNS - 1) / RC_LINEAR_GRADIENT_COLUMNS;
#pragma omp for collapse(2) schedule(static)
    for (int o = 0; o < O; o++)
        for (int chunk = 0; chunk < chunks; chunk++) {
            const int f0 = chunk * RC_LINEAR_GRADIENT_COLUMNS, count = F - f0 < RC_LINEAR_GRADIENT_COLUMNS ? F - f0 : RC_LINEAR_GRADIENT_COLUMNS;
            double s[RC_LINEAR_GRADIENT_COLUMNS] = {0};
            for (int b = 0; b < n; b++) {
                const double g = gy[(size_t)b * O + o];
                const float *x_row = x + (size_t)b * F + f0;
                for (int f = 0; f < count; f++) s[f] += g * x_row[f];
            }
            for (int f = 0; f < count; f++) gw[(size_t)o * F + f0 + f] = (float)s[f];
        }
}

/* Global average pooling's gradient: gy[b][c] / (H*W) everywhere in channel c. */
__attribute__((noinline, unused)) static void rc_global_avg_pool_backward(int n, const float *gy, float *gx, int C, int HW)
{
    const int CB = RC_BLOCKS(C);
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++)
            for (int p = 0; p < HW; p++)
                for (int l = 0; l < RC_LANES; l++) {
                    const int c = cb * RC_LANES + l;
                    gx[(((size_t)b * CB + cb) * HW + p) * RC_LANES + l] = c < C ? gy[(size_t)b * C + c] / (float)HW : 0.0f;
                }
}

/* Max pooling's gradient: each window's gradient goes to its first maximum, lane by lane. */
__attribute__((noinline, unused)) static void rc_max_pool_backward(int n, const float *gy, const float *x, float *gx, int CB, int IH, int IW,
                                                                   int OH, int OW, int K, int S, int P)
{
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++) {
            const size_t in = ((size_t)b * CB + cb) * IH * IW * RC_LANES, out = ((size_t)b * CB + cb) * OH * OW * RC_LANES;
            for (size_t i = 0; i < (size_t)IH * IW * RC_LANES; i++) gx[in + i] = 0.0f;
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    /* Per lane, the largest value so far and its pixel (-1: none yet; NaN never wins). */
                    vecf best = vec_zero() - INFINITY;
                    veci at;
                    for (int l = 0; l < RC_LANES; l++) at[l] = -1;
                    for (int kh = 0; kh < K; kh++) {
                        const int ih = oh * S - P + kh;
                        if (ih < 0 || ih >= IH) continue;
                        for (int kw = 0; kw < K; kw++) {
                            const int iw = ow * S - P + kw;
                            if (iw < 0 || iw >= IW) continue;
                            const int pixel = ih * IW + iw;
                            const vecf v = vec_load(x + in + (size_t)pixel * RC_LANES);
                            const veci wins = (veci)(v > best);
                            best = (vecf)(((veci)v & wins) | ((veci)best & ~wins));
                            at = (wins & pixel) | (~wins & at);
                        }
                    }
                    const vecf g = vec_load(gy + out + ((size_t)oh * OW + ow) * RC_LANES);
                    for (int l = 0; l < RC_LANES; l++)
                        if (at[l] >= 0) gx[in + (size_t)at[l] * RC_LANES + l] += g[l];
                }
        }
}

/* ReLU's gradient: gy where the output is positive. */
__attribute__((noinline, unused)) static void rc_relu_backward(int n, const float *gy, const float *y, float *gx, long E)
{
#pragma omp for schedule(static)
    for (size_t i = 0; i < (size_t)n * E; i++) gx[i] = y[i] > 0.0f ? gy[i] : 0.0f;
}

/* The option A shortcut's gradient: kept pixels (every S-th from (0,0)) of the first C channels. */
__attribute__((noinline, unused)) static void rc_shortcut_pad_backward(int n, const float *gy, float *gx, int C, int IH, int IW,
                                                                       int OC, int OH, int OW, int S)
{
    const int ICB = RC_BLOCKS(C), OCB = RC_BLOCKS(OC);
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < ICB; cb++)
            for (int ih = 0; ih < IH; ih++)
                for (int iw = 0; iw < IW; iw++)
                    for (int l = 0; l < RC_LANES; l++) {
                        const size_t i = ((((size_t)b * ICB + cb) * IH + ih) * IW + iw) * RC_LANES + l;
                        gx[i] = (ih % S == 0 && iw % S == 0 && cb * RC_LANES + l < C)
                            ? gy[((((size_t)b * OCB + cb) * OH + ih / S) * OW + iw / S) * RC_LANES + l] : 0.0f;
                    }
}

/* Input columns per register tile of rc_conv_backward_input. */
#define RC_BACKWARD_INPUT_TILE 8

/* TILE input pixels' share of one tap: acc[t] += sum over the RC_LANES outputs of the weight
 * vector (over input lanes) times gy at output column ow0 + t. Only t in [lo, hi) are inside
 * the image; the full range runs unchecked. */
RC_INLINE void rc_backward_input_tap(vecf acc[RC_BACKWARD_INPUT_TILE], const float *g_row, const float *w, const int ow0, const int lo, const int hi)
{
    if (lo == 0 && hi == RC_BACKWARD_INPUT_TILE) {
        for (int o = 0; o < RC_LANES; o++) {
            const vecf wv = vec_load(w + o * RC_LANES);
#pragma GCC unroll 8
            for (int t = 0; t < RC_BACKWARD_INPUT_TILE; t++) acc[t] += wv * g_row[(ow0 + t) * RC_LANES + o];
        }
    } else {
        for (int o = 0; o < RC_LANES; o++) {
            const vecf wv = vec_load(w + o * RC_LANES);
#pragma GCC unroll 8
            for (int t = 0; t < RC_BACKWARD_INPUT_TILE; t++)
                if (t >= lo && t < hi) acc[t] += wv * g_row[(ow0 + t) * RC_LANES + o];
        }
    }
}

/* The input gradient of a strided convolution (its transpose), for each input pixel the sum
 * over the outputs whose window covers it; vectors run over RC_LANES input channels and wt is
 * the transposed packing (rc_pack_conv_weight layout 1). An input row reaches the output rows of
 * every S-th tap, and the input columns of one residue mod S (iw = r, r + S, ...) all reach the
 * same taps at consecutive output columns: so each register tile is RC_BACKWARD_INPUT_TILE
 * columns of one residue, and its taps step by S from the first that fits, with no remainder
 * tests in the tap loops. */
__attribute__((noinline, unused)) static void rc_conv_backward_input(int n, const float *gy, const float *wt, float *gx, int ICB, int IH, int IW,
                                                                     int OCB, int OH, int OW, int K, int S, int P)
{
    enum { TILE = RC_BACKWARD_INPUT_TILE };
#pragma omp for collapse(3) schedule(static)
    for (int b = 0; b < n; b++)
        for (int icb = 0; icb < ICB; icb++)
            for (int ih = 0; ih < IH; ih++) {
                float *gx_row = gx + (((size_t)b * ICB + icb) * IH + ih) * IW * RC_LANES;
                for (int r = 0; r < S && r < IW; r++) {
                    const int columns = (IW - r + S - 1) / S;
                    for (int j0 = 0; j0 < columns; j0 += TILE) {
                        const int iw0 = r + S * j0, tiles = columns - j0 < TILE ? columns - j0 : TILE;
                        vecf acc[TILE];
                        for (int t = 0; t < TILE; t++) acc[t] = vec_zero();
                        for (int kh = (ih + P) % S; kh < K; kh += S) {
                            const int oh = (ih + P - kh) / S; /* exact: ih + P - kh is a multiple of S */
                            if (oh < 0 || oh >= OH) continue;
                            for (int kw = (iw0 + P) % S; kw < K; kw += S) {
                                const int ow0 = (iw0 + P - kw) / S;
                                const int lo = ow0 < 0 ? -ow0 : 0, end = OW - ow0, hi = end < tiles ? end : tiles;
                                if (lo >= hi) continue;
                                for (int ocb = 0; ocb < OCB; ocb++)
                                    rc_backward_input_tap(acc, gy + (((size_t)b * OCB + ocb) * OH + oh) * OW * RC_LANES,
                                                          wt + ((((size_t)ocb * ICB + icb) * K + kh) * K + kw) * RC_WEIGHT_BLOCK, ow0, lo, hi);
                            }
                        }
                        for (int t = 0; t < tiles; t++) vec_store(gx_row + (size_t)(iw0 + S * t) * RC_LANES, acc[t]);
                    }
                }
            }
}

/* Input lanes a three-tap weight-gradient pass keeps in registers: 3 taps x this many
 * accumulators, plus a broadcast, fit 16 registers at 4 and 8 lanes and 32 at 16. */
#define RC_WEIGHT_GRADIENT_TAP_LANES (RC_LANES == 16 ? 8 : 4)

/* The three taps kw = 0, 1, 2 of kernel row kh of a stride-1, 3-wide weight gradient, for input
 * lanes c0 ... c0 + RC_WEIGHT_GRADIENT_TAP_LANES over rows r0 ... r1 of consecutive images (row r
 * is row r % OH of image r / OH; images g_image and x_image floats apart):
 * each input pixel's lanes are broadcast once and multiplied with the three output columns it
 * meets (ow = iw + P - kw), so a broadcast feeds three FMAs where a tap at a time feeds one.
 * Columns where all three taps land inside the output run without tests; the edge columns test. */
RC_INLINE void rc_conv_weight_gradient_taps3(const float *g, const float *x, const size_t g_image, const size_t x_image, float *part_row, const int c0,
                                             const int r0, const int r1, const int kh, const int IH, const int IW, const int OH, const int OW,
                                             const int P)
{
    enum { CH = RC_WEIGHT_GRADIENT_TAP_LANES };
    vecf acc[3][CH];
#pragma GCC unroll 3
    for (int kw = 0; kw < 3; kw++)
#pragma GCC unroll 8
        for (int l = 0; l < CH; l++) acc[kw][l] = vec_load(part_row + (size_t)kw * RC_WEIGHT_BLOCK + (size_t)(c0 + l) * RC_LANES);
    /* Input columns whose three output columns iw + P - 2 ... iw + P all lie in 0 ... OW - 1. */
    const int lo = 2 - P > 0 ? 2 - P : 0, hi = OW - P < IW ? OW - P : IW;
    for (int r = r0; r < r1; r++) {
        const int b = r / OH, oh = r % OH, ih = oh - P + kh;
        if (ih < 0 || ih >= IH) continue;
        const float *g_row = g + b * g_image + (size_t)oh * OW * RC_LANES;
        const float *x_row = x + b * x_image + (size_t)ih * IW * RC_LANES + c0;
        for (int iw = 0; iw < IW; iw++) {
            if (iw == lo && lo < hi) {
                for (; iw < hi; iw++) {
                    const float *gv = g_row + (size_t)(iw + P) * RC_LANES, *xv = x_row + (size_t)iw * RC_LANES;
#ifdef __GNUC__
                    /* gv opaque: the compiler then reads the three output vectors from memory as FMA operands
                     * each iteration, instead of rotating them through registers that push accumulators onto the stack. */
                    __asm__("" : "+r"(gv));
#endif
#pragma GCC unroll 8
                    for (int l = 0; l < CH; l++) {
                        const float xl = xv[l];
                        acc[0][l] += vec_load(gv) * xl;
                        acc[1][l] += vec_load(gv - RC_LANES) * xl;
                        acc[2][l] += vec_load(gv - 2 * RC_LANES) * xl;
                    }
                }
                if (iw >= IW) break;
            }
#pragma GCC unroll 3
            for (int kw = 0; kw < 3; kw++) {
                const int ow = iw + P - kw;
                if (ow < 0 || ow >= OW) continue;
                const vecf gv = vec_load(g_row + (size_t)ow * RC_LANES);
#pragma GCC unroll 8
                for (int l = 0; l < CH; l++) acc[kw][l] += gv * x_row[(size_t)iw * RC_LANES + l];
            }
        }
    }
#pragma GCC unroll 3
    for (int kw = 0; kw < 3; kw++)
#pragma GCC unroll 8
        for (int l = 0; l < CH; l++) vec_store(part_row + (size_t)kw * RC_WEIGHT_BLOCK + (size_t)(c0 + l) * RC_LANES, acc[kw][l]);
}

/* Accumulators a weight-gradient pass over several taps of a kernel row keeps in registers, with
 * an output-gradient vector beside them: 24 of 32 registers at 16 lanes, 12 of 16 below. At
 * least RC_LANES, so one tap of a whole input block always fits. */
#define RC_WEIGHT_GRADIENT_ROW_ACCUMULATORS (RC_LANES == 16 ? 24 : 12)

/* Taps kw0 ... kw0 + KW - 1 of kernel row kh of a weight gradient (any K and stride S), for the C
 * real input lanes of a block (C * KW <= RC_WEIGHT_GRADIENT_ROW_ACCUMULATORS), over rows r0 ... r1
 * of consecutive images (as rc_conv_weight_gradient_taps3): each output-gradient vector is loaded
 * once and meets the KW input pixels of its taps, C * KW FMAs on independent accumulators. One tap
 * at a time, a 3-channel stem had 3 accumulators, and its FMAs waited on each other: the 7x7
 * stride-2 stem of resnet18 ran at about a third of the FMA peak. Output columns whose KW input
 * columns all lie in the image run without tests. Stride-1 3x3 passes over whole groups of
 * RC_WEIGHT_GRADIENT_TAP_LANES lanes keep rc_conv_weight_gradient_taps3, which loads each input
 * pixel's lanes once for its three output columns: this function in its place (3 taps x 8 lanes)
 * ran 16 channels on 32 x 32 at batch 128 in 1.9 ms against 1.2 (16 lanes), 3.2 against 2.55 (8). */
RC_INLINE void rc_conv_weight_gradient_row(const float *g, const float *x, const size_t g_image, const size_t x_image, float *part_row, const int C,
                                           const int KW, const int kw0, const int r0, const int r1, const int kh, const int IH, const int IW,
                                           const int OH, const int OW, const int S, const int P)
{
    vecf acc[RC_WEIGHT_GRADIENT_ROW_ACCUMULATORS][RC_LANES] = {{{0}}}; /* zeroed only to quiet -Wmaybe-uninitialized; unrolled, it costs nothing */
#pragma GCC unroll 24
    for (int k = 0; k < KW; k++)
#pragma GCC unroll 16
        for (int l = 0; l < C; l++) acc[k][l] = vec_load(part_row + (size_t)(kw0 + k) * RC_WEIGHT_BLOCK + (size_t)l * RC_LANES);
    /* Output columns whose input columns ow * S - P + kw0 ... + KW - 1 all lie in 0 ... IW - 1. */
    const int first = kw0 - P, lo = first >= 0 ? 0 : (-first + S - 1) / S;
    const int span = IW - KW - first, hi = span < 0 ? 0 : span / S + 1 < OW ? span / S + 1 : OW;
    for (int r = r0; r < r1; r++) {
        const int b = r / OH, oh = r % OH, ih = oh * S - P + kh;
        if (ih < 0 || ih >= IH) continue;
        const float *g_row = g + b * g_image + (size_t)oh * OW * RC_LANES;
        const float *x_row = x + b * x_image + (size_t)ih * IW * RC_LANES;
        for (int ow = 0; ow < OW; ow++) {
            if (ow == lo && lo < hi) {
                for (; ow < hi; ow++) {
                    const vecf gv = vec_load(g_row + (size_t)ow * RC_LANES);
                    const float *xv = x_row + (size_t)(ow * S + first) * RC_LANES;
#pragma GCC unroll 24
                    for (int k = 0; k < KW; k++)
#pragma GCC unroll 16
                        for (int l = 0; l < C; l++) acc[k][l] += gv * xv[(size_t)k * RC_LANES + l];
                }
                if (ow >= OW) break;
            }
            const vecf gv = vec_load(g_row + (size_t)ow * RC_LANES);
#pragma GCC unroll 24
            for (int k = 0; k < KW; k++) {
                const int iw = ow * S + first + k;
                if (iw < 0 || iw >= IW) continue;
#pragma GCC unroll 16
                for (int l = 0; l < C; l++) acc[k][l] += gv * x_row[(size_t)iw * RC_LANES + l];
            }
        }
    }
#pragma GCC unroll 24
    for (int k = 0; k < KW; k++)
#pragma GCC unroll 16
        for (int l = 0; l < C; l++) vec_store(part_row + (size_t)(kw0 + k) * RC_WEIGHT_BLOCK + (size_t)l * RC_LANES, acc[k][l]);
}

/* The share of `images` consecutive images (g_image and x_image floats apart) of one (output
 * block, input block) pair of a convolution's weight gradient, added into
 * part[K*K][RC_LANES in][RC_LANES out] (float: the caller keeps the sum short). Vectors run over
 * the RC_LANES outputs; each tap keeps C accumulators in registers (one per real input channel of
 * the block, C a literal), as many taps of a kernel row at once as the registers hold
 * (rc_conv_weight_gradient_row: one for a whole block, all 7 of a 3-channel stem at 16 lanes),
 * and the taps loop inside chunks of the images' rows, taken in order across images, small
 * enough to stay in L1, so every tap reads the chunk from cache and the accumulators of small
 * maps (7x7, 4x4) are loaded and stored once for several images; stride-1 3x3 kernels of at
 * least RC_WEIGHT_GRADIENT_TAP_LANES channels take a row's three taps over that many input lanes
 * (rc_conv_weight_gradient_taps3; on the 1- and 3-channel stems its lanes were mostly padding:
 * Fashion-MNIST's at batch 128, 16 lanes, took 0.55 ms there and 0.17 ms a row at a time). */
RC_INLINE void rc_conv_weight_gradient_images(const float *g, const float *x, const int images, const size_t g_image, const size_t x_image,
                                              float *part, const int C, const int IH, const int IW, const int OH, const int OW, const int K,
                                              const int S, const int P)
{
    const int ROWS = OW * RC_LANES >= 2048 ? 1 : 2048 / (OW * RC_LANES), rows = images * OH;
    for (int r0 = 0; r0 < rows; r0 += ROWS) {
        const int r1 = r0 + ROWS < rows ? r0 + ROWS : rows;
        if (K == 3 && S == 1 && C >= RC_WEIGHT_GRADIENT_TAP_LANES) {
            /* Padding lanes of x are zero, so a pass past C adds zeros. */
            for (int kh = 0; kh < 3; kh++)
                for (int c0 = 0; c0 < C; c0 += RC_WEIGHT_GRADIENT_TAP_LANES)
                    rc_conv_weight_gradient_taps3(g, x, g_image, x_image, part + (size_t)kh * 3 * RC_WEIGHT_BLOCK, c0, r0, r1, kh, IH, IW, OH, OW, P);
            continue;
        }
        /* As many taps of a row at a time as the accumulators allow (one, for whole blocks). */
        const int KW = RC_WEIGHT_GRADIENT_ROW_ACCUMULATORS / C < K ? RC_WEIGHT_GRADIENT_ROW_ACCUMULATORS / C : K;
        for (int kh = 0; kh < K; kh++) {
            float *row = part + (size_t)kh * K * RC_WEIGHT_BLOCK;
            int kw0 = 0;
            for (; kw0 + KW <= K; kw0 += KW) rc_conv_weight_gradient_row(g, x, g_image, x_image, row, C, KW, kw0, r0, r1, kh, IH, IW, OH, OW, S, P);
            if (K % KW) rc_conv_weight_gradient_row(g, x, g_image, x_image, row, C, K % KW, kw0, r0, r1, kh, IH, IW, OH, OW, S, P);
        }
    }
}

/* Doubles of scratch rc_conv_backward_weight needs for O outputs, I inputs and a K x K kernel,
 * whatever the batch: a total per task, at most 16 tasks' worth per pair. */
#define RC_WEIGHT_GRADIENT_SLICES(O, I) ((16 + RC_BLOCKS(O) * RC_BLOCKS(I) - 1) / (RC_BLOCKS(O) * RC_BLOCKS(I)))
#define RC_WEIGHT_GRADIENT_SCRATCH(O, I, K) ((size_t)RC_WEIGHT_GRADIENT_SLICES(O, I) * RC_BLOCKS(O) * RC_BLOCKS(I) * (K) * (K) * RC_WEIGHT_BLOCK)

/* Output pixels of a weight gradient summed in float before the sum moves to double: one image of
 * 32x32, or several images of a smaller map. */
#define RC_WEIGHT_GRADIENT_FLOAT_PIXELS 1024

/* The convolution's weight gradient, straight into PyTorch's O x I x K x K layout:
 * gw[o][i][kh][kw] = sum over b, oh, ow of gy[b][o][oh][ow] * x[b][i][ih][iw]. Tasks are
 * (image slice, output block, input block); with few channel blocks (a 16-channel layer is one
 * block at 16 lanes) the images are cut into slices so there are at least 16 tasks. Each group of
 * images (one, or as many as fit RC_WEIGHT_GRADIENT_FLOAT_PIXELS output pixels) is summed in
 * float, the sum over groups in double (a weight gradient is a small difference of many large
 * terms, and one long float sum lost ~1% of it) into the task's total in `scratch`
 * (RC_WEIGHT_GRADIENT_SCRATCH doubles); the totals are then added slice by slice. The slicing
 * depends on the shapes only, never on the thread count, so results do not either. Called by
 * every thread of a parallel region, with every size a literal; CL is the last input block's
 * real channels. */
RC_INLINE void rc_conv_backward_weight(int n, const float *gy, const float *x, float *gw, double *scratch, const int O, const int I,
                                       const int CL, const int IH, const int IW, const int OH, const int OW, const int K, const int S,
                                       const int P)
{
    const int OCB = RC_BLOCKS(O), ICB = RC_BLOCKS(I), pairs = OCB * ICB;
    const int wanted = RC_WEIGHT_GRADIENT_SLICES(O, I), slices = wanted < n ? wanted : n > 0 ? n : 1;
    const size_t per_pair = (size_t)K * K * RC_WEIGHT_BLOCK;
    const int group = OH * OW >= RC_WEIGHT_GRADIENT_FLOAT_PIXELS ? 1 : RC_WEIGHT_GRADIENT_FLOAT_PIXELS / (OH * OW);
    const size_t g_image = (size_t)OCB * OH * OW * RC_LANES, x_image = (size_t)ICB * IH * IW * RC_LANES;
#pragma omp for collapse(3) schedule(static)
    for (int s = 0; s < slices; s++)
        for (int ocb = 0; ocb < OCB; ocb++)
            for (int icb = 0; icb < ICB; icb++) {
                double *total = scratch + ((size_t)s * pairs + ocb * ICB + icb) * per_pair;
                float part[K * K * RC_WEIGHT_BLOCK];
                for (size_t i = 0; i < per_pair; i++) total[i] = 0.0;
                const int last = (int)((long)(s + 1) * n / slices);
                for (int b = (int)((long)s * n / slices); b < last; b += group) {
                    const int images = last - b < group ? last - b : group;
                    const float *g_img = gy + b * g_image + (size_t)ocb * OH * OW * RC_LANES;
                    const float *x_img = x + b * x_image + (size_t)icb * IH * IW * RC_LANES;
                    memset(part, 0, sizeof part);
                    if (icb == ICB - 1 && CL < RC_LANES)
                        rc_conv_weight_gradient_images(g_img, x_img, images, g_image, x_image, part, CL, IH, IW, OH, OW, K, S, P);
                    else
                        rc_conv_weight_gradient_images(g_img, x_img, images, g_image, x_image, part, RC_LANES, IH, IW, OH, OW, K, S, P);
                    for (size_t i = 0; i < per_pair; i++) total[i] += part[i];
                }
            }
#pragma omp for collapse(2) schedule(static) nowait
    for (int ocb = 0; ocb < OCB; ocb++)
        for (int icb = 0; icb < ICB; icb++)
            for (int t = 0; t < K * K; t++)
                for (int il = 0; il < RC_LANES; il++)
                    for (int ol = 0; ol < RC_LANES; ol++) {
                        const int o = ocb * RC_LANES + ol, i = icb * RC_LANES + il;
                        if (o >= O || i >= I) continue;
                        double sum = 0;
                        for (int s = 0; s < slices; s++)
                            sum += scratch[((size_t)s * pairs + ocb * ICB + icb) * per_pair + (size_t)t * RC_WEIGHT_BLOCK + il * RC_LANES + ol];
                        gw[((size_t)o * I + i) * K * K + t] = (float)sum;
                    }
}

/* SGD with momentum and weight decay over the flat parameter region, tensor ranges given:
 * v = mu * v + (g + wd * p); p -= lr * (nesterov ? g + wd * p + mu * v : v). Tensors are independent,
 * so no barrier follows each: the step's region ends at one. */
__attribute__((noinline, unused)) static void rc_sgd(float *p, const float *g, float *v, long start, long count, float lr, float mu, float wd, int nesterov)
{
#pragma omp for schedule(static) nowait
    for (long i = start; i < start + count; i++) {
        const float d = g[i] + wd * p[i];
        v[i] = mu * v[i] + d;
        p[i] -= lr * (nesterov ? d + mu * v[i] : v[i]);
    }
}

#endif /* RC_BACKWARD_KERNELS_H */
