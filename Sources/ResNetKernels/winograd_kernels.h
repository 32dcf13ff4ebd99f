/* resnetc Winograd kernels: stride-1, padding-1 3x3 convolutions as F(2x2, 3x3) (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2015). Each 2x2 block of output pixels
 * comes from a 4x4 input tile: V = B^T d B, M = U . V summed over input channels for each of the
 * 16 positions (U = G g G^T, the weights transformed once when packed), Y = A^T M A. That is 16
 * multiply-adds per input/output channel pair per 4 outputs where direct convolution does 36:
 * 2.25 times fewer. The 16 products are GEMMs run by the 1x1 kernel's register tiles.
 * Include forward_kernels.h first. */
#ifndef RC_WINOGRAD_KERNELS_H
#define RC_WINOGRAD_KERNELS_H

#include <stdio.h>

/* 4x4 transform positions. */
#define RC_WINOGRAD_POSITIONS 16

/* Scratch per thread for one chunk of tiles, in floats: the 16 transformed input matrices
 * [16][ICB][P][RC_LANES] and the 16 products [16][OCB][P][RC_LANES]. */
RC_INLINE size_t rc_winograd_scratch_floats(const int ICB, const int OCB, const long P)
{
    return (size_t)RC_WINOGRAD_POSITIONS * (size_t)(ICB + OCB) * (size_t)P * RC_LANES;
}

/* Input transform of tile (ty, tx) of one image for every input block: the 4x4 window at rows
 * 2ty-1 ... 2ty+2 and columns 2tx-1 ... 2tx+2 (zero outside the image), V = B^T d B with
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], stored at v[(xi * ICB + icb) * P + p]. */
RC_INLINE void rc_winograd_input_tile(const float *in_img, float *v, const int ICB, const int H, const int W, const int ty, const int tx,
                                      const long p, const long P)
{
    for (int icb = 0; icb < ICB; icb++) {
        const float *plane = in_img + (size_t)icb * H * W * RC_LANES;
        vecf d[4][4];
        for (int r = 0; r < 4; r++) {
            const int ih = 2 * ty - 1 + r;
            for (int c = 0; c < 4; c++) {
                const int iw = 2 * tx - 1 + c;
                d[r][c] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? vec_load(plane + ((size_t)ih * W + iw) * RC_LANES) : vec_zero();
            }
        }
        vecf t[4][4]; /* B^T d: combine rows */
        for (int c = 0; c < 4; c++) {
            t[0][c] = d[0][c] - d[2][c];
            t[1][c] = d[1][c] + d[2][c];
            t[2][c] = d[2][c] - d[1][c];
            t[3][c] = d[1][c] - d[3][c];
        }
        for (int r = 0; r < 4; r++) { /* (B^T d) B: combine columns */
            const vecf row[4] = {t[r][0] - t[r][2], t[r][1] + t[r][2], t[r][2] - t[r][1], t[r][1] - t[r][3]};
            for (int c = 0; c < 4; c++) vec_store(v + (((size_t)(r * 4 + c) * ICB + icb) * P + p) * RC_LANES, row[c]);
        }
    }
}

/* Output transform of tile (ty, tx) for every output block: Y = A^T M A with
 * A^T = [1 1 1 0; 0 1 -1 -1], then bias, residual and ReLU, stored where inside the image. */
RC_INLINE void rc_winograd_output_tile(const float *m, const float *bias, const float *res_img, float *out_img, const int OCB, const int H,
                                       const int W, const int ty, const int tx, const long p, const long P, const int BIAS, const int RES,
                                       const int RELU)
{
    for (int ocb = 0; ocb < OCB; ocb++) {
        vecf s[4][4];
        for (int xi = 0; xi < RC_WINOGRAD_POSITIONS; xi++) s[xi / 4][xi % 4] = vec_load(m + (((size_t)xi * OCB + ocb) * P + p) * RC_LANES);
        vecf t[2][4]; /* A^T M */
        for (int c = 0; c < 4; c++) {
            t[0][c] = s[0][c] + s[1][c] + s[2][c];
            t[1][c] = s[1][c] - s[2][c] - s[3][c];
        }
        const vecf b = BIAS ? vec_load(bias + ocb * RC_LANES) : vec_zero();
        for (int r = 0; r < 2; r++) {
            const int oh = 2 * ty + r;
            if (oh >= H) break;
            const vecf y[2] = {t[r][0] + t[r][1] + t[r][2] + b, t[r][1] - t[r][2] - t[r][3] + b};
            for (int c = 0; c < 2; c++) {
                const int ow = 2 * tx + c;
                if (ow >= W) break;
                const size_t at = (((size_t)ocb * H + oh) * W + ow) * RC_LANES;
                vecf out = y[c];
                if (RES) out += vec_load(res_img + at);
                if (RELU) out = vec_relu(out);
                vec_store(out_img + at, out);
            }
        }
    }
}

/* A stride-1, padding-1 3x3 convolution of n images (H x W, the same in and out), called by every
 * thread of a parallel region the generated kernel opens. The 2x2 tiles of all images form one
 * list, cut into chunks of P tiles (a multiple of TP; V and M of a chunk fit in SCRATCH floats,
 * half the target's L2, and there are at least two chunks per thread where the tiles allow). A thread takes a chunk and
 * does all of it in its own scratch: input transform, the 16 GEMMs with OB x TP register tiles
 * (rc_conv1x1_tile over the chunk's tiles as pixels), output transform; so no barrier is needed.
 * u is the packed transformed weight: 16 matrices [OCB][ICB][RC_LANES in][RC_LANES out]. */
RC_INLINE void rc_winograd(int n, const float *in, const float *u, const float *bias, const float *res, float *out,
                           const int ICB, const int OCB, const int H, const int W, const int OB, const int TP, const long SCRATCH,
                           const int BIAS, const int RES, const int RELU)
{
    const int TY = (H + 1) / 2, TX = (W + 1) / 2;
    const long per_image = (long)TY * TX, tiles = (long)n * per_image;
#ifdef _OPENMP
    const long threads = omp_get_num_threads();
#else
    const long threads = 1;
#endif
    const long fits = SCRATCH / ((long)RC_WINOGRAD_POSITIONS * (ICB + OCB) * RC_LANES);
    const long balanced = (tiles + 2 * threads - 1) / (2 * threads);
    long P = (fits < balanced ? fits : balanced) / TP * TP;
    if (P < TP) P = TP;
    const long chunks = (tiles + P - 1) / P;
    const size_t in_image = (size_t)ICB * H * W * RC_LANES, out_image = (size_t)OCB * H * W * RC_LANES;
    const size_t u_matrix = (size_t)OCB * ICB * RC_WEIGHT_BLOCK;
    float *v = aligned_alloc(64, rc_winograd_scratch_floats(ICB, OCB, P) * sizeof(float));
    if (!v) {
        fprintf(stderr, "resnetc: out of memory for Winograd scratch (%zu bytes)\n", rc_winograd_scratch_floats(ICB, OCB, P) * sizeof(float));
        abort();
    }
    float *m = v + (size_t)RC_WINOGRAD_POSITIONS * ICB * P * RC_LANES;
    const int groups = OCB / OB, OBR = OCB % OB;
#pragma omp for schedule(dynamic) nowait
    for (long chunk = 0; chunk < chunks; chunk++) {
        const long first = chunk * P, count = tiles - first < P ? tiles - first : P;
        const long padded = (count + TP - 1) / TP * TP;
        for (long p = 0; p < count; p++) {
            const long t = first + p, b = t / per_image, r = t % per_image;
            rc_winograd_input_tile(in + b * in_image, v, ICB, H, W, (int)(r / TX), (int)(r % TX), p, P);
        }
        /* Tiles past the end of the list (up to a whole register tile) are zero: products computed, never stored. */
        for (int xi = 0; xi < RC_WINOGRAD_POSITIONS; xi++)
            for (int icb = 0; icb < ICB; icb++)
                memset(v + (((size_t)xi * ICB + icb) * P + count) * RC_LANES, 0, (size_t)(padded - count) * RC_LANES * sizeof(float));
        for (int xi = 0; xi < RC_WINOGRAD_POSITIONS; xi++) {
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
                                    BIAS, RES, RELU);
        }
    }
    free(v);
}

/* O x I x 3 x 3 (PyTorch) to the 16 transformed matrices U = G g G^T,
 * G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], each packed [O/L][I/L][L in][L out] (L = RC_LANES)
 * with zero padding, as rc_winograd reads them. Computed in double vectors over the L output
 * channels of a block (one row of a packed block: each position's result is one vector store),
 * rounded to float once. With `flipped`, src is the I x O x 3 x 3 weight of a convolution whose
 * input gradient this one computes: inputs and outputs swapped and each kernel turned by 180
 * degrees. Training repacks every step, so this runs once per step per layer. The output blocks
 * are shared out among the threads of an enclosing parallel region; called outside one, the
 * calling thread packs them all. */
__attribute__((noinline, unused)) static void rc_pack_winograd_weight(float *dst, const float *src, int O, int I, int flipped)
{
    const int OCB = RC_BLOCKS(O), ICB = RC_BLOCKS(I);
    const size_t matrix = (size_t)OCB * ICB * RC_WEIGHT_BLOCK, row = (size_t)ICB * RC_WEIGHT_BLOCK;
#pragma omp for schedule(static) nowait
    for (int ocb = 0; ocb < OCB; ocb++) {
        const int lanes = O - ocb * RC_LANES < RC_LANES ? O - ocb * RC_LANES : RC_LANES;
        if (I % RC_LANES) /* the padding input rows of the last input block */
            for (int xi = 0; xi < RC_WINOGRAD_POSITIONS; xi++)
                memset(dst + xi * matrix + ocb * row + (size_t)(ICB - 1) * RC_WEIGHT_BLOCK + (size_t)(I % RC_LANES) * RC_LANES, 0,
                       (size_t)(RC_LANES - I % RC_LANES) * RC_LANES * sizeof(float));
        for (int i = 0; i < I; i++) {
            vecd g[9] = {{0}};
            for (int l = 0; l < lanes; l++) {
                const int o = ocb * RC_LANES + l;
                for (int t = 0; t < 9; t++) g[t][l] = flipped ? src[((size_t)i * O + o) * 9 + 8 - t] : src[((size_t)o * I + i) * 9 + t];
            }
            vecd gg[4][3]; /* G g: rows 0 and 3 copy rows of g, rows 1 and 2 are (g0 +- g1 + g2) / 2 */
            for (int c = 0; c < 3; c++) {
                gg[0][c] = g[c];
                gg[1][c] = 0.5 * (g[c] + g[3 + c] + g[6 + c]);
                gg[2][c] = 0.5 * (g[c] - g[3 + c] + g[6 + c]);
                gg[3][c] = g[6 + c];
            }
            float *out = dst + ((size_t)ocb * ICB + i / RC_LANES) * RC_WEIGHT_BLOCK + (size_t)(i % RC_LANES) * RC_LANES;
            for (int r = 0; r < 4; r++) { /* (G g) G^T */
                const vecd u[4] = {gg[r][0], 0.5 * (gg[r][0] + gg[r][1] + gg[r][2]), 0.5 * (gg[r][0] - gg[r][1] + gg[r][2]), gg[r][2]};
                for (int c = 0; c < 4; c++) vec_store(out + (size_t)(r * 4 + c) * matrix, __builtin_convertvector(u[c], vecf));
            }
        }
    }
}

/* Tiles a weight-gradient task sums in float at most before adding into its double totals: 1024
 * output pixels, as RC_WEIGHT_GRADIENT_FLOAT_PIXELS for the direct kernel's small maps (a weight
 * gradient is a small difference of many large terms, and one long float sum loses digits). */
#define RC_WINOGRAD_GRADIENT_FLOAT_TILES 256

/* Channel blocks a Winograd weight-gradient task takes on each side: a transformed input tile
 * then feeds this many output blocks' GEMMs, and an output-gradient tile this many input blocks'. */
#define RC_WINOGRAD_GRADIENT_GROUP 4

/* Slices the tiles of a Winograd weight gradient are cut into: tasks are (slice, output group,
 * input group), at least RC_WINOGRAD_GRADIENT_TASKS of them where there are so many tiles. Each
 * slice costs a set of double totals written and summed, so no more than that. The count depends
 * on the shapes only. */
#define RC_WINOGRAD_GRADIENT_TASKS 4
#define RC_WINOGRAD_GRADIENT_GROUPS(C) ((RC_BLOCKS(C) + RC_WINOGRAD_GRADIENT_GROUP - 1) / RC_WINOGRAD_GRADIENT_GROUP)
#define RC_WINOGRAD_GRADIENT_SLICES(O, I) \
    ((RC_WINOGRAD_GRADIENT_TASKS + RC_WINOGRAD_GRADIENT_GROUPS(O) * RC_WINOGRAD_GRADIENT_GROUPS(I) - 1) / (RC_WINOGRAD_GRADIENT_GROUPS(O) * RC_WINOGRAD_GRADIENT_GROUPS(I)))

/* Doubles of scratch rc_winograd_backward_weight needs for O outputs and I inputs, whatever the
 * batch: each slice's totals [OCB][ICB][16][RC_LANES in][RC_LANES out]. */
#define RC_WINOGRAD_GRADIENT_SCRATCH(O, I) \
    ((size_t)RC_WINOGRAD_GRADIENT_SLICES(O, I) * RC_WINOGRAD_POSITIONS * RC_BLOCKS(O) * RC_BLOCKS(I) * RC_WEIGHT_BLOCK)

/* dM = A dY A^T of output tile (ty, tx) of one output block, zero outside the image, stored at
 * dm[xi * P + p]. */
RC_INLINE void rc_winograd_output_gradient_tile(const float *plane, float *dm, const int H, const int W, const int ty, const int tx,
                                                const long p, const long P)
{
    const int rows = H - 2 * ty < 2 ? 1 : 2, columns = W - 2 * tx < 2 ? 1 : 2;
    vecf y[2][2] = {{vec_zero(), vec_zero()}, {vec_zero(), vec_zero()}};
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < columns; c++) y[r][c] = vec_load(plane + ((size_t)(2 * ty + r) * W + 2 * tx + c) * RC_LANES);
    const vecf t[4][2] = {/* A dY: combine rows */
                          {y[0][0], y[0][1]},
                          {y[0][0] + y[1][0], y[0][1] + y[1][1]},
                          {y[0][0] - y[1][0], y[0][1] - y[1][1]},
                          {-y[1][0], -y[1][1]}};
    for (int r = 0; r < 4; r++) { /* (A dY) A^T: combine columns */
        const vecf row[4] = {t[r][0], t[r][0] + t[r][1], t[r][0] - t[r][1], -t[r][1]};
        for (int c = 0; c < 4; c++) vec_store(dm + ((size_t)(r * 4 + c) * P + p) * RC_LANES, row[c]);
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
 * dU [16][RC_LANES in][RC_LANES out]. */
RC_INLINE void rc_winograd_gradient_store(float *gw, const double *du, const int O, const int I, const int ocb, const int icb)
{
    for (int il = 0; il < RC_LANES && icb * RC_LANES + il < I; il++)
        for (int ol = 0; ol < RC_LANES && ocb * RC_LANES + ol < O; ol++) {
            double u[4][4];
            for (int xi = 0; xi < RC_WINOGRAD_POSITIONS; xi++) u[xi / 4][xi % 4] = du[(size_t)xi * RC_WEIGHT_BLOCK + il * RC_LANES + ol];
            double t[3][4]; /* G^T dU: rows */
            for (int c = 0; c < 4; c++) {
                t[0][c] = u[0][c] + 0.5 * (u[1][c] + u[2][c]);
                t[1][c] = 0.5 * (u[1][c] - u[2][c]);
                t[2][c] = 0.5 * (u[1][c] + u[2][c]) + u[3][c];
            }
            float *g = gw + ((size_t)(ocb * RC_LANES + ol) * I + icb * RC_LANES + il) * 9;
            for (int r = 0; r < 3; r++) { /* (G^T dU) G: columns */
                g[r * 3 + 0] = (float)(t[r][0] + 0.5 * (t[r][1] + t[r][2]));
                g[r * 3 + 1] = (float)(0.5 * (t[r][1] - t[r][2]));
                g[r * 3 + 2] = (float)(0.5 * (t[r][1] + t[r][2]) + t[r][3]);
            }
        }
}

/* The weight gradient of a stride-1, padding-1 3x3 convolution of n images (H x W in and out) as
 * F(2x2, 3x3): with V = B^T d B of each input tile and dM = A dY A^T of the tile's 2x2 output
 * gradient (A = [1 0; 1 1; 1 -1; 0 -1]; outputs past the image edge have none),
 * dU = sum over tiles of dM . V at each of the 16 positions, and dg = G^T dU G: 16 multiply-adds
 * per channel pair per 4 output pixels where the direct weight gradient does 36. Straight into
 * PyTorch's O x I x 3 x 3 layout; called by every thread of a parallel region with every size a
 * literal (CL: the last input block's real channels).
 * Tasks are (slice of the tiles of all images, group of output blocks, group of input blocks). A
 * task takes its tiles in chunks that fit SCRATCH floats (the L2's share) beside its float partial
 * sums and keeps them in its own scratch: dM of its output blocks and V of its input blocks, then
 * 16 GEMMs per block pair into the partial sums, added into the slice's double totals in
 * `scratch` (RC_WINOGRAD_GRADIENT_SCRATCH doubles, [slice][OCB][ICB][16][in lane][out lane])
 * before their float runs pass RC_WINOGRAD_GRADIENT_FLOAT_TILES tiles. With one slice a task then writes its pairs'
 * gradients itself; with several the totals are summed over slices, in order, into the first.
 * Either way the result does not depend on the thread count. */
RC_INLINE void rc_winograd_backward_weight(int n, const float *gy, const float *x, float *gw, double *scratch, const int O, const int I,
                                           const int CL, const int H, const int W, const long SCRATCH)
{
    enum { GROUP = RC_WINOGRAD_GRADIENT_GROUP };
    const int OCB = RC_BLOCKS(O), ICB = RC_BLOCKS(I), TY = (H + 1) / 2, TX = (W + 1) / 2;
    const int OG = RC_WINOGRAD_GRADIENT_GROUPS(O), IG = RC_WINOGRAD_GRADIENT_GROUPS(I);
    const long per_image = (long)TY * TX, tiles = (long)n * per_image;
    const int wanted = RC_WINOGRAD_GRADIENT_SLICES(O, I), slices = tiles < wanted ? (tiles > 0 ? (int)tiles : 1) : wanted;
    const size_t plane = (size_t)H * W * RC_LANES, in_image = (size_t)ICB * plane, out_image = (size_t)OCB * plane;
    const size_t pair_doubles = (size_t)RC_WINOGRAD_POSITIONS * RC_WEIGHT_BLOCK, slice = (size_t)OCB * ICB * pair_doubles;
    const size_t most_sums = (size_t)RC_WINOGRAD_POSITIONS * GROUP * GROUP * RC_WEIGHT_BLOCK;
    /* The widest task's sums and one tile of it at least; whole 64-byte lines, as aligned_alloc requires. */
    const size_t least = most_sums + (size_t)RC_WINOGRAD_POSITIONS * 2 * GROUP * RC_LANES;
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
                /* part[ko][ki][xi][in lane][out lane], then this task's tiles: V [xi][ki][P] and dM [xi][ko][P] */
                const size_t sums = (size_t)ob * ib * pair_doubles;
                const long fits = (long)((own - sums) / ((size_t)RC_WINOGRAD_POSITIONS * (ob + ib) * RC_LANES));
                const long P = fits < RC_WINOGRAD_GRADIENT_FLOAT_TILES ? fits : RC_WINOGRAD_GRADIENT_FLOAT_TILES;
                float *v = part + sums, *dm = v + (size_t)RC_WINOGRAD_POSITIONS * ib * P * RC_LANES;
                memset(part, 0, sums * sizeof(float));
                const long start = (long)(s * tiles / slices), last = (long)((s + 1) * tiles / slices);
                long summed = 0;
                int flushed = 0;
                for (long first = start;; first += P) {
                    const long count = last - first < P ? last - first : P;
                    for (long p = 0; p < count; p++) {
                        const long t = first + p, b = t / per_image, r = t % per_image;
                        const int ty = (int)(r / TX), tx = (int)(r % TX);
                        rc_winograd_input_tile(x + b * in_image + (size_t)ig * GROUP * plane, v, ib, H, W, ty, tx, p, P);
                        for (int ko = 0; ko < ob; ko++)
                            rc_winograd_output_gradient_tile(gy + b * out_image + (size_t)(og * GROUP + ko) * plane, dm + (size_t)ko * P * RC_LANES, H,
                                                             W, ty, tx, p, (long)ob * P);
                    }
                    for (int ko = 0; ko < ob; ko++)
                        for (int ki = 0; ki < ib; ki++)
                            for (int xi = 0; xi < RC_WINOGRAD_POSITIONS; xi++) {
                                const float *v_block = v + ((size_t)xi * ib + ki) * P * RC_LANES, *dm_block = dm + ((size_t)xi * ob + ko) * P * RC_LANES;
                                float *into = part + ((size_t)ko * ib + ki) * pair_doubles + (size_t)xi * RC_WEIGHT_BLOCK;
                                if (ig * GROUP + ki == ICB - 1 && CL < RC_LANES) rc_winograd_gradient_gemm(v_block, dm_block, count, into, CL);
                                else rc_winograd_gradient_gemm(v_block, dm_block, count, into, RC_LANES);
                            }
                    summed += count;
                    const int done = first + count >= last;
                    if (summed + P > RC_WINOGRAD_GRADIENT_FLOAT_TILES || done) {
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
                            rc_winograd_gradient_store(gw, scratch + ((size_t)ocb * ICB + icb) * pair_doubles, O, I, ocb, icb);
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
            rc_winograd_gradient_store(gw, total, O, I, ocb, icb);
        }
}

#endif /* RC_WINOGRAD_KERNELS_H */
