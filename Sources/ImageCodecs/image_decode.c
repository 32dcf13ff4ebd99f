/* PNG and JPEG decoding through libpng and libjpeg-turbo. Both libraries report fatal errors by
 * longjmp to a point set here, so every failure, a truncated file included, comes back as -1
 * with the library's own message rather than a crash or an exit. */
#include "image_codecs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

static int fail(char *message, size_t message_size, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, message_size, format, arguments);
    va_end(arguments);
    return -1;
}

/* Allocates width x height x channels bytes, refusing sizes past RC_IMAGE_MAX_PIXELS. */
static int allocate(rc_image *image, long width, long height, int channels, char *message, size_t message_size) {
    if (width <= 0 || height <= 0) return fail(message, message_size, "its header gives a size of %ldx%ld pixels", width, height);
    if (width > RC_IMAGE_MAX_PIXELS / height)
        return fail(message, message_size, "its header gives %ldx%ld pixels, more than the %ld resnetc decodes", width, height,
                    (long)RC_IMAGE_MAX_PIXELS);
    image->pixels = malloc((size_t)width * (size_t)height * (size_t)channels);
    if (!image->pixels) return fail(message, message_size, "out of memory for %ldx%ld pixels", width, height);
    image->width = (int)width;
    image->height = (int)height;
    image->channels = channels;
    return 0;
}

/* ---- PNG ---------------------------------------------------------------------------------- */

/* The bytes libpng reads from, and where its errors go. */
typedef struct png_source {
    const unsigned char *bytes;
    size_t size, offset;
    jmp_buf failed;
    char *message;
    size_t message_size;
} png_source;

static void png_read_bytes(png_structp png, png_bytep out, size_t count) {
    png_source *source = png_get_io_ptr(png);
    if (count > source->size - source->offset) png_error(png, "the file is truncated");
    memcpy(out, source->bytes + source->offset, count);
    source->offset += count;
}

static void png_failed(png_structp png, png_const_charp text) {
    png_source *source = png_get_error_ptr(png);
    snprintf(source->message, source->message_size, "PNG: %s", text);
    longjmp(source->failed, 1);
}

static void png_warned(png_structp png, png_const_charp text) { (void)png, (void)text; }

static int decode_png(const unsigned char *bytes, size_t size, rc_image *image, char *message, size_t message_size) {
    png_source source = {bytes, size, 0, {{0}}, message, message_size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_failed, png_warned);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return fail(message, message_size, "out of memory for libpng");
    }
    png_bytep *volatile rows = NULL; /* assigned after setjmp, read after longjmp */
    image->pixels = NULL;
    if (setjmp(source.failed)) {
        free(rows);
        rc_image_free(image);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &source, png_read_bytes);
    png_read_info(png, info);
    int colour = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    if (channels != 1 && channels != 3) png_error(png, "unexpected channel count after conversion");
    if (allocate(image, (long)png_get_image_width(png, info), (long)png_get_image_height(png, info), channels, message, message_size))
        longjmp(source.failed, 1);
    rows = malloc(sizeof *rows * (size_t)image->height);
    if (!rows) png_error(png, "out of memory for the row table");
    for (int y = 0; y < image->height; y++) rows[y] = image->pixels + (size_t)y * (size_t)image->width * (size_t)channels;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

/* ---- JPEG --------------------------------------------------------------------------------- */

/* libjpeg's error manager, extended with the jump back to decode_jpeg. */
typedef struct jpeg_failure {
    struct jpeg_error_mgr manager;
    jmp_buf failed;
    char *message;
    size_t message_size;
} jpeg_failure;

static void jpeg_failed(j_common_ptr jpeg) {
    jpeg_failure *failure = (jpeg_failure *)jpeg->err;
    char text[JMSG_LENGTH_MAX];
    failure->manager.format_message(jpeg, text);
    snprintf(failure->message, failure->message_size, "JPEG: %s", text);
    longjmp(failure->failed, 1);
}

/* Warnings are ignored except a premature end of data: libjpeg would fill the rest with grey,
 * Pillow refuses the file, and so does resnetc. */
static void jpeg_warned(j_common_ptr jpeg, int level) {
    if (level < 0 && jpeg->err->msg_code == JWRN_JPEG_EOF) jpeg_failed(jpeg);
}

static int decode_jpeg(const unsigned char *bytes, size_t size, rc_image *image, char *message, size_t message_size) {
    struct jpeg_decompress_struct jpeg;
    jpeg_failure failure;
    jpeg.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_failed;
    failure.manager.emit_message = jpeg_warned;
    failure.message = message;
    failure.message_size = message_size;
    image->pixels = NULL;
    if (setjmp(failure.failed)) {
        rc_image_free(image);
        jpeg_destroy_decompress(&jpeg);
        return -1;
    }
    jpeg_create_decompress(&jpeg);
    jpeg_mem_src(&jpeg, bytes, (unsigned long)size);
    jpeg_read_header(&jpeg, TRUE);
    switch (jpeg.jpeg_color_space) {
    case JCS_GRAYSCALE: jpeg.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK:
        snprintf(message, message_size, "JPEG: CMYK images are not supported; save it as RGB");
        longjmp(failure.failed, 1);
    default: jpeg.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&jpeg);
    if (allocate(image, (long)jpeg.output_width, (long)jpeg.output_height, jpeg.output_components, message, message_size))
        longjmp(failure.failed, 1);
    size_t stride = (size_t)image->width * (size_t)image->channels;
    while (jpeg.output_scanline < jpeg.output_height) {
        JSAMPROW row = image->pixels + (size_t)jpeg.output_scanline * stride;
        jpeg_read_scanlines(&jpeg, &row, 1);
    }
    jpeg_finish_decompress(&jpeg);
    jpeg_destroy_decompress(&jpeg);
    return 0;
}

int rc_image_decode(const unsigned char *bytes, size_t size, rc_image *image, char *message, size_t message_size) {
    static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    image->pixels = NULL;
    if (size >= 8 && memcmp(bytes, png_signature, 8) == 0) return decode_png(bytes, size, image, message, message_size);
    if (size >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) return decode_jpeg(bytes, size, image, message, message_size);
    if (size == 0) return fail(message, message_size, "the file is empty");
    return fail(message, message_size, "it is neither PNG nor JPEG (its first bytes are %02x %02x %02x)", bytes[0],
                size > 1 ? bytes[1] : 0, size > 2 ? bytes[2] : 0);
}

void rc_image_free(rc_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}
