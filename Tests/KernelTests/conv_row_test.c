/* The direct convolution kernel (rc_conv in forward_kernels.h) against a naive loop over NCHW,
 * on its own: no resnetc, no generated code. Shapes reach every kind of register tile: maps
 * wider than one tile (interior tiles with and without column checks), one to four output blocks
 * per tile (with block counts left over), odd sizes, stride 2, 1x1, a 7x7 stem on 3
 * channels, 20 channels, batch 1 and 2, bias, residual and ReLU epilogues.
 * Build: cc -O2 -march=native [-DRC_LANES=4|8|16] -fopenmp -I Sources/ResNetKernels Tests/KernelTests/conv_row_test.c -lm
 * Prints one line per shape and "N passed, M failed"; exits 1 on any failure. */
#include "naive_conv.h"

static int run_case(conv_case t, int tile, int check_middle, int ob)
{
    conv_data d = conv_data_make(t);
    /* Tiles as the code generator lays them out: an edge tile at each end, `tile` wide between. */
    const int first = d.ow < tile ? d.ow : tile, middle = tile;
    const int last = d.ow > first ? (d.ow - first - 1) % middle + 1 : 0;  /* the middle tiles fit exactly */
#pragma omp parallel
    rc_conv(t.n, d.xb, d.wb, d.bias, d.rb, d.yb, d.icb, t.ic - (d.icb - 1) * RC_LANES, t.ih, t.iw, d.ocb, d.oh, d.ow, t.k, t.s, t.p, first, middle,
            last, check_middle, ob, t.bias, t.res, t.relu);
    const double worst = conv_data_worst_error(t, &d);
    const int ok = worst <= 1e-5;
    printf("%s conv n=%d %dx%dx%d -> %dx%dx%d k%d s%d p%d tile %d x %d block%s%s: worst relative error %.2g\n", ok ? "ok  " : "FAIL", t.n,
           t.ic, t.ih, t.iw, t.oc, d.oh, d.ow, t.k, t.s, t.p, tile, ob, ob == 1 ? "" : "s", check_middle ? " (checked)" : "", worst);
    conv_data_free(&d);
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
        {1, 20, 20, 29, 40, 3, 1, 1, 1, 0, 1},  /* 20 channels: a last input block of 4 at 8 or 16 lanes; 40 outputs: odd block counts */
        {2, 8, 7, 7, 8, 3, 1, 1, 1, 1, 1},      /* a 7x7 map, one tile */
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int tile = 4; tile <= 12; tile += 2)
            for (int checked = 1; checked >= 0; checked--) {
                const conv_case t = cases[i];
                const int ow = (t.iw + 2 * t.p - t.k) / t.s + 1;
                /* Unchecked middle tiles are only valid where every window lies inside the input. */
                const int left = (t.p + t.s - 1) / t.s, right = (t.iw + t.p - t.k) / t.s + 1;
                if (!checked && (tile < left || ow - ((ow - tile - 1) % tile + 1) > right)) continue;
                for (int ob = 1; ob <= 4; ob++) run_case(t, tile, checked, ob) ? passed++ : failed++;
            }
    printf("%d passed, %d failed at %d lanes\n", passed, failed, RC_LANES);
    return failed ? 1 : 0;
}
