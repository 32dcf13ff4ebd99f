/* Decoded image -> the network's input planes: channel conversion, antialiased bilinear resize
 * and centre crop, each matching what Pillow and torchvision compute (see image_codecs.h). */
#include "image_codecs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fixed-point weights carry 22 fractional bits: 8-bit samples times weights summing to one,
 * plus the rounding half, stay inside a signed 32-bit accumulator. */
#define WEIGHT_BITS 22

static int out_of_memory(char *message, size_t message_size) {
    snprintf(message, message_size, "out of memory while resizing");
    return -1;
}

/* The bilinear (triangle) filter: 1 - |x| inside [-1, 1]. */
static double triangle(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* One output coordinate's taps: source positions first .. first + count - 1 and their weights. */
typedef struct taps {
    int first, count;
} taps;

/* The taps of every output position when `in_size` samples become `out_size`; weights are
 * `width` per output, in fixed point. Shrinking widens the filter by the scale, so every source
 * sample contributes (antialiasing); enlarging keeps it one sample wide. */
static int make_taps(int in_size, int out_size, taps **spans, int **weights, int *width) {
    double scale = (double)in_size / out_size, filter_scale = scale < 1.0 ? 1.0 : scale;
    double support = filter_scale;
    *width = (int)ceil(support) * 2 + 1;
    *spans = malloc(sizeof **spans * (size_t)out_size);
    *weights = malloc(sizeof **weights * (size_t)out_size * (size_t)*width);
    double *raw = malloc(sizeof *raw * (size_t)*width);
    if (!*spans || !*weights || !raw) {
        free(*spans), free(*weights), free(raw);
        return -1;
    }
    for (int o = 0; o < out_size; o++) {
        double centre = (o + 0.5) * scale, total = 0.0;
        int first = (int)(centre - support + 0.5), end = (int)(centre + support + 0.5);
        if (first < 0) first = 0;
        if (end > in_size) end = in_size;
        int count = end - first;
        for (int t = 0; t < count; t++) total += raw[t] = triangle((first + t - centre + 0.5) / filter_scale);
        int *w = *weights + (size_t)o * (size_t)*width;
        for (int t = 0; t < *width; t++) {
            double normalised = t < count && total != 0.0 ? raw[t] / total : 0.0;
            w[t] = (int)(normalised * (1 << WEIGHT_BITS) + (normalised < 0 ? -0.5 : 0.5));
        }
        (*spans)[o] = (taps){first, count};
    }
    free(raw);
    return 0;
}

static unsigned char clamp_byte(int accumulator) {
    int value = accumulator >> WEIGHT_BITS;
    return value < 0 ? 0 : value > 255 ? 255 : (unsigned char)value;
}

/* Resamples `rows` rows of `in` (in_width pixels of `channels` bytes) to out_width pixels. */
static void resample_rows(const unsigned char *in, int in_width, int rows, int channels, unsigned char *out, int out_width,
                          const taps *spans, const int *weights, int width) {
    for (int y = 0; y < rows; y++)
        for (int o = 0; o < out_width; o++) {
            const int *w = weights + (size_t)o * (size_t)width;
            for (int c = 0; c < channels; c++) {
                int accumulator = 1 << (WEIGHT_BITS - 1);
                for (int t = 0; t < spans[o].count; t++)
                    accumulator += in[((size_t)y * (size_t)in_width + (size_t)(spans[o].first + t)) * (size_t)channels + (size_t)c] * w[t];
                out[((size_t)y * (size_t)out_width + (size_t)o) * (size_t)channels + (size_t)c] = clamp_byte(accumulator);
            }
        }
}

/* Resamples columns: `in` has in_height rows of `row_bytes`; out gets out_height rows. */
static void resample_columns(const unsigned char *in, size_t row_bytes, unsigned char *out, int out_height, const taps *spans,
                             const int *weights, int width) {
    for (int o = 0; o < out_height; o++) {
        const int *w = weights + (size_t)o * (size_t)width;
        for (size_t x = 0; x < row_bytes; x++) {
            int accumulator = 1 << (WEIGHT_BITS - 1);
            for (int t = 0; t < spans[o].count; t++) accumulator += in[(size_t)(spans[o].first + t) * row_bytes + x] * w[t];
            out[(size_t)o * row_bytes + x] = clamp_byte(accumulator);
        }
    }
}

/* Resizes an interleaved image to out_width x out_height: rows first, then columns. */
static unsigned char *resize(const unsigned char *in, int in_width, int in_height, int channels, int out_width, int out_height) {
    taps *row_spans = NULL, *column_spans = NULL;
    int *row_weights = NULL, *column_weights = NULL, row_width = 0, column_width = 0;
    unsigned char *across = NULL, *out = NULL;
    if (make_taps(in_width, out_width, &row_spans, &row_weights, &row_width) ||
        make_taps(in_height, out_height, &column_spans, &column_weights, &column_width))
        goto done;
    across = malloc((size_t)out_width * (size_t)in_height * (size_t)channels);
    out = malloc((size_t)out_width * (size_t)out_height * (size_t)channels);
    if (!across || !out) {
        free(out);
        out = NULL;
        goto done;
    }
    resample_rows(in, in_width, in_height, channels, across, out_width, row_spans, row_weights, row_width);
    resample_columns(across, (size_t)out_width * (size_t)channels, out, out_height, column_spans, column_weights, column_width);
done:
    free(row_spans), free(row_weights), free(column_spans), free(column_weights), free(across);
    return out;
}

/* (excess / 2) rounded half to even, as Python's round() in torchvision's CenterCrop. */
static int centre_offset(int excess) {
    int half = excess / 2;
    return excess % 2 == 1 && half % 2 == 1 ? half + 1 : half;
}

int rc_image_to_planes(const rc_image *image, int channels, int height, int width, unsigned char *planes, char *message,
                       size_t message_size) {
    /* Channel conversion first, as Pillow's convert() before torchvision's transforms. */
    size_t pixels = (size_t)image->width * (size_t)image->height;
    unsigned char *converted = malloc(pixels * (size_t)channels);
    if (!converted) return out_of_memory(message, message_size);
    for (size_t p = 0; p < pixels; p++) {
        const unsigned char *in = image->pixels + p * (size_t)image->channels;
        if (channels == image->channels) memcpy(converted + p * (size_t)channels, in, (size_t)channels);
        else if (channels == 1) converted[p] = (unsigned char)((in[0] * 19595 + in[1] * 38470 + in[2] * 7471 + 0x8000) >> 16);
        else memset(converted + p * 3, in[0], 3);
    }
    /* One scale for both sides so the image covers height x width: the binding side fits exactly,
     * the other is floor(side * scale), as torchvision's Resize. */
    long wide = width, high = height;
    if ((long)height * image->width >= (long)width * image->height)
        wide = (long)image->width * height / image->height;
    else
        high = (long)image->height * width / image->width;
    if (wide * high > RC_IMAGE_MAX_PIXELS) {
        free(converted);
        snprintf(message, message_size, "its %dx%d pixels would scale to %ldx%ld to cover %dx%d; the aspect ratio is too extreme",
                 image->width, image->height, wide, high, width, height);
        return -1;
    }
    int scaled_width = (int)wide, scaled_height = (int)high;
    unsigned char *scaled = converted;
    if (scaled_width != image->width || scaled_height != image->height) {
        scaled = resize(converted, image->width, image->height, channels, scaled_width, scaled_height);
        free(converted);
        if (!scaled) return out_of_memory(message, message_size);
    }
    int top = centre_offset(scaled_height - height), left = centre_offset(scaled_width - width);
    for (int c = 0; c < channels; c++)
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                planes[((size_t)c * (size_t)height + (size_t)y) * (size_t)width + (size_t)x] =
                    scaled[(((size_t)(top + y)) * (size_t)scaled_width + (size_t)(left + x)) * (size_t)channels + (size_t)c];
    free(scaled);
    return 0;
}
