/* The 1x1 GEMM kernel (rc_conv1x1 in forward_kernels.h) against a naive loop, on its own, for
 * every register-tile shape the code generator picks (OB output blocks x TP pixels) on channel
 * and pixel counts that leave remainders in both directions, batch 1 and 3, with each epilogue.
 * Build: cc -O2 -march=native [-DRC_LANES=4|8|16] -fopenmp -I Sources/ResNetKernels Tests/KernelTests/conv1x1_test.c -lm
 * Prints one line per case and "N passed, M failed"; exits 1 on any failure. */
#include "naive_conv.h"

static int run_case(conv_case t, int ob, int tp)
{
    conv_data d = conv_data_make(t);
#pragma omp parallel
    rc_conv1x1(t.n, d.xb, d.wb, d.bias, d.rb, d.yb, d.icb, d.ocb, t.ih * t.iw, ob, tp, t.bias, t.res, t.relu);
    const double worst = conv_data_worst_error(t, &d);
    const int ok = worst <= 1e-5;
    printf("%s conv1x1 n=%d %dx%dx%d -> %d channels, tile %d blocks x %d pixels: worst relative error %.2g\n", ok ? "ok  " : "FAIL",
           t.n, t.ic, t.ih, t.iw, t.oc, ob, tp, worst);
    conv_data_free(&d);
    return ok;
}

int main(void)
{
    const conv_case cases[] = {
        {1, 64, 14, 14, 256, 1, 1, 0, 1, 1, 1},  /* a bottleneck's expansion: residual + ReLU, 196 pixels */
        {3, 40, 7, 9, 24, 1, 1, 0, 1, 0, 1},     /* odd pixel count, 5 input blocks, 3 output blocks */
        {2, 256, 4, 4, 72, 1, 1, 0, 0, 0, 0},    /* 9 output blocks, no bias */
        {1, 3, 5, 5, 8, 1, 1, 0, 1, 0, 0},       /* padded input channels */
    };
    const int shapes[][2] = {{4, 6}, {2, 6}, {4, 8}, {3, 5}, {1, 1}};
    return run_every_tile(cases, sizeof cases / sizeof cases[0], shapes, sizeof shapes / sizeof shapes[0], run_case);
}
