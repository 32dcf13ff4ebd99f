/* What the convolution kernel tests share: a convolution case, its data in NCHW with the
 * naive result, and the same data in the kernels' layouts (NCHWc feature maps, weights packed
 * [OCB][ICB][K][K][RC_LANES in][RC_LANES out]). Each test runs a kernel into `yb` and compares. */
#ifndef NAIVE_CONV_H
#define NAIVE_CONV_H
#include <stdio.h>
#include "forward_kernels.h"

/* One convolution shape and epilogue. */
typedef struct { int n, ic, ih, iw, oc, k, s, p, bias, res, relu; } conv_case;

/* A case's data: NCHW inputs and the naive output, and the blocked copies the kernels read. */
typedef struct {
    int oh, ow, icb, ocb;
    float *x, *w, *bias, *r, *expected; /* NCHW, OIHW */
    float *xb, *rb, *yb, *wb;           /* NCHWc and packed weights */
} conv_data;

static float random_value(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (float)(*state >> 8) / 16777216.0f - 0.5f;
}

/* NCHW (c channels) to NCHWc with zero padding lanes, as the runtime stores feature maps. */
static void to_blocked(const float *x, float *out, int n, int c, int hw)
{
    const int cb = RC_BLOCKS(c);
    for (int b = 0; b < n; b++)
        for (int i = 0; i < cb * RC_LANES; i++)
            for (int q = 0; q < hw; q++)
                out[(((size_t)b * cb + i / RC_LANES) * hw + q) * RC_LANES + i % RC_LANES] = i < c ? x[((size_t)b * c + i) * hw + q] : 0.0f;
}

__attribute__((unused)) static conv_data conv_data_make(conv_case t)
{
    conv_data d;
    d.oh = (t.ih + 2 * t.p - t.k) / t.s + 1, d.ow = (t.iw + 2 * t.p - t.k) / t.s + 1;
    d.icb = RC_BLOCKS(t.ic), d.ocb = RC_BLOCKS(t.oc);
    const size_t in_n = (size_t)t.n * t.ic * t.ih * t.iw, out_n = (size_t)t.n * t.oc * d.oh * d.ow;
    d.x = malloc(in_n * 4), d.w = malloc((size_t)t.oc * t.ic * t.k * t.k * 4), d.bias = calloc((size_t)d.ocb * RC_LANES, 4);
    d.r = malloc(out_n * 4), d.expected = malloc(out_n * 4);
    d.xb = calloc((size_t)t.n * d.icb * RC_LANES * t.ih * t.iw, 4), d.rb = calloc((size_t)t.n * d.ocb * RC_LANES * d.oh * d.ow, 4);
    d.yb = calloc((size_t)t.n * d.ocb * RC_LANES * d.oh * d.ow, 4), d.wb = calloc((size_t)d.ocb * d.icb * t.k * t.k * RC_WEIGHT_BLOCK, 4);
    unsigned state = 7;
    for (size_t i = 0; i < in_n; i++) d.x[i] = random_value(&state);
    for (size_t i = 0; i < (size_t)t.oc * t.ic * t.k * t.k; i++) d.w[i] = random_value(&state);
    for (int i = 0; i < t.oc; i++) d.bias[i] = t.bias ? random_value(&state) : 0.0f;
    for (size_t i = 0; i < out_n; i++) d.r[i] = random_value(&state);
    /* The naive convolution and epilogue. */
    for (int b = 0; b < t.n; b++)
        for (int o = 0; o < t.oc; o++)
            for (int y = 0; y < d.oh; y++)
                for (int z = 0; z < d.ow; z++) {
                    double acc = d.bias[o];
                    for (int c = 0; c < t.ic; c++)
                        for (int kh = 0; kh < t.k; kh++)
                            for (int kw = 0; kw < t.k; kw++) {
                                const int iy = y * t.s - t.p + kh, iz = z * t.s - t.p + kw;
                                if (iy < 0 || iy >= t.ih || iz < 0 || iz >= t.iw) continue;
                                acc += (double)d.w[((o * t.ic + c) * t.k + kh) * t.k + kw] * d.x[(((size_t)b * t.ic + c) * t.ih + iy) * t.iw + iz];
                            }
                    const size_t at = (((size_t)b * t.oc + o) * d.oh + y) * d.ow + z;
                    if (t.res) acc += d.r[at];
                    d.expected[at] = (float)(t.relu && acc < 0 ? 0 : acc);
                }
    for (int o = 0; o < t.oc; o++)
        for (int c = 0; c < t.ic; c++)
            for (int kh = 0; kh < t.k; kh++)
                for (int kw = 0; kw < t.k; kw++)
                    d.wb[(((((size_t)(o / RC_LANES) * d.icb + c / RC_LANES) * t.k + kh) * t.k + kw) * RC_LANES + c % RC_LANES) * RC_LANES + o % RC_LANES] =
                        d.w[((o * t.ic + c) * t.k + kh) * t.k + kw];
    to_blocked(d.x, d.xb, t.n, t.ic, t.ih * t.iw);
    to_blocked(d.r, d.rb, t.n, t.oc, d.oh * d.ow);
    return d;
}

/* The largest relative error of the kernel's output `yb` against the naive result. */
__attribute__((unused)) static double conv_data_worst_error(conv_case t, const conv_data *d)
{
    double worst = 0;
    for (int b = 0; b < t.n; b++)
        for (int o = 0; o < t.oc; o++)
            for (int q = 0; q < d->oh * d->ow; q++) {
                const float got = d->yb[(((size_t)b * d->ocb + o / RC_LANES) * d->oh * d->ow + q) * RC_LANES + o % RC_LANES];
                const float want = d->expected[((size_t)b * t.oc + o) * d->oh * d->ow + q];
                const double err = fabs((double)got - want) / (1.0 + fabs((double)want));
                if (!(err <= worst)) worst = err;
            }
    return worst;
}

__attribute__((unused)) static void conv_data_free(conv_data *d)
{
    free(d->x); free(d->w); free(d->bias); free(d->r); free(d->expected); free(d->xb); free(d->rb); free(d->yb); free(d->wb);
}

/* Runs a GEMM-tiled kernel's test `run` on every case with every register tile shape
 * (blocks, pixels), prints "N passed, M failed at L lanes", and returns the exit status. */
__attribute__((unused)) static int run_every_tile(const conv_case *cases, size_t case_count, const int (*shapes)[2], size_t shape_count,
                          int (*run)(conv_case, int, int))
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < case_count; i++)
        for (size_t k = 0; k < shape_count; k++) run(cases[i], shapes[k][0], shapes[k][1]) ? passed++ : failed++;
    printf("%d passed, %d failed at %d lanes\n", passed, failed, RC_LANES);
    return failed ? 1 : 0;
}

#endif /* NAIVE_CONV_H */
