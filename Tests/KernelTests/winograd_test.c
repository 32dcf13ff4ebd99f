/* The Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions (rc_winograd in winograd_kernels.h,
 * weights packed by rc_pack_winograd_weight) against a naive 3x3 stride-1 convolution, on their
 * own: map sizes that are and are not multiples of the tile (tiles cut by the right and bottom
 * edges, maps smaller than one tile), maps wide enough for many chunks, batch 1
 * and 3 (chunks that span images), channel counts that are not whole blocks, every GEMM tile
 * shape the code generator picks and ones with remainders, and each epilogue. The packing of a
 * flipped, swapped weight (a training input gradient's) must give the same matrices.
 * Build: cc -O2 -march=native [-DRC_LANES=4|8|16] -fopenmp -I Sources/ResNetKernels Tests/KernelTests/winograd_test.c -lm
 * Prints one line per case and "N passed, M failed at L lanes"; exits 1 on any failure. */
#include "naive_conv.h"
#include "winograd_kernels.h"

/* One case at output tile M; F(4x4, 3x3) rounds more (transform entries up to 8 and 1/24). */
static int run_tile(conv_case t, int ob, int tp, int M)
{
    conv_data d = conv_data_make(t);
    /* u 16 bytes past a 64-byte boundary, u_flipped on one: the packing's plain and non-temporal copies must agree. */
    float *u_memory = calloc((size_t)RC_WINOGRAD_POSITIONS(M) * d.ocb * d.icb * RC_WEIGHT_BLOCK + 32, sizeof(float));
    float *u = u_memory + (16 - (uintptr_t)u_memory % 64 / 4) % 16 + 4;
    rc_pack_winograd_weight(u, d.w, t.oc, t.ic, 0, M);
    /* The I x O weight whose input gradient is this convolution: w'[i][o] = w[o][i] turned by 180 degrees. */
    const size_t matrices = (size_t)RC_WINOGRAD_POSITIONS(M) * d.ocb * d.icb * RC_WEIGHT_BLOCK;
    float *swapped = malloc((size_t)t.oc * t.ic * 9 * sizeof(float)), *u_flipped = aligned_alloc(64, matrices * sizeof(float));
    for (int o = 0; o < t.oc; o++)
        for (int i = 0; i < t.ic; i++)
            for (int k = 0; k < 9; k++) swapped[((size_t)i * t.oc + o) * 9 + 8 - k] = d.w[((size_t)o * t.ic + i) * 9 + k];
#pragma omp parallel
    rc_pack_winograd_weight(u_flipped, swapped, t.oc, t.ic, 1, M);
    const int same_packing = memcmp(u, u_flipped, matrices * sizeof(float)) == 0;
    free(swapped);
    free(u_flipped);
#pragma omp parallel
    rc_winograd(t.n, d.xb, u, d.bias, d.rb, d.yb, d.icb, d.ocb, t.ih, t.iw, M, ob, tp, 131072, t.bias, t.res, t.relu);
    const double worst = conv_data_worst_error(t, &d);
    const int ok = worst <= (M == 2 ? 1e-5 : 1e-4) && same_packing;
    printf("%s winograd F(%dx%d) n=%d %dx%dx%d -> %d channels, tile %d blocks x %d pixels: worst relative error %.2g%s\n", ok ? "ok  " : "FAIL",
           M, M, t.n, t.ic, t.ih, t.iw, t.oc, ob, tp, worst, same_packing ? "" : "; the flipped packing differs");
    free(u_memory);
    conv_data_free(&d);
    return ok;
}

static int run_case(conv_case t, int ob, int tp) { return run_tile(t, ob, tp, 2) & run_tile(t, ob, tp, 4); }

int main(void)
{
    const conv_case cases[] = {
        {1, 64, 56, 56, 64, 3, 1, 1, 1, 1, 1},  /* a ResNet layer: many chunks, residual + ReLU */
        {3, 20, 13, 33, 40, 3, 1, 1, 1, 0, 1},  /* odd sizes, chunks across images, partial blocks */
        {2, 16, 32, 32, 16, 3, 1, 1, 0, 0, 0},  /* CIFAR's first stage, no epilogue */
        {1, 3, 7, 5, 8, 3, 1, 1, 1, 1, 0},      /* 3 input channels, a tiny map */
        {4, 64, 7, 7, 64, 3, 1, 1, 1, 1, 1},    /* Fashion's last stage: 7 = 4 + 3 */
        {2, 48, 4, 3, 32, 3, 1, 1, 1, 0, 1},    /* a map smaller than one 4x4 tile */
    };
    const int shapes[][2] = {{4, 6}, {2, 6}, {3, 5}, {1, 1}};
    return run_every_tile(cases, sizeof cases / sizeof cases[0], shapes, sizeof shapes / sizeof shapes[0], run_case);
}
