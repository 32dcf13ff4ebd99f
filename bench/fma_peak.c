/* Measures this machine's float32 FMA peak: every thread runs 12 independent chains of 8-wide
 * fused multiply-adds in registers (enough chains to hide FMA latency on two pipes) and the
 * best of five runs is reported in GFLOP/s (an FMA counts as 2 FLOPs).
 * Build: cc -O2 -march=native -fopenmp. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

typedef float v8f __attribute__((vector_size(32)));
#define CHAINS 12 /* c0 ... c11 below */
#define ITERATIONS 20000000L

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : omp_get_max_threads();
    double best = 0;
    float sink = 0;
    for (int run = 0; run < 5; run++) {
        double start = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        {
            const v8f a = {1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f};
            const v8f b = {0.9999999f, 0.9999999f, 0.9999999f, 0.9999999f, 0.9999999f, 0.9999999f, 0.9999999f, 0.9999999f};
            v8f c0 = a, c1 = a + 1, c2 = a + 2, c3 = a + 3, c4 = a + 4, c5 = a + 5;
            v8f c6 = a + 6, c7 = a + 7, c8 = a + 8, c9 = a + 9, c10 = a + 10, c11 = a + 11;
            for (long i = 0; i < ITERATIONS; i++) {
                c0 = c0 * a + b; c1 = c1 * a + b; c2 = c2 * a + b; c3 = c3 * a + b;
                c4 = c4 * a + b; c5 = c5 * a + b; c6 = c6 * a + b; c7 = c7 * a + b;
                c8 = c8 * a + b; c9 = c9 * a + b; c10 = c10 * a + b; c11 = c11 * a + b;
            }
            v8f total = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
            sink += total[0];
        }
        double seconds = omp_get_wtime() - start;
        double gflops = 2.0 * 8 * CHAINS * (double)ITERATIONS * threads / seconds / 1e9;
        if (gflops > best) best = gflops;
    }
    printf("%.1f\n", best);
    return sink == 12345.0f;
}
