/* Measures this machine's float32 FMA peak at a vector width of LANES floats (8: AVX2, 16:
 * AVX-512): every thread runs 12 independent chains of fused multiply-adds in registers (enough
 * chains to hide FMA latency on two pipes) and the best of five runs is reported in GFLOP/s (an
 * FMA counts as 2 FLOPs). Measure at the widest width the machine has: on AVX-512 machines with
 * full-width FMA, 16 lanes doubles the 8-lane figure, and a "% of peak" against the 8-lane one
 * would be twice too high.
 * `resnetc bench` compiles it as a library and calls rc_fma_peak_gflops; as a program:
 * cc -O2 -march=native -fopenmp -DLANES=16 -DFMA_PEAK_MAIN Sources/ResNetKernels/fma_peak.c; ./a.out [threads]. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef LANES
#define LANES 8
#endif
typedef float vec __attribute__((vector_size(4 * LANES)));
#define CHAINS 12 /* c[0] ... c[11] below */
#define ITERATIONS 20000000L

/* The best of five runs on `threads` threads (all cores if 0), in GFLOP/s. */
double rc_fma_peak_gflops(int threads)
{
    if (threads <= 0) threads = omp_get_max_threads();
    double best = 0;
    float sink = 0;
    for (int run = 0; run < 5; run++) {
        double start = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        {
            const vec a = (vec){0} + 1.0000001f, b = (vec){0} + 0.9999999f;
            vec c[CHAINS];
#pragma GCC unroll 12
            for (int k = 0; k < CHAINS; k++) c[k] = a + (float)k;
            for (long i = 0; i < ITERATIONS; i++) {
#pragma GCC unroll 12
                for (int k = 0; k < CHAINS; k++) c[k] = c[k] * a + b;
            }
            vec total = c[0];
            for (int k = 1; k < CHAINS; k++) total += c[k];
            sink += total[0];
        }
        double seconds = omp_get_wtime() - start;
        double gflops = 2.0 * LANES * CHAINS * (double)ITERATIONS * threads / seconds / 1e9;
        if (gflops > best) best = gflops;
    }
    return sink == 12345.0f ? -best : best; /* keeps the chains live; never true in practice */
}

#ifdef FMA_PEAK_MAIN
int main(int argc, char **argv)
{
    printf("%.1f\n", rc_fma_peak_gflops(argc > 1 ? atoi(argv[1]) : 0));
    return 0;
}
#endif
