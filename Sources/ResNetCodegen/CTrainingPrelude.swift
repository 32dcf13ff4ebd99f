/// The C of the training step's kernels beyond the forward ones: batch norm on batch statistics
/// and every gradient op, on NCHWc feature maps (channel blocks of eight, padding lanes kept at
/// zero). Sizes are run-time arguments here; the convolution forward pass reuses the
/// shape-specialised kernels of inference.
enum CTrainingPrelude {
    static let text = #"""
/* ---- Training kernels ---- */

/* Per-channel mean and 1/sqrt(var + eps) of an NCHWc batch (biased variance, as BN normalises). */
__attribute__((noinline, unused)) static void rc_bn_statistics(int n, const float *x, int C, int HW, float eps, float *mean, float *rstd, float *var)
{
    const int CB = (C + 7) / 8;
#pragma omp parallel for schedule(static)
    for (int cb = 0; cb < CB; cb++) {
        double s[8] = {0}, q[8] = {0};
        for (int b = 0; b < n; b++)
            for (int p = 0; p < HW; p++) {
                const float *v = x + (((size_t)b * CB + cb) * HW + p) * 8;
                for (int l = 0; l < 8; l++) { s[l] += v[l]; q[l] += (double)v[l] * v[l]; }
            }
        const double count = (double)n * HW;
        for (int l = 0; l < 8 && cb * 8 + l < C; l++) {
            const double m = s[l] / count, v = q[l] / count - m * m;
            mean[cb * 8 + l] = (float)m;
            var[cb * 8 + l] = (float)(v > 0 ? v : 0);
            rstd[cb * 8 + l] = (float)(1.0 / sqrt((v > 0 ? v : 0) + eps));
        }
    }
}

/* y = gamma * (x - mean) * rstd + beta on the batch's statistics; padding lanes stay zero. */
__attribute__((noinline, unused)) static void rc_bn_train(int n, const float *x, const float *gamma, const float *beta, float *y, int C, int HW, float eps)
{
    float mean[C], rstd[C], var[C];
    rc_bn_statistics(n, x, C, HW, eps, mean, rstd, var);
    const int CB = (C + 7) / 8;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++)
            for (int p = 0; p < HW; p++) {
                const size_t i = (((size_t)b * CB + cb) * HW + p) * 8;
                for (int l = 0; l < 8; l++) {
                    const int c = cb * 8 + l;
                    y[i + l] = c < C ? gamma[c] * (x[i + l] - mean[c]) * rstd[c] + beta[c] : 0.0f;
                }
            }
}

/* running = (1 - m) * running + m * batch statistic (variance unbiased, as PyTorch keeps it). */
__attribute__((noinline, unused)) static void rc_bn_running(int n, const float *x, float *running, int C, int HW, float momentum, int variance)
{
    float mean[C], rstd[C], var[C];
    rc_bn_statistics(n, x, C, HW, 0.0f, mean, rstd, var);
    const double count = (double)n * HW;
    for (int c = 0; c < C; c++) {
        const double batch = variance ? var[c] * count / (count > 1 ? count - 1 : 1) : mean[c];
        running[c] = (float)((1.0 - momentum) * running[c] + momentum * batch);
    }
}

/* dx = gamma * rstd / M * (M * gy - sum gy - xhat * sum(gy * xhat)); dgamma = sum(gy * xhat). */
__attribute__((noinline, unused)) static void rc_bn_backward(int n, const float *gy, const float *x, const float *gamma, float *gx, float *dgamma,
                                                             int C, int HW, float eps)
{
    float mean[C], rstd[C], var[C];
    rc_bn_statistics(n, x, C, HW, eps, mean, rstd, var);
    const int CB = (C + 7) / 8;
    double sum_g[C], sum_gx[C];
    for (int c = 0; c < C; c++) { sum_g[c] = 0; sum_gx[c] = 0; }
#pragma omp parallel for schedule(static)
    for (int cb = 0; cb < CB; cb++)
        for (int b = 0; b < n; b++)
            for (int p = 0; p < HW; p++) {
                const size_t i = (((size_t)b * CB + cb) * HW + p) * 8;
                for (int l = 0; l < 8 && cb * 8 + l < C; l++) {
                    const int c = cb * 8 + l;
                    sum_g[c] += gy[i + l];
                    sum_gx[c] += (double)gy[i + l] * (x[i + l] - mean[c]) * rstd[c];
                }
            }
    if (dgamma) for (int c = 0; c < C; c++) dgamma[c] = (float)sum_gx[c];
    if (!gx) return;
    const double count = (double)n * HW;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++)
            for (int p = 0; p < HW; p++) {
                const size_t i = (((size_t)b * CB + cb) * HW + p) * 8;
                for (int l = 0; l < 8; l++) {
                    const int c = cb * 8 + l;
                    if (c >= C) { gx[i + l] = 0.0f; continue; }
                    const double xhat = (x[i + l] - mean[c]) * rstd[c];
                    gx[i + l] = (float)(gamma[c] * rstd[c] / count * (count * gy[i + l] - sum_g[c] - xhat * sum_gx[c]));
                }
            }
}

/* Sum over batch and space per channel, from NCHWc (HW > 0) or dense N x C (HW == 0). */
__attribute__((noinline, unused)) static void rc_channel_sum(int n, const float *gy, float *out, int C, int HW)
{
    for (int c = 0; c < C; c++) {
        double s = 0;
        if (HW == 0) {
            for (int b = 0; b < n; b++) s += gy[(size_t)b * C + c];
        } else {
            const int CB = (C + 7) / 8, cb = c / 8, l = c % 8;
            for (int b = 0; b < n; b++)
                for (int p = 0; p < HW; p++) s += gy[(((size_t)b * CB + cb) * HW + p) * 8 + l];
        }
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

/* Mean softmax cross-entropy over the batch. */
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

/* (softmax - one-hot) / N. */
__attribute__((noinline, unused)) static void rc_softmax_cross_entropy_backward(int n, const float *logits, const int32_t *labels, float *g, int K)
{
    for (int b = 0; b < n; b++) {
        const float *row = logits + (size_t)b * K;
        float top;
        const double lse = rc_log_sum_exp(row, K, &top);
        for (int k = 0; k < K; k++) g[(size_t)b * K + k] = (float)((exp((double)row[k] - top - lse) - (k == labels[b])) / n);
    }
}

/* gx[b][f] = sum_o gy[b][o] * w[o][f];  gw[o][f] = sum_b gy[b][o] * x[b][f]. */
__attribute__((noinline, unused)) static void rc_linear_backward_input(int n, const float *gy, const float *w, float *gx, int F, int O)
{
#pragma omp parallel for schedule(static)
    for (int b = 0; b < n; b++)
        for (int f = 0; f < F; f++) {
            float s = 0;
            for (int o = 0; o < O; o++) s += gy[(size_t)b * O + o] * w[(size_t)o * F + f];
            gx[(size_t)b * F + f] = s;
        }
}

__attribute__((noinline, unused)) static void rc_linear_backward_weight(int n, const float *gy, const float *x, float *gw, int F, int O)
{
#pragma omp parallel for schedule(static)
    for (int o = 0; o < O; o++)
        for (int f = 0; f < F; f++) {
            double s = 0;
            for (int b = 0; b < n; b++) s += (double)gy[(size_t)b * O + o] * x[(size_t)b * F + f];
            gw[(size_t)o * F + f] = (float)s;
        }
}

/* Global average pooling's gradient: gy[b][c] / (H*W) everywhere in channel c. */
__attribute__((noinline, unused)) static void rc_global_avg_pool_backward(int n, const float *gy, float *gx, int C, int HW)
{
    const int CB = (C + 7) / 8;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++)
            for (int p = 0; p < HW; p++)
                for (int l = 0; l < 8; l++) {
                    const int c = cb * 8 + l;
                    gx[(((size_t)b * CB + cb) * HW + p) * 8 + l] = c < C ? gy[(size_t)b * C + c] / (float)HW : 0.0f;
                }
}

/* Max pooling's gradient: each window's gradient goes to its first maximum, lane by lane. */
__attribute__((noinline, unused)) static void rc_max_pool_backward(int n, const float *gy, const float *x, float *gx, int CB, int IH, int IW,
                                                                   int OH, int OW, int K, int S, int P)
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < CB; cb++) {
            const size_t in = ((size_t)b * CB + cb) * IH * IW * 8, out = ((size_t)b * CB + cb) * OH * OW * 8;
            for (size_t i = 0; i < (size_t)IH * IW * 8; i++) gx[in + i] = 0.0f;
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++)
                    for (int l = 0; l < 8; l++) {
                        float best = -INFINITY;
                        long at = -1;
                        for (int kh = 0; kh < K; kh++) {
                            const int ih = oh * S - P + kh;
                            if (ih < 0 || ih >= IH) continue;
                            for (int kw = 0; kw < K; kw++) {
                                const int iw = ow * S - P + kw;
                                if (iw < 0 || iw >= IW) continue;
                                const float v = x[in + ((size_t)ih * IW + iw) * 8 + l];
                                if (v > best) { best = v; at = (long)((size_t)ih * IW + iw) * 8 + l; }
                            }
                        }
                        if (at >= 0) gx[in + at] += gy[out + ((size_t)oh * OW + ow) * 8 + l];
                    }
        }
}

/* ReLU's gradient: gy where the output is positive. */
__attribute__((noinline, unused)) static void rc_relu_backward(int n, const float *gy, const float *y, float *gx, long E)
{
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < (size_t)n * E; i++) gx[i] = y[i] > 0.0f ? gy[i] : 0.0f;
}

/* The option A shortcut's gradient: kept pixels (every S-th from (0,0)) of the first C channels. */
__attribute__((noinline, unused)) static void rc_shortcut_pad_backward(int n, const float *gy, float *gx, int C, int IH, int IW,
                                                                       int OC, int OH, int OW, int S)
{
    const int ICB = (C + 7) / 8, OCB = (OC + 7) / 8;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < n; b++)
        for (int cb = 0; cb < ICB; cb++)
            for (int ih = 0; ih < IH; ih++)
                for (int iw = 0; iw < IW; iw++)
                    for (int l = 0; l < 8; l++) {
                        const size_t i = ((((size_t)b * ICB + cb) * IH + ih) * IW + iw) * 8 + l;
                        gx[i] = (ih % S == 0 && iw % S == 0 && cb * 8 + l < C)
                            ? gy[((((size_t)b * OCB + cb) * OH + ih / S) * OW + iw / S) * 8 + l] : 0.0f;
                    }
}

/* For a stride-1 convolution the input gradient is itself a forward convolution of gy, with the
 * weights transposed (inputs and outputs swapped) and each kernel flipped, and padding K-1-P:
 * this packs those weights for the fast forward kernel. */
__attribute__((noinline, unused)) static void rc_pack_conv_weight_flipped(float *dst, const float *src, int O, int I, int K)
{
    float *flipped = malloc((size_t)O * I * K * K * sizeof(float));
    if (!flipped) abort();
    for (int o = 0; o < O; o++)
        for (int i = 0; i < I; i++)
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++)
                    flipped[(((size_t)i * O + o) * K + kh) * K + kw] = src[(((size_t)o * I + i) * K + (K - 1 - kh)) * K + (K - 1 - kw)];
    rc_pack_conv_weight(dst, flipped, I, O, K, 0);
    free(flipped);
}

/* The convolution's input gradient (its transpose): for each input pixel, the sum over the
 * outputs whose window covers it; vectors run over 8 input channels. wt is the transposed packing. */
__attribute__((noinline, unused)) static void rc_conv_backward_input(int n, const float *gy, const float *wt, float *gx, int ICB, int IH, int IW,
                                                                     int OCB, int OH, int OW, int K, int S, int P)
{
#pragma omp parallel for collapse(3) schedule(static)
    for (int b = 0; b < n; b++)
        for (int icb = 0; icb < ICB; icb++)
            for (int ih = 0; ih < IH; ih++)
                for (int iw = 0; iw < IW; iw++) {
                    v8f acc = v8_zero();
                    for (int kh = 0; kh < K; kh++) {
                        const int th = ih + P - kh;
                        if (th < 0 || th % S) continue;
                        const int oh = th / S;
                        if (oh >= OH) continue;
                        for (int kw = 0; kw < K; kw++) {
                            const int tw = iw + P - kw;
                            if (tw < 0 || tw % S) continue;
                            const int ow = tw / S;
                            if (ow >= OW) continue;
                            for (int ocb = 0; ocb < OCB; ocb++) {
                                const float *g = gy + ((((size_t)b * OCB + ocb) * OH + oh) * OW + ow) * 8;
                                const float *w = wt + ((((size_t)ocb * ICB + icb) * K + kh) * K + kw) * 64;
                                for (int o = 0; o < 8; o++) acc += v8_load(w + o * 8) * g[o];
                            }
                        }
                    }
                    v8_store(gx + ((((size_t)b * ICB + icb) * IH + ih) * IW + iw) * 8, acc);
                }
}

/* The convolution's weight gradient, straight into PyTorch's O x I x K x K layout:
 * gw[o][i][kh][kw] = sum over b, oh, ow of gy[b][o][oh][ow] * x[b][i][ih][iw]; vectors run over 8
 * outputs. Each image's sum is taken in float, the sum over images in double: a weight gradient
 * is a small difference of many large terms, and one long float sum lost ~1% of it. */
__attribute__((noinline, unused)) static void rc_conv_backward_weight(int n, const float *gy, const float *x, float *gw, int O, int I, int IH, int IW,
                                                                      int OH, int OW, int K, int S, int P)
{
    const int OCB = (O + 7) / 8, ICB = (I + 7) / 8;
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int ocb = 0; ocb < OCB; ocb++)
        for (int icb = 0; icb < ICB; icb++)
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++) {
                    double total[8][8] = {{0}};
                    for (int b = 0; b < n; b++) {
                        v8f acc[8];
                        for (int l = 0; l < 8; l++) acc[l] = v8_zero();
                        for (int oh = 0; oh < OH; oh++) {
                            const int ih = oh * S - P + kh;
                            if (ih < 0 || ih >= IH) continue;
                            for (int ow = 0; ow < OW; ow++) {
                                const int iw = ow * S - P + kw;
                                if (iw < 0 || iw >= IW) continue;
                                const v8f g = v8_load(gy + ((((size_t)b * OCB + ocb) * OH + oh) * OW + ow) * 8);
                                const float *xv = x + ((((size_t)b * ICB + icb) * IH + ih) * IW + iw) * 8;
                                for (int l = 0; l < 8; l++) acc[l] += g * xv[l];
                            }
                        }
                        for (int il = 0; il < 8; il++)
                            for (int ol = 0; ol < 8; ol++) total[il][ol] += acc[il][ol];
                    }
                    for (int il = 0; il < 8; il++)
                        for (int ol = 0; ol < 8; ol++) {
                            const int o = ocb * 8 + ol, i = icb * 8 + il;
                            if (o < O && i < I) gw[(((size_t)o * I + i) * K + kh) * K + kw] = (float)total[il][ol];
                        }
                }
}

/* SGD with momentum and weight decay over the flat parameter region, tensor ranges given:
 * v = mu * v + (g + wd * p); p -= lr * (nesterov ? g + wd * p + mu * v : v). */
__attribute__((noinline, unused)) static void rc_sgd(float *p, const float *g, float *v, long start, long count, float lr, float mu, float wd, int nesterov)
{
#pragma omp parallel for schedule(static)
    for (long i = start; i < start + count; i++) {
        const float d = g[i] + wd * p[i];
        v[i] = mu * v[i] + d;
        p[i] -= lr * (nesterov ? d + mu * v[i] : v[i]);
    }
}
"""#
}
