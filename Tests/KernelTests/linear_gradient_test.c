/* The fully connected layer's gradients (rc_linear_backward_input and rc_linear_backward_weight in
 * backward_kernels.h) against naive double loops, on their own: feature counts below, at and past
 * the weight gradient's column chunk (with a remainder), ResNet-18's 512 -> 1000, batch 1 and
 * odd batches; run by two threads of one region as the generated step runs them.
 * Build: cc -O2 -march=native [-DRC_LANES=4|8|16] -fopenmp -I Sources/ResNetKernels Tests/KernelTests/linear_gradient_test.c -lm
 * Prints one line per shape and "N passed, M failed at L lanes"; exits 1 on any failure. */
#include "naive_conv.h"
#include "backward_kernels.h"

static int run_case(int n, int F, int O)
{
    float *gy = malloc((size_t)n * O * 4), *x = malloc((size_t)n * F * 4), *w = malloc((size_t)O * F * 4);
    float *gx = malloc((size_t)n * F * 4), *gw = malloc((size_t)O * F * 4);
    unsigned state = 5;
    for (long i = 0; i < (long)n * O; i++) gy[i] = random_value(&state);
    for (long i = 0; i < (long)n * F; i++) x[i] = random_value(&state);
    for (long i = 0; i < (long)O * F; i++) w[i] = random_value(&state);
#pragma omp parallel num_threads(2)
    {
        rc_linear_backward_input(n, gy, w, gx, F, O);
        rc_linear_backward_weight(n, gy, x, gw, F, O);
    }
    double worst = 0;
    for (int b = 0; b < n; b++)
        for (int f = 0; f < F; f++) {
            double want = 0, scale = 0;
            for (int o = 0; o < O; o++) { const double t = (double)gy[(size_t)b * O + o] * w[(size_t)o * F + f]; want += t; scale += fabs(t); }
            const double err = fabs(gx[(size_t)b * F + f] - want) / (1.0 + scale);
            if (!(err <= worst)) worst = err;
        }
    for (int o = 0; o < O; o++)
        for (int f = 0; f < F; f++) {
            double want = 0, scale = 0;
            for (int b = 0; b < n; b++) { const double t = (double)gy[(size_t)b * O + o] * x[(size_t)b * F + f]; want += t; scale += fabs(t); }
            const double err = fabs(gw[(size_t)o * F + f] - want) / (1.0 + scale);
            if (!(err <= worst)) worst = err;
        }
    const int ok = worst <= 1e-6;
    printf("%s linear gradients n=%d %d -> %d: worst error %.2g of the terms' magnitude\n", ok ? "ok  " : "FAIL", n, F, O, worst);
    free(gy); free(x); free(w); free(gx); free(gw);
    return ok;
}

int main(void)
{
    const int cases[][3] = {
        {3, 16, 10},    /* fewer features than one column chunk */
        {4, 64, 10},    /* exactly one chunk (CIFAR ResNet's 64 -> 10) */
        {1, 150, 7},    /* two whole chunks and a remainder, batch 1 */
        {16, 512, 1000} /* ResNet-18's classifier */
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(cases[i][0], cases[i][1], cases[i][2]) ? passed++ : failed++;
    printf("%d passed, %d failed at %d lanes\n", passed, failed, RC_LANES);
    return failed ? 1 : 0;
}
