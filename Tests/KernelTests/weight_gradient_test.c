/* The convolution weight gradient (rc_conv_backward_weight in backward_kernels.h) against a naive
 * loop over NCHW, on its own. Shapes reach every path: maps of 32 and more columns (several row
 * chunks, interior columns of every tap), one channel block and several (more pairs than the 16
 * tasks' worth of slices, and fewer), a last input block of 3 or 4 real channels (the stem, 20
 * channels), stride 2, 1x1, a 7x7 stem, odd sizes, batch 1 and batches that do not divide into
 * the slices, small maps (7x7, 4x4: fewer columns than a register tile's reach); run by two
 * threads of one region as the generated kernels are.
 * Build: cc -O2 -march=native [-DRC_LANES=4|8|16] -fopenmp -I Sources/ResNetKernels Tests/KernelTests/weight_gradient_test.c -lm
 * Prints one line per shape and "N passed, M failed"; exits 1 on any failure. */
#include "naive_conv.h"
#include "backward_kernels.h"

/* n images of c x h x w in, o x oh x ow out: one case. */
typedef struct { int n, ic, ih, iw, oc, k, s, p; } gradient_case;

static int run_case(gradient_case t)
{
    const int oh = (t.ih + 2 * t.p - t.k) / t.s + 1, ow = (t.iw + 2 * t.p - t.k) / t.s + 1;
    const int icb = RC_BLOCKS(t.ic), ocb = RC_BLOCKS(t.oc);
    const size_t in_n = (size_t)t.n * t.ic * t.ih * t.iw, out_n = (size_t)t.n * t.oc * oh * ow, w_n = (size_t)t.oc * t.ic * t.k * t.k;
    float *x = malloc(in_n * 4), *gy = malloc(out_n * 4), *gw = malloc(w_n * 4);
    float *xb = calloc((size_t)t.n * icb * RC_LANES * t.ih * t.iw, 4), *gyb = calloc((size_t)t.n * ocb * RC_LANES * oh * ow, 4);
    double *scratch = malloc(RC_WEIGHT_GRADIENT_SCRATCH(t.oc, t.ic, t.k) * sizeof(double));
    unsigned state = 11;
    for (size_t i = 0; i < in_n; i++) x[i] = random_value(&state);
    for (size_t i = 0; i < out_n; i++) gy[i] = random_value(&state);
    to_blocked(x, xb, t.n, t.ic, t.ih * t.iw);
    to_blocked(gy, gyb, t.n, t.oc, oh * ow);
#pragma omp parallel num_threads(2)
    rc_conv_backward_weight(t.n, gyb, xb, gw, scratch, t.oc, t.ic, t.ic - (icb - 1) * RC_LANES, t.ih, t.iw, oh, ow, t.k, t.s, t.p);
    double worst = 0;
    for (int o = 0; o < t.oc; o++)
        for (int c = 0; c < t.ic; c++)
            for (int kh = 0; kh < t.k; kh++)
                for (int kw = 0; kw < t.k; kw++) {
                    double want = 0, scale = 0;
                    for (int b = 0; b < t.n; b++)
                        for (int y = 0; y < oh; y++)
                            for (int z = 0; z < ow; z++) {
                                const int iy = y * t.s - t.p + kh, iz = z * t.s - t.p + kw;
                                if (iy < 0 || iy >= t.ih || iz < 0 || iz >= t.iw) continue;
                                const double term = (double)gy[(((size_t)b * t.oc + o) * oh + y) * ow + z] * x[(((size_t)b * t.ic + c) * t.ih + iy) * t.iw + iz];
                                want += term;
                                scale += fabs(term);
                            }
                    const double err = fabs(gw[((o * t.ic + c) * t.k + kh) * t.k + kw] - want) / (1.0 + scale);
                    if (!(err <= worst)) worst = err;
                }
    const int ok = worst <= 1e-6;
    printf("%s weight gradient n=%d %dx%dx%d -> %dx%dx%d k%d s%d p%d: worst error %.2g of the terms' magnitude\n", ok ? "ok  " : "FAIL", t.n, t.ic,
           t.ih, t.iw, t.oc, oh, ow, t.k, t.s, t.p, worst);
    free(x); free(gy); free(gw); free(xb); free(gyb); free(scratch);
    return ok;
}

int main(void)
{
    const gradient_case cases[] = {
        {5, 16, 34, 34, 16, 3, 1, 1},  /* one block pair, 34 columns: row chunks, edge and interior columns; 5 images in 5 slices */
        {20, 16, 32, 32, 16, 3, 1, 1}, /* 20 images in 16 slices: uneven slices */
        {2, 64, 8, 8, 64, 3, 1, 1},    /* many pairs, one slice */
        {3, 3, 33, 35, 16, 3, 1, 1},   /* the CIFAR stem: a last input block of 3 channels */
        {2, 16, 33, 37, 40, 3, 2, 1},  /* stride 2 on odd sizes, 40 outputs */
        {2, 20, 20, 29, 24, 1, 1, 0},  /* 1x1, 20 inputs: a last block of 4 at 8 or 16 lanes */
        {1, 24, 15, 15, 40, 1, 2, 0},  /* 1x1 stride 2 (a projection shortcut) */
        {2, 3, 37, 37, 8, 7, 2, 3},    /* the ImageNet stem */
        {23, 64, 7, 7, 72, 3, 1, 1},   /* 7x7 maps, 72 outputs: a last output block of 8 at 16 lanes */
        {40, 32, 4, 4, 32, 3, 1, 1},   /* 4x4 maps: every column an edge column of some tap */
        {9, 16, 8, 8, 24, 3, 2, 1},    /* stride 2 onto 4x4, 24 outputs: small maps over several slices */
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(cases[i]) ? passed++ : failed++;
    printf("%d passed, %d failed at %d lanes\n", passed, failed, RC_LANES);
    return failed ? 1 : 0;
}
