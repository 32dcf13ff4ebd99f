/* The convolution weight gradients (rc_conv_backward_weight in backward_kernels.h, and for 3x3
 * stride 1 also rc_winograd_backward_weight in winograd_kernels.h) against a naive loop over NCHW,
 * on their own. Shapes reach every path of the direct kernel: maps of 32 and more columns (several
 * row chunks, interior columns of every tap), one channel block and several (more pairs than the 16
 * tasks' worth of image slices, and fewer), a last input block of 3 or 4 real channels (the stem,
 * 20 channels) and of 1 (the Fashion-MNIST stem), stride 2, 1x1, a 7x7 stem, odd sizes, batch 1 and batches that do not divide into
 * the slices, small maps (7x7, 4x4: fewer columns than a register tile's reach). And of the
 * Winograd kernel, at output tiles 2 and 4: several tile slices over one block pair, fewer tiles than slices, groups of 4
 * blocks with short last groups, partial last input blocks beside full ones, several chunks summed
 * in float before a flush into the doubles (a small SCRATCH), tiles cut by both edges.
 * Both run by two threads of one region as the generated kernels are, and must give the same bits
 * with one and with three.
 * Build: cc -O2 -march=native [-DRC_LANES=4|8|16] -fopenmp -I Sources/ResNetKernels Tests/KernelTests/weight_gradient_test.c -lm
 * Prints one line per shape and "N passed, M failed"; exits 1 on any failure. */
#include "naive_conv.h"
#include "winograd_kernels.h"
#include "backward_kernels.h"

/* n images of c x h x w in, o x oh x ow out: one case; `scratch` the Winograd kernel's SCRATCH
 * floats (0: the generated code's 131072); `direct` its direct weight gradient (GRADIENT_KERNEL). */
typedef struct {
    int n, ic, ih, iw, oc, k, s, p;
    long scratch;
    void (*direct)(int n, const float *gy, const float *x, float *gw, double *scratch);
} gradient_case;

/* Whether gw equals `want` bit for bit. */
static int same_bits(const float *want, float *gw, size_t count)
{
    return memcmp(want, gw, count * sizeof(float)) == 0;
}

/* The worst error of gw against the naive sums, relative to the magnitude of their terms. */
static double worst_error(const float *gw, const double *want, const double *scale, size_t count)
{
    double worst = 0;
    for (size_t i = 0; i < count; i++) {
        const double err = fabs(gw[i] - want[i]) / (1.0 + scale[i]);
        if (!(err <= worst)) worst = err;
    }
    return worst;
}

static int run_case(gradient_case t)
{
    const int oh = (t.ih + 2 * t.p - t.k) / t.s + 1, ow = (t.iw + 2 * t.p - t.k) / t.s + 1;
    const int icb = RC_BLOCKS(t.ic), ocb = RC_BLOCKS(t.oc), cl = t.ic - (icb - 1) * RC_LANES;
    const size_t in_n = (size_t)t.n * t.ic * t.ih * t.iw, out_n = (size_t)t.n * t.oc * oh * ow, w_n = (size_t)t.oc * t.ic * t.k * t.k;
    float *x = malloc(in_n * 4), *gy = malloc(out_n * 4), *gw = malloc(w_n * 4);
    double *want = calloc(w_n, sizeof(double)), *scale = calloc(w_n, sizeof(double));
    float *xb = calloc((size_t)t.n * icb * RC_LANES * t.ih * t.iw, 4), *gyb = calloc((size_t)t.n * ocb * RC_LANES * oh * ow, 4);
    const int winograd = t.k == 3 && t.s == 1 && t.p == 1;
    const long own = t.scratch ? t.scratch : 131072;
    size_t scratch_doubles = RC_WEIGHT_GRADIENT_SCRATCH(t.oc, t.ic, t.k);
    for (int M = 2; winograd && M <= 4; M += 2)
        if (RC_WINOGRAD_GRADIENT_SCRATCH(t.oc, t.ic, M, own) > scratch_doubles) scratch_doubles = RC_WINOGRAD_GRADIENT_SCRATCH(t.oc, t.ic, M, own);
    double *scratch = malloc(scratch_doubles * sizeof(double));
    unsigned state = 11;
    for (size_t i = 0; i < in_n; i++) x[i] = random_value(&state);
    for (size_t i = 0; i < out_n; i++) gy[i] = random_value(&state);
    to_blocked(x, xb, t.n, t.ic, t.ih * t.iw);
    to_blocked(gy, gyb, t.n, t.oc, oh * ow);
    for (int o = 0; o < t.oc; o++)
        for (int c = 0; c < t.ic; c++)
            for (int kh = 0; kh < t.k; kh++)
                for (int kw = 0; kw < t.k; kw++) {
                    const size_t at = ((size_t)(o * t.ic + c) * t.k + kh) * t.k + kw;
                    for (int b = 0; b < t.n; b++)
                        for (int y = 0; y < oh; y++)
                            for (int z = 0; z < ow; z++) {
                                const int iy = y * t.s - t.p + kh, iz = z * t.s - t.p + kw;
                                if (iy < 0 || iy >= t.ih || iz < 0 || iz >= t.iw) continue;
                                const double term = (double)gy[(((size_t)b * t.oc + o) * oh + y) * ow + z] * x[(((size_t)b * t.ic + c) * t.ih + iy) * t.iw + iz];
                                want[at] += term;
                                scale[at] += fabs(term);
                            }
                }
    float *two = malloc(w_n * 4);
    int independent = 1;
#pragma omp parallel num_threads(2)
    t.direct(t.n, gyb, xb, two, scratch);
    const double direct = worst_error(two, want, scale, w_n);
    for (int threads = 1; threads <= 3; threads += 2) {
#pragma omp parallel num_threads(threads)
        t.direct(t.n, gyb, xb, gw, scratch);
        independent &= same_bits(two, gw, w_n);
    }
    double fast[5] = {0}; /* by output tile M = 2, 4 */
    for (int M = 2; winograd && M <= 4; M += 2) {
        memset(two, 0xff, w_n * 4); /* NaN: every element must be written */
#pragma omp parallel num_threads(2)
        rc_winograd_backward_weight(t.n, gyb, xb, two, scratch, t.oc, t.ic, cl, t.ih, t.iw, M, own);
        fast[M] = worst_error(two, want, scale, w_n);
        for (int threads = 1; threads <= 3; threads += 2) {
            memset(gw, 0xff, w_n * 4);
#pragma omp parallel num_threads(threads)
            rc_winograd_backward_weight(t.n, gyb, xb, gw, scratch, t.oc, t.ic, cl, t.ih, t.iw, M, own);
            independent &= same_bits(two, gw, w_n);
        }
    }
    /* Winograd's transforms add and scale (by 1/2 for M = 2, by up to 8 and 1/24 for M = 4): its
     * rounding is a few times the direct sum's. */
    const int ok = direct <= 1e-6 && (!winograd || (fast[2] <= 4e-6 && fast[4] <= 4e-6)) && independent;
    printf("%s weight gradient n=%d %dx%dx%d -> %dx%dx%d k%d s%d p%d: worst error %.2g of the terms' magnitude", ok ? "ok  " : "FAIL", t.n, t.ic,
           t.ih, t.iw, t.oc, oh, ow, t.k, t.s, t.p, direct);
    if (winograd) printf(", Winograd F(2x2) %.2g, F(4x4) %.2g", fast[2], fast[4]);
    printf("%s\n", independent ? "" : "; differs between 1, 2 and 3 threads");
    free(two); free(x); free(gy); free(gw); free(want); free(scale); free(xb); free(gyb); free(scratch);
    return ok;
}

/* Every case as X(n, ic, ih, iw, oc, k, s, p, scratch). */
#define GRADIENT_CASES(X) \
    X(5, 16, 34, 34, 16, 3, 1, 1, 0) /* one block pair, 34 columns: row chunks, edge and interior columns; 5 images in 5 slices */ \
    X(20, 16, 32, 32, 16, 3, 1, 1, 0) /* 20 images in 16 slices: uneven slices */ \
    X(2, 64, 8, 8, 64, 3, 1, 1, 0) /* many pairs, one slice */ \
    X(3, 3, 33, 35, 16, 3, 1, 1, 0) /* the CIFAR stem: a last input block of 3 channels, a row's taps at once */ \
    X(4, 1, 28, 28, 16, 3, 1, 1, 0) /* the Fashion-MNIST stem: one input channel */ \
    X(2, 16, 33, 37, 40, 3, 2, 1, 0) /* stride 2 on odd sizes, 40 outputs */ \
    X(2, 20, 20, 29, 24, 1, 1, 0, 0) /* 1x1, 20 inputs: a last block of 4 at 8 or 16 lanes */ \
    X(1, 24, 15, 15, 40, 1, 2, 0, 0) /* 1x1 stride 2 (a projection shortcut) */ \
    X(2, 3, 37, 37, 8, 7, 2, 3, 0) /* the ImageNet stem */ \
    X(23, 64, 7, 7, 72, 3, 1, 1, 0) /* 7x7 maps, 72 outputs: a last output block of 8 at 16 lanes */ \
    X(40, 32, 4, 4, 32, 3, 1, 1, 0) /* 4x4 maps: every column an edge column of some tap */ \
    X(9, 16, 8, 8, 24, 3, 2, 1, 0) /* stride 2 onto 4x4, 24 outputs: small maps over several slices */ \
    X(21, 16, 31, 33, 16, 3, 1, 1, 0) /* odd sizes, 5712 tiles: several Winograd chunks at every width, the last one short */ \
    X(2, 40, 5, 3, 20, 3, 1, 1, 0) /* tiles cut by both edges, last blocks of 8 and 4 real channels at 16 lanes */ \
    X(0, 16, 8, 8, 16, 3, 1, 1, 0) /* no images: a zero gradient */ \
    X(3, 84, 6, 6, 136, 3, 1, 1, 0) /* Winograd groups of 4 blocks with short last groups on both sides, one slice */ \
    X(21, 16, 31, 33, 16, 3, 1, 1, 32768) /* a small Winograd scratch: several chunks summed in float before each flush */ \
    X(1, 18, 5, 7, 16, 3, 1, 1, 0) /* a partial last input block beside full ones, 12 tiles in several slices */ \
    X(1, 16, 2, 6, 16, 3, 1, 1, 0) /* 3 tiles: fewer than the 4 slices wanted */ \
    X(1, 16, 1, 1, 16, 3, 1, 1, 0) /* one pixel, one tile cut by both edges */

/* The name of one case's direct kernel, from all its sizes (unique for distinct cases). */
#define GRADIENT_KERNEL_NAME(N, IC, IH, IW, OC, K, S, P, SCRATCH) direct_##N##_##IC##_##IH##_##IW##_##OC##_##K##_##S##_##P##_##SCRATCH

/* The direct kernel of one case, its sizes pasted in as literals, as the generated code calls it.
 * With sizes known only at run time, the unrolled taps of rc_conv_weight_gradient_row (up to 24
 * accumulators for any C and KW) took GCC over three minutes at 16 lanes. */
#define GRADIENT_KERNEL(N, IC, IH, IW, OC, K, S, P, SCRATCH) \
    static void GRADIENT_KERNEL_NAME(N, IC, IH, IW, OC, K, S, P, SCRATCH)(int n, const float *gy, const float *x, float *gw, double *scratch) \
    { \
        rc_conv_backward_weight(n, gy, x, gw, scratch, OC, IC, IC - (RC_BLOCKS(IC) - 1) * RC_LANES, IH, IW, (IH + 2 * P - K) / S + 1, \
                                (IW + 2 * P - K) / S + 1, K, S, P); \
    }
GRADIENT_CASES(GRADIENT_KERNEL)

#define GRADIENT_CASE(N, IC, IH, IW, OC, K, S, P, SCRATCH) \
    {N, IC, IH, IW, OC, K, S, P, SCRATCH, GRADIENT_KERNEL_NAME(N, IC, IH, IW, OC, K, S, P, SCRATCH)},

int main(void)
{
    const gradient_case cases[] = {GRADIENT_CASES(GRADIENT_CASE)};
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(cases[i]) ? passed++ : failed++;
    printf("%d passed, %d failed at %d lanes\n", passed, failed, RC_LANES);
    return failed ? 1 : 0;
}
