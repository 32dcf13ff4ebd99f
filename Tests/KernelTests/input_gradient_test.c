/* The input gradient of a strided convolution (rc_conv_backward_input in backward_kernels.h,
 * weights packed transposed by rc_pack_conv_weight) against a naive loop over NCHW, on its own.
 * Shapes reach every path: maps of 32 and more columns (several full, unchecked register tiles
 * per residue class, and partial ones at both edges), stride 2 on even and odd sizes, stride 3,
 * 1x1 stride 2 (a projection shortcut), the 7x7 stride-2 stem, stride 1, channel counts that are
 * not whole blocks; run by two threads of one region as the training step does.
 * Build: cc -O2 -march=native [-DRC_LANES=4|8|16] -fopenmp -I Sources/ResNetKernels Tests/KernelTests/input_gradient_test.c -lm
 * Prints one line per shape and "N passed, M failed"; exits 1 on any failure. */
#include "naive_conv.h"
#include "backward_kernels.h"

/* n images of ic x ih x iw into a k x k, stride s, padding p convolution of oc outputs. */
typedef struct { int n, ic, ih, iw, oc, k, s, p; } gradient_case;

static int run_case(gradient_case t)
{
    const int oh = (t.ih + 2 * t.p - t.k) / t.s + 1, ow = (t.iw + 2 * t.p - t.k) / t.s + 1;
    const int icb = RC_BLOCKS(t.ic), ocb = RC_BLOCKS(t.oc);
    const size_t in_n = (size_t)t.n * t.ic * t.ih * t.iw, out_n = (size_t)t.n * t.oc * oh * ow, w_n = (size_t)t.oc * t.ic * t.k * t.k;
    float *gy = malloc(out_n * 4), *w = malloc(w_n * 4), *gyb = calloc((size_t)t.n * ocb * RC_LANES * oh * ow, 4);
    float *gxb = calloc((size_t)t.n * icb * RC_LANES * t.ih * t.iw, 4), *wt = calloc((size_t)ocb * icb * t.k * t.k * RC_WEIGHT_BLOCK, 4);
    double *want = calloc(in_n, sizeof(double)), *scale = calloc(in_n, sizeof(double));
    unsigned state = 5;
    for (size_t i = 0; i < out_n; i++) gy[i] = random_value(&state);
    for (size_t i = 0; i < w_n; i++) w[i] = random_value(&state);
    to_blocked(gy, gyb, t.n, t.oc, oh * ow);
    rc_pack_conv_weight(wt, w, t.oc, t.ic, t.k, 1);
#pragma omp parallel num_threads(2)
    rc_conv_backward_input(t.n, gyb, wt, gxb, icb, t.ih, t.iw, ocb, oh, ow, t.k, t.s, t.p);
    /* The naive transpose: every output pixel scatters into its window. */
    for (int b = 0; b < t.n; b++)
        for (int o = 0; o < t.oc; o++)
            for (int y = 0; y < oh; y++)
                for (int z = 0; z < ow; z++)
                    for (int c = 0; c < t.ic; c++)
                        for (int kh = 0; kh < t.k; kh++)
                            for (int kw = 0; kw < t.k; kw++) {
                                const int iy = y * t.s - t.p + kh, iz = z * t.s - t.p + kw;
                                if (iy < 0 || iy >= t.ih || iz < 0 || iz >= t.iw) continue;
                                const double term = (double)gy[(((size_t)b * t.oc + o) * oh + y) * ow + z] * w[((o * t.ic + c) * t.k + kh) * t.k + kw];
                                const size_t at = (((size_t)b * t.ic + c) * t.ih + iy) * t.iw + iz;
                                want[at] += term;
                                scale[at] += fabs(term);
                            }
    double worst = 0;
    for (int b = 0; b < t.n; b++)
        for (int c = 0; c < icb * RC_LANES; c++)
            for (int q = 0; q < t.ih * t.iw; q++) {
                const float got = gxb[(((size_t)b * icb + c / RC_LANES) * t.ih * t.iw + q) * RC_LANES + c % RC_LANES];
                const size_t at = ((size_t)b * t.ic + c) * t.ih * t.iw + q;
                /* Padding lanes must come out zero. */
                const double err = c < t.ic ? fabs(got - want[at]) / (1.0 + scale[at]) : fabs(got);
                if (!(err <= worst)) worst = err;
            }
    const int ok = worst <= 1e-6;
    printf("%s input gradient n=%d %dx%dx%d -> %dx%dx%d k%d s%d p%d: worst error %.2g of the terms' magnitude\n", ok ? "ok  " : "FAIL", t.n, t.ic,
           t.ih, t.iw, t.oc, oh, ow, t.k, t.s, t.p, worst);
    free(gy); free(w); free(gyb); free(gxb); free(wt); free(want); free(scale);
    return ok;
}

int main(void)
{
    const gradient_case cases[] = {
        {2, 16, 32, 32, 32, 3, 2, 1},  /* CIFAR's stage change: 16 columns per residue, two full tiles each */
        {1, 32, 56, 56, 64, 3, 2, 1},  /* wide: full tiles and a partial one per residue */
        {2, 20, 33, 37, 40, 3, 2, 1},  /* odd sizes: residues with different column counts; partial blocks */
        {1, 16, 29, 31, 16, 3, 3, 1},  /* stride 3 */
        {2, 24, 15, 15, 40, 1, 2, 0},  /* 1x1 stride 2: odd input rows and columns get nothing */
        {1, 3, 37, 37, 8, 7, 2, 3},    /* the ImageNet stem */
        {2, 16, 34, 34, 16, 3, 1, 1},  /* stride 1 */
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(cases[i]) ? passed++ : failed++;
    printf("%d passed, %d failed at %d lanes\n", passed, failed, RC_LANES);
    return failed ? 1 : 0;
}
