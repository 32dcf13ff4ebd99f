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

#endif /* RC_WINOGRAD_KERNELS_H */
