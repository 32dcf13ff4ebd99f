/* Image files to network inputs: PNG and JPEG decoded through libpng and libjpeg-turbo, then
 * converted to the spec's channels, resized and centre-cropped to its input, as 8-bit planes.
 *
 * The conventions follow what a PyTorch user gets from torchvision with Pillow, so images prepared
 * either way agree: grey from colour is Pillow's convert("L") (ITU-R 601-2 luma, rounded), the
 * resize is Pillow's antialiased bilinear filter (its support widened by the scale when
 * shrinking, 22-bit fixed-point weights, horizontal pass first), and the size and crop are
 * torchvision's Resize(shorter side) and CenterCrop. */
#ifndef RESNETC_IMAGE_CODECS_H
#define RESNETC_IMAGE_CODECS_H

#include <stddef.h>

/* A decoded image: rows top to bottom, `channels` interleaved bytes per pixel (1 grey, 3 RGB). */
typedef struct rc_image {
    int width, height, channels;
    unsigned char *pixels;
} rc_image;

/* The largest image rc_image_decode accepts, in pixels: a header promising more is refused
 * before anything is allocated (a 40-byte PNG can claim 2^31 x 2^31). */
#define RC_IMAGE_MAX_PIXELS (1L << 28)

/* Decodes a PNG or JPEG held in memory, told apart by their signatures, not by a file name.
 * Grey stays grey (channels 1), colour becomes RGB (channels 3); alpha is dropped, palettes are
 * expanded, samples below 8 bits are scaled up and 16-bit samples keep their high byte. A
 * truncated file is an error, as in Pillow. Returns 0 and fills *image (release it with
 * rc_image_free), or -1 with a sentence in message[0..message_size). */
int rc_image_decode(const unsigned char *bytes, size_t size, rc_image *image, char *message, size_t message_size);

void rc_image_free(rc_image *image);

/* Writes `image` as channels x height x width bytes (planes, channel first) into `planes`:
 * converted to `channels` (1 or 3), scaled by one factor so it covers height x width (the
 * shorter side fitting exactly, as torchvision's Resize(int) for a square input), then cropped
 * to the centre. Returns 0, or -1 with a sentence in message when memory runs out. */
int rc_image_to_planes(const rc_image *image, int channels, int height, int width, unsigned char *planes,
                       char *message, size_t message_size);

#endif
