/* Max pooling's gradient (rc_max_pool_backward in backward_kernels.h) against a naive loop, on its
 * own: the ImageNet stem's 3x3 stride-2 padding-1 window on even and odd maps, 2x2 stride 2, ties
 * (every window's gradient goes to its first maximum, as PyTorch's does), NaN inputs (never the
 * maximum), channel counts that are not whole blocks, and overlapping windows adding into one
 * pixel; run by two threads of one region as the generated step runs it.
 * Build: cc -O2 -march=native [-DRC_LANES=4|8|16] -fopenmp -I Sources/ResNetKernels Tests/KernelTests/max_pool_gradient_test.c -lm
 * Prints one line per shape and "N passed, M failed at L lanes"; exits 1 on any failure. */
#include "naive_conv.h"
#include "backward_kernels.h"

/* n images of c x h x w, window k, stride s, padding p; `ties` rounds inputs to a few values. */
typedef struct { int n, c, h, w, k, s, p, ties; } pool_case;

static int run_case(pool_case t)
{
    const int oh = (t.h + 2 * t.p - t.k) / t.s + 1, ow = (t.w + 2 * t.p - t.k) / t.s + 1, cb = RC_BLOCKS(t.c);
    const size_t in_n = (size_t)t.n * t.c * t.h * t.w, out_n = (size_t)t.n * t.c * oh * ow;
    float *x = malloc(in_n * 4), *gy = malloc(out_n * 4), *want = calloc(in_n, 4);
    float *xb = calloc((size_t)t.n * cb * RC_LANES * t.h * t.w, 4), *gyb = calloc((size_t)t.n * cb * RC_LANES * oh * ow, 4);
    float *gxb = malloc((size_t)t.n * cb * RC_LANES * t.h * t.w * 4), *got = malloc(in_n * 4);
    unsigned state = 9;
    for (size_t i = 0; i < in_n; i++) {
        x[i] = random_value(&state);
        if (t.ties) x[i] = floorf(x[i] * 3) / 3;
        if (i % 97 == 5) x[i] = NAN;
    }
    for (size_t i = 0; i < out_n; i++) gy[i] = random_value(&state);
    to_blocked(x, xb, t.n, t.c, t.h * t.w);
    to_blocked(gy, gyb, t.n, t.c, oh * ow);
#pragma omp parallel num_threads(2)
    rc_max_pool_backward(t.n, gyb, xb, gxb, cb, t.h, t.w, oh, ow, t.k, t.s, t.p);
    for (int b = 0; b < t.n; b++)
        for (int c = 0; c < t.c; c++)
            for (int y = 0; y < oh; y++)
                for (int z = 0; z < ow; z++) {
                    const float *plane = x + ((size_t)b * t.c + c) * t.h * t.w;
                    float best = -INFINITY;
                    int at = -1;
                    for (int kh = 0; kh < t.k; kh++)
                        for (int kw = 0; kw < t.k; kw++) {
                            const int iy = y * t.s - t.p + kh, iz = z * t.s - t.p + kw;
                            if (iy < 0 || iy >= t.h || iz < 0 || iz >= t.w) continue;
                            if (plane[iy * t.w + iz] > best) { best = plane[iy * t.w + iz]; at = iy * t.w + iz; }
                        }
                    if (at >= 0) want[((size_t)b * t.c + c) * t.h * t.w + at] += gy[(((size_t)b * t.c + c) * oh + y) * ow + z];
                }
    /* Back to NCHW; padding lanes must stay zero. */
    int padding_clean = 1;
    for (int b = 0; b < t.n; b++)
        for (int i = 0; i < cb * RC_LANES; i++)
            for (int q = 0; q < t.h * t.w; q++) {
                const float v = gxb[(((size_t)b * cb + i / RC_LANES) * t.h * t.w + q) * RC_LANES + i % RC_LANES];
                if (i < t.c) got[((size_t)b * t.c + i) * t.h * t.w + q] = v;
                else if (v != 0) padding_clean = 0;
            }
    double worst = 0;
    for (size_t i = 0; i < in_n; i++) {
        const double err = fabs((double)got[i] - want[i]);
        if (!(err <= worst)) worst = err;
    }
    const int ok = worst <= 1e-6 && padding_clean;
    printf("%s max pool gradient n=%d %dx%dx%d k%d s%d p%d%s: worst error %.2g%s\n", ok ? "ok  " : "FAIL", t.n, t.c, t.h, t.w, t.k, t.s, t.p,
           t.ties ? " with ties" : "", worst, padding_clean ? "" : "; padding lanes not zero");
    free(x); free(gy); free(want); free(xb); free(gyb); free(gxb); free(got);
    return ok;
}

int main(void)
{
    const pool_case cases[] = {
        {2, 20, 16, 16, 3, 2, 1, 0}, /* the ImageNet stem's pooling, 20 channels: a partial last block */
        {1, 8, 15, 13, 3, 2, 1, 1},  /* odd maps, ties */
        {3, 5, 8, 8, 2, 2, 0, 0},    /* 2x2 stride 2, 5 channels */
        {2, 16, 7, 9, 3, 1, 1, 1},   /* stride 1: every pixel in up to nine windows, ties */
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(cases[i]) ? passed++ : failed++;
    printf("%d passed, %d failed at %d lanes\n", passed, failed, RC_LANES);
    return failed ? 1 : 0;
}
