/* The forward convolution kernel (rc_conv_row in forward_kernels.h) against a naive loop over
 * NCHW, on its own: no resnetc, no generated code. Shapes reach every kind of register tile:
 * maps wider than one tile (interior tiles with and without column checks), odd sizes, stride 2,
 * 1x1, a 7x7 stem on 3 channels, batch 1 and 2, bias, residual and ReLU epilogues.
 * Build: cc -O2 -march=native -fopenmp -I Sources/ResNetKernels Tests/KernelTests/conv_row_test.c -lm
 * Prints one line per shape and "N passed, M failed"; exits 1 on any failure. */
#include <stdio.h>
#include "forward_kernels.h"

/* One convolution shape and epilogue. */
typedef struct { int n, ic, ih, iw, oc, k, s, p, bias, res, relu; } conv_case;

static float random_value(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (float)(*state >> 8) / 16777216.0f - 0.5f;
}

/* NCHW (c channels) to NCHWc with zero padding lanes, as the runtime stores feature maps. */
static void to_blocked(const float *x, float *out, int n, int c, int hw)
{
    const int cb = (c + 7) / 8;
    for (int b = 0; b < n; b++)
        for (int i = 0; i < cb * 8; i++)
            for (int q = 0; q < hw; q++)
                out[(((size_t)b * cb + i / 8) * hw + q) * 8 + i % 8] = i < c ? x[((size_t)b * c + i) * hw + q] : 0.0f;
}

static int run_case(conv_case t, int tile, int check_middle)
{
    const int oh = (t.ih + 2 * t.p - t.k) / t.s + 1, ow = (t.iw + 2 * t.p - t.k) / t.s + 1;
    const int icb = (t.ic + 7) / 8, ocb = (t.oc + 7) / 8;
    const size_t in_n = (size_t)t.n * t.ic * t.ih * t.iw, out_n = (size_t)t.n * t.oc * oh * ow;
    float *x = malloc(in_n * 4), *w = malloc((size_t)t.oc * t.ic * t.k * t.k * 4), *bias = calloc((size_t)ocb * 8, 4);
    float *r = malloc(out_n * 4), *expected = malloc(out_n * 4);
    float *xb = calloc((size_t)t.n * icb * 8 * t.ih * t.iw, 4), *rb = calloc((size_t)t.n * ocb * 8 * oh * ow, 4);
    float *yb = calloc((size_t)t.n * ocb * 8 * oh * ow, 4), *wb = calloc((size_t)ocb * icb * t.k * t.k * 64, 4);
    unsigned state = 7;
    for (size_t i = 0; i < in_n; i++) x[i] = random_value(&state);
    for (size_t i = 0; i < (size_t)t.oc * t.ic * t.k * t.k; i++) w[i] = random_value(&state);
    for (int i = 0; i < t.oc; i++) bias[i] = t.bias ? random_value(&state) : 0.0f;
    for (size_t i = 0; i < out_n; i++) r[i] = random_value(&state);
    /* The naive convolution and epilogue. */
    for (int b = 0; b < t.n; b++)
        for (int o = 0; o < t.oc; o++)
            for (int y = 0; y < oh; y++)
                for (int z = 0; z < ow; z++) {
                    double acc = bias[o];
                    for (int c = 0; c < t.ic; c++)
                        for (int kh = 0; kh < t.k; kh++)
                            for (int kw = 0; kw < t.k; kw++) {
                                const int iy = y * t.s - t.p + kh, iz = z * t.s - t.p + kw;
                                if (iy < 0 || iy >= t.ih || iz < 0 || iz >= t.iw) continue;
                                acc += (double)w[((o * t.ic + c) * t.k + kh) * t.k + kw] * x[(((size_t)b * t.ic + c) * t.ih + iy) * t.iw + iz];
                            }
                    const size_t at = (((size_t)b * t.oc + o) * oh + y) * ow + z;
                    if (t.res) acc += r[at];
                    expected[at] = (float)(t.relu && acc < 0 ? 0 : acc);
                }
    /* Weights as [OCB][ICB][K][K][8 inputs][8 outputs]. */
    for (int o = 0; o < t.oc; o++)
        for (int c = 0; c < t.ic; c++)
            for (int kh = 0; kh < t.k; kh++)
                for (int kw = 0; kw < t.k; kw++)
                    wb[(((((size_t)(o / 8) * icb + c / 8) * t.k + kh) * t.k + kw) * 8 + c % 8) * 8 + o % 8] =
                        w[((o * t.ic + c) * t.k + kh) * t.k + kw];
    to_blocked(x, xb, t.n, t.ic, t.ih * t.iw);
    to_blocked(r, rb, t.n, t.oc, oh * ow);
    /* Tiles as the code generator lays them out: an edge tile at each end, `tile` wide between. */
    const int first = ow < tile ? ow : tile, middle = tile;
    const int last = ow > first ? (ow - first - 1) % middle + 1 : 0;  /* the middle tiles fit exactly */
    for (int b = 0; b < t.n; b++)
        for (int o = 0; o < ocb; o++)
            for (int y = 0; y < oh; y++)
                rc_conv_row(xb, wb, bias, rb, yb, b, o, y, icb, t.ih, t.iw, ocb, oh, ow, t.k, t.s, t.p, first, middle, last,
                            check_middle, t.bias, t.res, t.relu);
    double worst = 0;
    for (int b = 0; b < t.n; b++)
        for (int o = 0; o < t.oc; o++)
            for (int q = 0; q < oh * ow; q++) {
                const float got = yb[(((size_t)b * ocb + o / 8) * oh * ow + q) * 8 + o % 8];
                const float want = expected[((size_t)b * t.oc + o) * oh * ow + q];
                const double err = fabs((double)got - want) / (1.0 + fabs((double)want));
                if (!(err <= worst)) worst = err;
            }
    const int ok = worst <= 1e-5;
    printf("%s conv n=%d %dx%dx%d -> %dx%dx%d k%d s%d p%d tile %d%s: worst relative error %.2g\n", ok ? "ok  " : "FAIL", t.n, t.ic,
           t.ih, t.iw, t.oc, oh, ow, t.k, t.s, t.p, tile, check_middle ? " (checked)" : "", worst);
    free(x); free(w); free(bias); free(r); free(expected); free(xb); free(rb); free(yb); free(wb);
    return ok;
}

int main(void)
{
    const conv_case cases[] = {
        {2, 16, 34, 34, 16, 3, 1, 1, 1, 1, 1},  /* a 3x3 layer over several tiles, residual + ReLU */
        {1, 16, 33, 37, 24, 3, 2, 1, 1, 0, 1},  /* stride 2 on odd sizes */
        {2, 32, 32, 32, 64, 1, 1, 0, 1, 0, 0},  /* 1x1 */
        {1, 24, 15, 15, 40, 1, 2, 0, 0, 0, 0},  /* 1x1 stride 2, odd */
        {1, 3, 37, 37, 8, 7, 2, 3, 1, 0, 1},    /* the ImageNet stem on 3 channels */
        {2, 8, 7, 7, 8, 3, 1, 1, 1, 1, 1},      /* a 7x7 map, one tile */
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int tile = 4; tile <= 12; tile += 4)
            for (int checked = 1; checked >= 0; checked--) {
                const conv_case t = cases[i];
                const int ow = (t.iw + 2 * t.p - t.k) / t.s + 1;
                /* Unchecked middle tiles are only valid where every window lies inside the input. */
                const int left = (t.p + t.s - 1) / t.s, right = (t.iw + t.p - t.k) / t.s + 1;
                if (!checked && (tile < left || ow - ((ow - tile - 1) % tile + 1) > right)) continue;
                run_case(t, tile, checked) ? passed++ : failed++;
            }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
