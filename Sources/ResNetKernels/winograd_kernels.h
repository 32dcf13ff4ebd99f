/* resnetc Winograd kernels: stride-1, padding-1 3x3 convolutions as F(MxM, 3x3) (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2015) with output tiles of M = 2 or 4.
 * Each MxM block of output pixels comes from a TxT input tile (T = M + 2): V = B^T d B,
 * the products Z = U . V summed over input channels for each of the T*T positions (U = G g G^T,
 * the weights transformed once when packed), Y = A^T Z A. Per input/output channel pair that is 16
 * multiply-adds per 4 outputs (M = 2) or 36 per 16 (M = 4) where direct convolution does 9 per
 * output: 2.25 or 4 times fewer. The T*T products are GEMMs run by the 1x1 kernel's register
 * tiles. F(4x4, 3x3) uses the interpolation points 0, 1, -1, 2, -2 (its transforms have
 * entries up to 8 and 1/24, so it rounds a little more than F(2x2, 3x3)).
 * Include forward_kernels.h first. */
#ifndef RC_WINOGRAD_KERNELS_H
#define RC_WINOGRAD_KERNELS_H

#include <stdio.h>

/* Transform positions of F(MxM, 3x3): the (M + 2) x (M + 2) tile. */
#define RC_WINOGRAD_POSITIONS(M) (((M) + 2) * ((M) + 2))

/* Scratch per thread for one chunk of tiles, in floats: the T*T transformed input matrices
 * [T*T][ICB][P][RC_LANES] and the T*T products [T*T][OCB][P][RC_LANES]. */
RC_INLINE size_t rc_winograd_scratch_floats(const int ICB, const int OCB, const long P, const int M)
{
    return (size_t)RC_WINOGRAD_POSITIONS(M) * (size_t)(ICB + OCB) * (size_t)P * RC_LANES;
}

/* out = B^T d for a column of T = 4 or 6 values (d[i * stride]), stored at out[i * stride]:
 * T = 4: B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1];
 * T = 6: B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]. */
RC_INLINE void rc_winograd_input_transform(const int T, const vecf *d, vecf *out, const int stride)
{
    if (T == 4) {
        const vecf d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride];
        out[0] = d0 - d2, out[stride] = d1 + d2, out[2 * stride] = d2 - d1, out[3 * stride] = d1 - d3;
    } else {
        const vecf d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride], d4 = d[4 * stride], d5 = d[5 * stride];
        const vecf p = d4 - 4.0f * d2, q = d3 - 4.0f * d1, r = d4 - d2, s = 2.0f * (d3 - d1);
        out[0] = 4.0f * d0 - 5.0f * d2 + d4;
        out[stride] = p + q, out[2 * stride] = p - q;
        out[3 * stride] = r + s, out[4 * stride] = r - s;
        out[5 * stride] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}

/* y = A^T m for a column of T = M + 2 values (m[i * stride]) into M values y[i * stride]:
 * M = 2: A^T = [1 1 1 0; 0 1 -1 -1];
 * M = 4: A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]. */
RC_INLINE void rc_winograd_output_transform(const int M, const vecf *m, vecf *y, const int stride)
{
    if (M == 2) {
        const vecf m0 = m[0], m1 = m[stride], m2 = m[2 * stride], m3 = m[3 * stride];
        y[0] = m0 + m1 + m2, y[stride] = m1 - m2 - m3;
    } else {
        const vecf a = m[stride] + m[2 * stride], b = m[stride] - m[2 * stride];
        const vecf c = m[3 * stride] + m[4 * stride], e = m[3 * stride] - m[4 * stride], m0 = m[0], m5 = m[5 * stride];
        y[0] = m0 + a + c, y[stride] = b + 2.0f * e, y[2 * stride] = a + 4.0f * c, y[3 * stride] = b + 8.0f * e + m5;
    }
}

/* u = G g for the 3 values of a kernel row or column (g[i * stride], lane-wise) into T = M + 2
 * values u[i * stride]:
 * M = 2: G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1];
 * M = 4: G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. */
RC_INLINE void rc_winograd_weight_transform(const int M, const vecf *g, vecf *u, const int stride)
{
    const vecf g0 = g[0], g1 = g[stride], g2 = g[2 * stride];
    if (M == 2) {
        u[0] = g0, u[stride] = 0.5f * (g0 + g1 + g2), u[2 * stride] = 0.5f * (g0 - g1 + g2), u[3 * stride] = g2;
    } else {
        const float sixth = 1.0f / 6.0f; /* multiplied, not divided: a division costs ten multiplications */
        const vecf outer = g0 * (0.25f * sixth) + g2 * sixth, inner = g1 * (0.5f * sixth);
        u[0] = 0.25f * g0, u[stride] = -sixth * (g0 + g1 + g2), u[2 * stride] = -sixth * (g0 - g1 + g2);
        u[3 * stride] = outer + inner, u[4 * stride] = outer - inner, u[5 * stride] = g2;
    }
}

/* Prefetch, for `blocks` planes (H x W x RC_LANES) of each image from `images` on (`image` floats
 * apart), the M x M pixels from row `skip` of the tile one tile row below tile t (TX tiles to a row,
 * per_image to an image, the next image's first row after the last): issued as tile t is
 * transformed, a tile row ahead of the reads. Tiles walk each plane in M-row strips of short runs,
 * which the hardware prefetchers do not follow: the weight gradient of 16 channels on 28 x 28 maps
 * at 16 lanes took 1.55 ms from cold caches and 0.6 ms from warm ones without this, 0.6 ms from
 * either with it. The input windows' new rows start at skip = 1 (their first two overlap the row
 * above), output tiles' at 0. */
RC_INLINE void rc_winograd_prefetch_below(const float *images, const size_t image, const int blocks, const int H, const int W, const int M,
                                          const int TX, const long per_image, const long t, const int skip)
{
    const long below = t + TX, b = below / per_image, r = below % per_image;
    const int row0 = M * (int)(r / TX) + skip, col0 = M * (int)(r % TX);
    for (int k = 0; k < blocks; k++)
        for (int row = row0; row < row0 + M && row < H; row++)
            for (int col = col0; col < col0 + M && col < W; col++)
                RC_PREFETCH(images + b * image + (((size_t)k * H + row) * W + col) * RC_LANES);
}

/* One vector of an input plane (H x W x RC_LANES), zero outside it; `inside` says the caller's
 * whole window is in the image. */
RC_INLINE vecf rc_winograd_pixel(const float *plane, const int H, const int W, const int ih, const int iw, const int inside)
{
    return inside || (ih >= 0 && ih < H && iw >= 0 && iw < W) ? vec_load(plane + ((size_t)ih * W + iw) * RC_LANES) : vec_zero();
}

/* F(4x4, 3x3)'s V = B^T d B of the 6x6 window at (y0, x0) of one input plane, stored at
 * v[xi * stride] for positions xi = 6r + c. Two columns of d B at a time, straight from the image
 * (B's columns 1 and 2 share d4 - 4 d2 and d3 - 4 d1, columns 3 and 4 share d4 - d2 and
 * d3 - d1), then B^T on each: 84 loads from L1, and every value in a register. The 6x6 tile and
 * its transform together would not fit in 32 registers, and went through the stack. */
RC_INLINE void rc_winograd_input_tile_f4(const float *plane, float *v, const size_t stride, const int H, const int W, const int y0, const int x0,
                                         const int inside)
{
#define RC_D(i, j) rc_winograd_pixel(plane, H, W, y0 + (i), x0 + (j), inside)
    vecf first[6], second[6], out[6]; /* unrolled, so that these stay in registers */
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) first[i] = 4.0f * RC_D(i, 0) - 5.0f * RC_D(i, 2) + RC_D(i, 4), second[i] = 4.0f * RC_D(i, 1) - 5.0f * RC_D(i, 3) + RC_D(i, 5);
    rc_winograd_input_transform(6, first, out, 1);
    for (int r = 0; r < 6; r++) vec_store(v + (size_t)(6 * r) * stride, out[r]);
    rc_winograd_input_transform(6, second, out, 1);
    for (int r = 0; r < 6; r++) vec_store(v + (size_t)(6 * r + 5) * stride, out[r]);
#pragma GCC unroll 2
    for (int pair = 0; pair < 2; pair++) { /* columns 1 and 2, then 3 and 4 */
#pragma GCC unroll 6
        for (int i = 0; i < 6; i++) {
            const vecf d1 = RC_D(i, 1), d2 = RC_D(i, 2), d3 = RC_D(i, 3), d4 = RC_D(i, 4);
            const vecf even = pair ? d4 - d2 : d4 - 4.0f * d2, odd = pair ? 2.0f * (d3 - d1) : d3 - 4.0f * d1;
            first[i] = even + odd, second[i] = even - odd;
        }
        rc_winograd_input_transform(6, first, out, 1);
        for (int r = 0; r < 6; r++) vec_store(v + (size_t)(6 * r + 1 + 2 * pair) * stride, out[r]);
        rc_winograd_input_transform(6, second, out, 1);
        for (int r = 0; r < 6; r++) vec_store(v + (size_t)(6 * r + 2 + 2 * pair) * stride, out[r]);
    }
#undef RC_D
}

/* Input transform of tile (ty, tx) of one image for every input block: the T x T window at rows
 * M*ty-1 ... M*ty+M and the same columns (zero outside the image), V = B^T d B, stored at
 * v[(xi * ICB + icb) * P + p]. */
RC_INLINE void rc_winograd_input_tile(const float *in_img, float *v, const int ICB, const int H, const int W, const int ty, const int tx,
                                      const long p, const long P, const int M)
{
    const int T = M + 2, y0 = M * ty - 1, x0 = M * tx - 1;
    const int inside = y0 >= 0 && x0 >= 0 && y0 + T <= H && x0 + T <= W;
    for (int icb = 0; icb < ICB; icb++) {
        const float *plane = in_img + (size_t)icb * H * W * RC_LANES;
        if (M == 4) {
            rc_winograd_input_tile_f4(plane, v + ((size_t)icb * P + p) * RC_LANES, (size_t)ICB * P * RC_LANES, H, W, y0, x0, inside);
            continue;
        }
        vecf d[4][4], t[4][4], row[4]; /* F(2x2, 3x3): the 4x4 tile and its transform fit in registers */
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) d[r][c] = rc_winograd_pixel(plane, H, W, y0 + r, x0 + c, inside);
        for (int c = 0; c < 4; c++) rc_winograd_input_transform(4, &d[0][c], &t[0][c], 4); /* B^T d: combine rows */
        for (int r = 0; r < 4; r++) {                                                     /* (B^T d) B: combine columns */
            rc_winograd_input_transform(4, t[r], row, 1);
            for (int c = 0; c < 4; c++) vec_store(v + (((size_t)(r * 4 + c) * ICB + icb) * P + p) * RC_LANES, row[c]);
        }
    }
}

/* Output transform of tile (ty, tx) for every output block: Y = A^T Z A of the products m, then bias, residual
 * and ReLU, stored where inside the image. */
RC_INLINE void rc_winograd_output_tile(const float *m, const float *bias, const float *res_img, float *out_img, const int OCB, const int H,
                                       const int W, const int ty, const int tx, const long p, const long P, const int M, const int BIAS,
                                       const int RES, const int RELU)
{
    enum { MOST = 6 };
    const int T = M + 2;
    for (int ocb = 0; ocb < OCB; ocb++) {
        vecf s[MOST][MOST], t[MOST][MOST], y[MOST];
        for (int xi = 0; xi < T * T; xi++) s[xi / T][xi % T] = vec_load(m + (((size_t)xi * OCB + ocb) * P + p) * RC_LANES);
        for (int c = 0; c < T; c++) rc_winograd_output_transform(M, &s[0][c], &t[0][c], MOST); /* A^T Z: rows t[0..M) */
        const vecf b = BIAS ? vec_load(bias + ocb * RC_LANES) : vec_zero();
        for (int r = 0; r < M; r++) {
            const int oh = M * ty + r;
            if (oh >= H) break;
            rc_winograd_output_transform(M, t[r], y, 1); /* (A^T Z) A */
            for (int c = 0; c < M; c++) {
                const int ow = M * tx + c;
                if (ow >= W) break;
                const size_t at = (((size_t)ocb * H + oh) * W + ow) * RC_LANES;
                vecf out = y[c] + b;
                if (RES) out += vec_load(res_img + at);
                if (RELU) out = vec_relu(out);
                vec_store(out_img + at, out);
            }
        }
    }
}

/* A stride-1, padding-1 3x3 convolution of n images (H x W, the same in and out) as F(MxM, 3x3),
 * called by every thread of a parallel region the generated kernel opens. The MxM tiles of all
 * images form one list, cut into chunks of P tiles (a multiple of TP; V and Z of a chunk fit in
 * SCRATCH floats, half the target's L2, and there are at least two chunks per thread where the
 * tiles allow). A thread takes a chunk and does all of it in its own scratch: input transform,
 * the T*T GEMMs with OB x TP register tiles (rc_conv1x1_tile over the chunk's tiles as pixels),
 * output transform; so no barrier is needed. u is the packed transformed weight: T*T matrices
 * [OCB][ICB][RC_LANES in][RC_LANES out] (rc_pack_winograd_weight with the same M). */
RC_INLINE void rc_winograd(int n, const float *in, const float *u, const float *bias, const float *res, float *out,
                           const int ICB, const int OCB, const int H, const int W, const int M, const int OB, const int TP, const long SCRATCH,
                           const int BIAS, const int RES, const int RELU)
{
    const int TY = (H + M - 1) / M, TX = (W + M - 1) / M, POSITIONS = RC_WINOGRAD_POSITIONS(M);
    const long per_image = (long)TY * TX, tiles = (long)n * per_image;
#ifdef _OPENMP
    const long threads = omp_get_num_threads();
#else
    const long threads = 1;
#endif
    const long fits = SCRATCH / ((long)POSITIONS * (ICB + OCB) * RC_LANES);
    const long balanced = (tiles + 2 * threads - 1) / (2 * threads);
    long P = (fits < balanced ? fits : balanced) / TP * TP;
    if (P < TP) P = TP;
    const long chunks = (tiles + P - 1) / P;
    const size_t in_image = (size_t)ICB * H * W * RC_LANES, out_image = (size_t)OCB * H * W * RC_LANES;
    const size_t u_matrix = (size_t)OCB * ICB * RC_WEIGHT_BLOCK;
    float *v = aligned_alloc(64, rc_winograd_scratch_floats(ICB, OCB, P, M) * sizeof(float));
    if (!v) {
        fprintf(stderr, "resnetc: out of memory for Winograd scratch (%zu bytes)\n", rc_winograd_scratch_floats(ICB, OCB, P, M) * sizeof(float));
        abort();
    }
    float *m = v + (size_t)POSITIONS * ICB * P * RC_LANES;
    const int groups = OCB / OB, OBR = OCB % OB;
#pragma omp for schedule(dynamic) nowait
    for (long chunk = 0; chunk < chunks; chunk++) {
        const long first = chunk * P, count = tiles - first < P ? tiles - first : P;
        const long padded = (count + TP - 1) / TP * TP;
        for (long p = 0; p < count; p++) {
            const long t = first + p, b = t / per_image, r = t % per_image;
            if (t + TX < tiles) rc_winograd_prefetch_below(in, in_image, ICB, H, W, M, TX, per_image, t, 1);
            rc_winograd_input_tile(in + b * in_image, v, ICB, H, W, (int)(r / TX), (int)(r % TX), p, P, M);
        }
        /* Tiles past the end of the list (up to a whole register tile) are zero: products computed, never stored. */
        for (int xi = 0; xi < POSITIONS; xi++)
            for (int icb = 0; icb < ICB; icb++)
                memset(v + (((size_t)xi * ICB + icb) * P + count) * RC_LANES, 0, (size_t)(padded - count) * RC_LANES * sizeof(float));
        for (int xi = 0; xi < POSITIONS; xi++) {
            const float *v_xi = v + (size_t)xi * ICB * P * RC_LANES, *u_xi = u + xi * u_matrix;
            float *m_xi = m + (size_t)xi * OCB * P * RC_LANES;
            for (int g = 0; g < groups; g++)
                for (long p0 = 0; p0 < padded; p0 += TP) rc_conv1x1_tile(v_xi, u_xi, 0, 0, m_xi, ICB, (int)P, g * OB, (int)p0, OB, TP, 0, 0, 0);
            if (OBR > 0)
                for (long p0 = 0; p0 < padded; p0 += TP)
                    rc_conv1x1_tile(v_xi, u_xi, 0, 0, m_xi, ICB, (int)P, groups * OB, (int)p0, OBR, TP, 0, 0, 0);
        }
        for (long p = 0; p < count; p++) {
            const long t = first + p, b = t / per_image, r = t % per_image;
            rc_winograd_output_tile(m, bias, RES ? res + b * out_image : 0, out + b * out_image, OCB, H, W, (int)(r / TX), (int)(r % TX), p, P,
                                    M, BIAS, RES, RELU);
        }
    }
    free(v);
}

/* O x I x 3 x 3 (PyTorch) to the T*T transformed matrices U = G g G^T of F(MxM, 3x3)
 * (rc_winograd_weight_transform), each packed [O/L][I/L][L in][L out] (L = RC_LANES) with zero
 * padding, as rc_winograd reads them. Computed in float vectors over the L output channels of
 * a block (double vectors, gathered lane by lane, ran at a third of the speed). One (output
 * block, input block) pair at a time: its T*T blocks are built in a local buffer and then
 * copied out whole, because the matrices lie a multiple of 4 KiB apart and writing all T*T of
 * them row by row thrashed the L1's sets (512 x 512 at M = 4 on Ice Lake, 2 threads: 13 ms
 * before, 3.4 ms now), and with non-temporal stores: training packs far more than the caches
 * hold, and the lines then go to memory without being read first (1.6-1.9x on Zen 4). With
 * `flipped`, src is the I x O x 3 x 3 weight
 * of a convolution whose input gradient this one computes: inputs and outputs swapped and each
 * kernel turned by 180 degrees. Training repacks every step, so this runs once per step per
 * layer. The block pairs are shared out among the threads of an enclosing parallel region;
 * called outside one, the calling thread packs them all. */
__attribute__((noinline, unused)) static void rc_pack_winograd_weight(float *dst, const float *src, int O, int I, int flipped, int M)
{
    enum { MOST = 6 };
    const int OCB = RC_BLOCKS(O), ICB = RC_BLOCKS(I), T = M + 2, POSITIONS = RC_WINOGRAD_POSITIONS(M);
    const size_t matrix = (size_t)OCB * ICB * RC_WEIGHT_BLOCK;
#pragma omp for collapse(2) schedule(static) nowait
    for (int ocb = 0; ocb < OCB; ocb++)
        for (int icb = 0; icb < ICB; icb++) {
            float block[RC_WINOGRAD_POSITIONS(4)][RC_LANES][RC_LANES] __attribute__((aligned(64)));
            const int lanes = O - ocb * RC_LANES < RC_LANES ? O - ocb * RC_LANES : RC_LANES;
            const int inputs = I - icb * RC_LANES < RC_LANES ? I - icb * RC_LANES : RC_LANES;
            /* The pair's taps as [tap][in lane][out lane], gathered with scalar stores before any
             * vector reads them (a vector load of freshly stored lanes stalls on store forwarding). */
            float raw[9][RC_LANES][RC_LANES] __attribute__((aligned(64)));
            if (lanes < RC_LANES) memset(raw, 0, sizeof raw);
            for (int l = 0; l < lanes; l++) {
                const int o = ocb * RC_LANES + l;
                for (int il = 0; il < inputs; il++) {
                    const int i = icb * RC_LANES + il;
                    for (int t = 0; t < 9; t++) raw[t][il][l] = flipped ? src[((size_t)i * O + o) * 9 + 8 - t] : src[((size_t)o * I + i) * 9 + t];
                }
            }
            if (inputs < RC_LANES) /* the padding input rows of the last input block */
                for (int xi = 0; xi < POSITIONS; xi++) memset(block[xi][inputs], 0, (size_t)(RC_LANES - inputs) * RC_LANES * sizeof(float));
            for (int il = 0; il < inputs; il++) {
                vecf g[9];
                for (int t = 0; t < 9; t++) g[t] = vec_load(raw[t][il]);
                vecf gg[MOST][3], u[MOST]; /* G g: each column of g into T rows */
                for (int c = 0; c < 3; c++) rc_winograd_weight_transform(M, g + c, &gg[0][c], 3);
                for (int r = 0; r < T; r++) { /* (G g) G^T */
                    rc_winograd_weight_transform(M, gg[r], u, 1);
                    for (int c = 0; c < T; c++) vec_store(block[r * T + c][il], u[c]);
                }
            }
            for (int xi = 0; xi < POSITIONS; xi++) rc_stream_floats(dst + xi * matrix + ((size_t)ocb * ICB + icb) * RC_WEIGHT_BLOCK, block[xi][0], RC_WEIGHT_BLOCK);
        }
    rc_stream_fence();
}

/* Output pixels whose tiles a weight-gradient task sums in float at most before adding into its
 * double totals: 1024, as RC_WEIGHT_GRADIENT_FLOAT_PIXELS for the direct kernel's small maps (a
 * weight gradient is a small difference of many large terms, and one long float sum loses
 * digits); 256 tiles of F(2x2, 3x3), 64 of F(4x4, 3x3). */
#define RC_WINOGRAD_GRADIENT_FLOAT_PIXELS 1024

/* Channel blocks a Winograd weight-gradient task takes on each side, at output tile M with a
 * task's scratch of SCRATCH floats: a transformed input tile then feeds this many output blocks'
 * GEMMs, and an output-gradient tile this many input blocks'. 4, or 2 where the float sums of
 * 4 x 4 block pairs would fill more than half the scratch (F(4x4, 3x3) at 16 lanes: 590 KB of
 * sums beside 512 KB of scratch left room for one tile per chunk, and its GEMMs then loaded and
 * stored their accumulators for every tile: 64 channels on 28 x 28 took 4.3 ms, now 1.9-2.5 ms). */
#define RC_WINOGRAD_GRADIENT_GROUP(M, SCRATCH) \
    ((size_t)RC_WINOGRAD_POSITIONS(M) * (4 * 4) * RC_WEIGHT_BLOCK * 2 <= (size_t)(SCRATCH) ? 4 : 2)

/* Slices the tiles of a Winograd weight gradient are cut into: tasks are (slice, output group,
 * input group), at least RC_WINOGRAD_GRADIENT_TASKS of them where there are so many tiles. Each
 * slice costs a set of double totals written and summed, so no more than that. The count depends
 * on the shapes only. */
#define RC_WINOGRAD_GRADIENT_TASKS 4
#define RC_WINOGRAD_GRADIENT_GROUPS(C, M, SCRATCH) \
    ((RC_BLOCKS(C) + RC_WINOGRAD_GRADIENT_GROUP(M, SCRATCH) - 1) / RC_WINOGRAD_GRADIENT_GROUP(M, SCRATCH))
#define RC_WINOGRAD_GRADIENT_SLICES(O, I, M, SCRATCH)                                                            \
    ((RC_WINOGRAD_GRADIENT_TASKS + RC_WINOGRAD_GRADIENT_GROUPS(O, M, SCRATCH) * RC_WINOGRAD_GRADIENT_GROUPS(I, M, SCRATCH) - 1) / \
     (RC_WINOGRAD_GRADIENT_GROUPS(O, M, SCRATCH) * RC_WINOGRAD_GRADIENT_GROUPS(I, M, SCRATCH)))

/* Doubles of scratch rc_winograd_backward_weight needs for O outputs and I inputs at output tile
 * M and task scratch SCRATCH, whatever the batch: each slice's totals [OCB][ICB][T*T][RC_LANES
 * in][RC_LANES out]. */
#define RC_WINOGRAD_GRADIENT_SCRATCH(O, I, M, SCRATCH) \
    ((size_t)RC_WINOGRAD_GRADIENT_SLICES(O, I, M, SCRATCH) * RC_WINOGRAD_POSITIONS(M) * RC_BLOCKS(O) * RC_BLOCKS(I) * RC_WEIGHT_BLOCK)

/* out = A y for a column of M output-gradient values (y[i * stride]) into T = M + 2 values
 * out[i * stride], A the transpose of rc_winograd_output_transform's A^T. */
RC_INLINE void rc_winograd_output_adjoint(const int M, const vecf *y, vecf *out, const int stride)
{
    if (M == 2) {
        const vecf y0 = y[0], y1 = y[stride];
        out[0] = y0, out[stride] = y0 + y1, out[2 * stride] = y0 - y1, out[3 * stride] = -y1;
    } else {
        const vecf y0 = y[0], y1 = y[stride], y2 = y[2 * stride], y3 = y[3 * stride];
        const vecf even = y0 + y2, odd = y1 + y3, even4 = y0 + 4.0f * y2, odd4 = 2.0f * y1 + 8.0f * y3;
        out[0] = y0, out[stride] = even + odd, out[2 * stride] = even - odd;
        out[3 * stride] = even4 + odd4, out[4 * stride] = even4 - odd4, out[5 * stride] = y3;
    }
}

/* Half a vector's lanes as doubles (one register on every target), and as floats. */
typedef double vecdh __attribute__((vector_size(RC_LANES / 2 * sizeof(double))));
typedef float vecfh __attribute__((vector_size(RC_LANES / 2 * sizeof(float))));

/* out = G^T u for T = M + 2 vectors of doubles (u[i * stride]) into the 3 vectors out[i * stride],
 * G rc_winograd_weight_transform's. */
RC_INLINE void rc_winograd_weight_adjoint(const int M, const vecdh *u, vecdh *out, const int stride)
{
    if (M == 2) {
        const vecdh u0 = u[0], u1 = u[stride], u2 = u[2 * stride], u3 = u[3 * stride];
        out[0] = u0 + 0.5 * (u1 + u2), out[stride] = 0.5 * (u1 - u2), out[2 * stride] = 0.5 * (u1 + u2) + u3;
    } else {
        const vecdh u0 = u[0], u1 = u[stride], u2 = u[2 * stride], u3 = u[3 * stride], u4 = u[4 * stride], u5 = u[5 * stride];
        const vecdh sum = u1 + u2, difference = u1 - u2, sum4 = u3 + u4, difference4 = u3 - u4;
        const double sixth = 1.0 / 6.0; /* multiplied, not divided: a vector division costs ten multiplications */
        out[0] = 0.25 * u0 - sixth * sum + (0.25 * sixth) * sum4;
        out[stride] = -sixth * difference + (0.5 * sixth) * difference4;
        out[2 * stride] = sixth * (sum4 - sum) + u5;
    }
}

/* dM = A dY A^T of output tile (ty, tx) of one output block (its MxM output gradients, zero
 * outside the image), stored at dm[xi * P + p]. */
RC_INLINE void rc_winograd_output_gradient_tile(const float *plane, float *dm, const int H, const int W, const int ty, const int tx,
                                                const long p, const long P, const int M)
{
    enum { MOST = 6 };
    const int T = M + 2, rows = H - M * ty < M ? H - M * ty : M, columns = W - M * tx < M ? W - M * tx : M;
    vecf y[4][4], t[MOST][4], row[MOST];
    for (int r = 0; r < M; r++)
        for (int c = 0; c < M; c++)
            y[r][c] = r < rows && c < columns ? vec_load(plane + ((size_t)(M * ty + r) * W + M * tx + c) * RC_LANES) : vec_zero();
    for (int c = 0; c < M; c++) rc_winograd_output_adjoint(M, &y[0][c], &t[0][c], 4); /* A dY: combine rows */
    for (int r = 0; r < T; r++) {                                                     /* (A dY) A^T: combine columns */
        rc_winograd_output_adjoint(M, t[r], row, 1);
        for (int c = 0; c < T; c++) vec_store(dm + ((size_t)(r * T + c) * P + p) * RC_LANES, row[c]);
    }
}

/* part[il][ol] += sum over tiles p < count of v[p][il] * dm[p][ol] for the C real input lanes
 * (C a literal), the outputs' lanes in one vector: C accumulators, each broadcast feeding one FMA. */
RC_INLINE void rc_winograd_gradient_gemm(const float *v, const float *dm, const long count, float *part, const int C)
{
    vecf acc[RC_LANES] = {{0}};
#pragma GCC unroll 16
    for (int l = 0; l < C; l++) acc[l] = vec_load(part + (size_t)l * RC_LANES);
    for (long p = 0; p < count; p++) {
        const vecf g = vec_load(dm + p * RC_LANES);
        const float *x = v + p * RC_LANES;
#pragma GCC unroll 16
        for (int l = 0; l < C; l++) acc[l] += g * x[l];
    }
#pragma GCC unroll 16
    for (int l = 0; l < C; l++) vec_store(part + (size_t)l * RC_LANES, acc[l]);
}

/* dg = G^T dU G of one (output block, input block) pair into PyTorch's O x I x 3 x 3 gw, from
 * dU [T*T][RC_LANES in][RC_LANES out], in doubles (du) or, where one float run summed it all,
 * floats (du_float; du is then NULL): for each input lane, in double vectors over half the
 * output lanes at a time, then scattered to the outputs' rows. (One lane pair at a time in
 * scalar doubles, this took two thirds of the 512-channel 4x4 weight gradient at batch 16.) */
RC_INLINE void rc_winograd_gradient_store(float *gw, const double *du, const float *du_float, const int O, const int I, const int ocb, const int icb,
                                          const int M)
{
    enum { MOST = 6, HALF = RC_LANES / 2 };
    const int T = M == 2 ? 4 : 6, outputs = O - ocb * RC_LANES < RC_LANES ? O - ocb * RC_LANES : RC_LANES;
    for (int il = 0; il < RC_LANES && icb * RC_LANES + il < I; il++) {
        float taps[9][RC_LANES] __attribute__((aligned(64)));
        for (int h = 0; h < RC_LANES; h += HALF) { /* half the output lanes at a time: 3 T vectors and a column in registers */
            vecdh u[MOST], t[3][MOST], g[3];
            for (int c = 0; c < T; c++) { /* G^T dU, column by column */
                for (int r = 0; r < T; r++) {
                    const size_t at = (size_t)(r * T + c) * RC_WEIGHT_BLOCK + il * RC_LANES + h;
                    vecfh f;
                    if (du) memcpy(&u[r], du + at, sizeof u[r]);
                    else memcpy(&f, du_float + at, sizeof f), u[r] = __builtin_convertvector(f, vecdh);
                }
                rc_winograd_weight_adjoint(M, u, g, 1);
                for (int r = 0; r < 3; r++) t[r][c] = g[r];
            }
            for (int r = 0; r < 3; r++) { /* (G^T dU) G: rows */
                rc_winograd_weight_adjoint(M, t[r], g, 1);
                for (int c = 0; c < 3; c++) {
                    const vecfh f = __builtin_convertvector(g[c], vecfh);
                    memcpy(&taps[r * 3 + c][h], &f, sizeof f);
                }
            }
        }
        float *out = gw + ((size_t)ocb * RC_LANES * I + icb * RC_LANES + il) * 9;
        for (int ol = 0; ol < outputs; ol++)
            for (int k = 0; k < 9; k++) out[(size_t)ol * I * 9 + k] = taps[k][ol];
    }
}

/* The weight gradient of a stride-1, padding-1 3x3 convolution of n images (H x W in and out) as
 * F(MxM, 3x3) backwards: with V = B^T d B of each input tile and dM = A dY A^T of the tile's MxM
 * output gradient (rc_winograd_output_adjoint; outputs past the image edge have none),
 * dU = sum over tiles of dM . V at each of the T*T positions, and dg = G^T dU G: 16 (M = 2) or
 * 36 (M = 4) multiply-adds per channel pair per 4 or 16 output pixels where the direct weight
 * gradient does 9 per pixel. Straight into PyTorch's O x I x 3 x 3 layout; called by every
 * thread of a parallel region with every size a literal (CL: the last input block's real
 * channels).
 * Tasks are (slice of the tiles of all images, group of output blocks, group of input blocks). A
 * task takes its tiles in chunks that fit SCRATCH floats (the L2's share) beside its float partial
 * sums and keeps them in its own scratch: dM of its output blocks and V of its input blocks, then
 * T*T GEMMs per block pair into the partial sums, added into the slice's double totals in
 * `scratch` (RC_WINOGRAD_GRADIENT_SCRATCH doubles, [slice][OCB][ICB][T*T][in lane][out lane])
 * before their float runs pass RC_WINOGRAD_GRADIENT_FLOAT_PIXELS output pixels. With one slice a
 * task then writes its pairs' gradients itself, straight from its float sums where one run held
 * all its tiles (small maps: the double totals would be 3.6 times the gradient's bytes, written
 * and read back); with several the totals are summed over slices,
 * in order, into the first. Either way the result does not depend on the thread count. */
RC_INLINE void rc_winograd_backward_weight(int n, const float *gy, const float *x, float *gw, double *scratch, const int O, const int I,
                                           const int CL, const int H, const int W, const int M, const long SCRATCH)
{
    const int GROUP = RC_WINOGRAD_GRADIENT_GROUP(M, SCRATCH);
    const int OCB = RC_BLOCKS(O), ICB = RC_BLOCKS(I), TY = (H + M - 1) / M, TX = (W + M - 1) / M, POSITIONS = RC_WINOGRAD_POSITIONS(M);
    const long float_tiles = RC_WINOGRAD_GRADIENT_FLOAT_PIXELS / (M * M);
    const int OG = RC_WINOGRAD_GRADIENT_GROUPS(O, M, SCRATCH), IG = RC_WINOGRAD_GRADIENT_GROUPS(I, M, SCRATCH);
    const long per_image = (long)TY * TX, tiles = (long)n * per_image;
    const int wanted = RC_WINOGRAD_GRADIENT_SLICES(O, I, M, SCRATCH), slices = tiles < wanted ? (tiles > 0 ? (int)tiles : 1) : wanted;
    const size_t plane = (size_t)H * W * RC_LANES, in_image = (size_t)ICB * plane, out_image = (size_t)OCB * plane;
    const size_t pair_doubles = (size_t)POSITIONS * RC_WEIGHT_BLOCK, slice = (size_t)OCB * ICB * pair_doubles;
    const size_t most_sums = (size_t)POSITIONS * GROUP * GROUP * RC_WEIGHT_BLOCK;
    /* The widest task's sums and two tiles of it at least (one, and the stride's padding); whole
     * 64-byte lines, as aligned_alloc requires. */
    const size_t least = most_sums + (size_t)POSITIONS * 2 * GROUP * 2 * RC_LANES;
    const size_t own = (((size_t)SCRATCH > least ? (size_t)SCRATCH : least) + 15) & ~(size_t)15;
    float *part = aligned_alloc(64, own * sizeof(float));
    if (!part) {
        fprintf(stderr, "resnetc: out of memory for Winograd weight-gradient scratch (%zu bytes)\n", own * sizeof(float));
        abort();
    }
#pragma omp for collapse(3) schedule(static)
    for (int s = 0; s < slices; s++)
        for (int og = 0; og < OG; og++)
            for (int ig = 0; ig < IG; ig++) {
                const int ob = OCB - og * GROUP < GROUP ? OCB - og * GROUP : GROUP, ib = ICB - ig * GROUP < GROUP ? ICB - ig * GROUP : GROUP;
                /* part[ko][ki][xi][in lane][out lane], then this task's tiles: V [xi][ki][PS] and dM [xi][ko][PS],
                 * P tiles at a stride of PS, odd: P is 64 or 256 tiles of 64 bytes where the float runs bound it,
                 * and the T*T matrices 4 KiB apart, which the transforms' stores hit in one L1 set (16 channels
                 * on 28 x 28 at 16 lanes: 1.7 ms before, 0.65 ms now; 64 on 7 x 7: 1.55, 0.7). */
                const size_t sums = (size_t)ob * ib * pair_doubles;
                const long fits = (long)((own - sums) / ((size_t)POSITIONS * (ob + ib) * RC_LANES));
                const long P = fits - 1 < float_tiles ? fits - 1 : float_tiles, PS = P | 1;
                float *v = part + sums, *dm = v + (size_t)POSITIONS * ib * PS * RC_LANES;
                memset(part, 0, sums * sizeof(float));
                const long start = (long)(s * tiles / slices), last = (long)((s + 1) * tiles / slices);
                long summed = 0;
                int flushed = 0;
                for (long first = start;; first += P) {
                    const long count = last - first < P ? last - first : P;
                    for (long p = 0; p < count; p++) {
                        const long t = first + p, b = t / per_image, r = t % per_image;
                        const int ty = (int)(r / TX), tx = (int)(r % TX);
                        if (t + TX < last) {
                            rc_winograd_prefetch_below(x + (size_t)ig * GROUP * plane, in_image, ib, H, W, M, TX, per_image, t, 1);
                            rc_winograd_prefetch_below(gy + (size_t)og * GROUP * plane, out_image, ob, H, W, M, TX, per_image, t, 0);
                        }
                        rc_winograd_input_tile(x + b * in_image + (size_t)ig * GROUP * plane, v, ib, H, W, ty, tx, p, PS, M);
                        for (int ko = 0; ko < ob; ko++)
                            rc_winograd_output_gradient_tile(gy + b * out_image + (size_t)(og * GROUP + ko) * plane, dm + (size_t)ko * PS * RC_LANES, H,
                                                             W, ty, tx, p, (long)ob * PS, M);
                    }
                    for (int ko = 0; ko < ob; ko++)
                        for (int ki = 0; ki < ib; ki++)
                            for (int xi = 0; xi < POSITIONS; xi++) {
                                const float *v_block = v + ((size_t)xi * ib + ki) * PS * RC_LANES, *dm_block = dm + ((size_t)xi * ob + ko) * PS * RC_LANES;
                                float *into = part + ((size_t)ko * ib + ki) * pair_doubles + (size_t)xi * RC_WEIGHT_BLOCK;
                                if (ig * GROUP + ki == ICB - 1 && CL < RC_LANES) rc_winograd_gradient_gemm(v_block, dm_block, count, into, CL);
                                else rc_winograd_gradient_gemm(v_block, dm_block, count, into, RC_LANES);
                            }
                    summed += count;
                    const int done = first + count >= last;
                    if (done && !flushed && slices == 1) break; /* one float run summed it all: stored from part below */
                    if (summed + P > float_tiles || done) {
                        /* Into the slice's totals; the first time, the totals are set. */
                        for (int ko = 0; ko < ob; ko++)
                            for (int ki = 0; ki < ib; ki++) {
                                const float *from = part + ((size_t)ko * ib + ki) * pair_doubles;
                                double *total = scratch + s * slice + ((size_t)(og * GROUP + ko) * ICB + ig * GROUP + ki) * pair_doubles;
                                if (!flushed)
                                    for (size_t i = 0; i < pair_doubles; i++) total[i] = from[i];
                                else
                                    for (size_t i = 0; i < pair_doubles; i++) total[i] += from[i];
                            }
                        memset(part, 0, sums * sizeof(float));
                        summed = 0;
                        flushed = 1;
                    }
                    if (done) break;
                }
                if (slices == 1)
                    for (int ko = 0; ko < ob; ko++)
                        for (int ki = 0; ki < ib; ki++) {
                            const int ocb = og * GROUP + ko, icb = ig * GROUP + ki;
                            if (flushed) rc_winograd_gradient_store(gw, scratch + ((size_t)ocb * ICB + icb) * pair_doubles, 0, O, I, ocb, icb, M);
                            else rc_winograd_gradient_store(gw, 0, part + ((size_t)ko * ib + ki) * pair_doubles, O, I, ocb, icb, M);
                        }
            }
    free(part);
    if (slices == 1) return;
#pragma omp for collapse(2) schedule(static) nowait
    for (int ocb = 0; ocb < OCB; ocb++)
        for (int icb = 0; icb < ICB; icb++) {
            double *total = scratch + ((size_t)ocb * ICB + icb) * pair_doubles; /* slice 0's, then the sum */
            for (int s = 1; s < slices; s++)
                for (size_t i = 0; i < pair_doubles; i++) total[i] += total[s * slice + i];
            rc_winograd_gradient_store(gw, total, 0, O, I, ocb, icb, M);
        }
}

#endif /* RC_WINOGRAD_KERNELS_H */
