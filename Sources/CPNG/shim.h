// Safe PNG decoding for BNNData on top of libpng.
//
// libpng reports errors by longjmp to png_jmpbuf; these helpers keep that inside one C function and
// turn it into an error code plus a NUL-terminated message (BNN_PNG_MESSAGE_LENGTH bytes). Every
// function returns 0 on success.
#ifndef BNN_CPNG_SHIM_H
#define BNN_CPNG_SHIM_H

#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

#define BNN_PNG_MESSAGE_LENGTH 256

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    char *message;
} bnn_png_reader;

static void bnn_png_read(png_structp png, png_bytep out, size_t length) {
    bnn_png_reader *reader = (bnn_png_reader *)png_get_io_ptr(png);
    if (reader->size - reader->offset < length) {
        png_error(png, "file truncated (premature end of PNG data)");
    }
    memcpy(out, reader->data + reader->offset, length);
    reader->offset += length;
}

static void bnn_png_error(png_structp png, png_const_charp text) {
    bnn_png_reader *reader = (bnn_png_reader *)png_get_error_ptr(png);
    snprintf(reader->message, BNN_PNG_MESSAGE_LENGTH, "%s", text);
    png_longjmp(png, 1);
}

static void bnn_png_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

/// Reads the image size from a PNG held in memory.
static inline int bnn_png_read_size(const unsigned char *data, size_t size, unsigned *width, unsigned *height,
                                    char *message) {
    bnn_png_reader reader = { data, size, 0, message };
    message[0] = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, bnn_png_error, bnn_png_warning);
    if (png == NULL) { snprintf(message, BNN_PNG_MESSAGE_LENGTH, "cannot create a PNG reader"); return 1; }
    png_infop info = png_create_info_struct(png);
    if (info == NULL || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        return 1;
    }
    png_set_read_fn(png, &reader, bnn_png_read);
    png_read_info(png, info);
    *width = png_get_image_width(png, info);
    *height = png_get_image_height(png, info);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

/// Decodes a whole PNG into `out`, `width * height * 3` bytes of RGB (the size from bnn_png_read_size).
///
/// Palette, gray and low-bit images are expanded to 8-bit RGB, 16-bit samples keep their high byte
/// and alpha (or a tRNS chunk) is dropped, as Pillow's `convert("RGB")` does. Gamma is not applied.
static inline int bnn_png_decode_rgb(const unsigned char *data, size_t size, unsigned width, unsigned height,
                                     unsigned char *out, char *message) {
    bnn_png_reader reader = { data, size, 0, message };
    png_bytep *volatile rows = NULL;
    message[0] = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, bnn_png_error, bnn_png_warning);
    if (png == NULL) { snprintf(message, BNN_PNG_MESSAGE_LENGTH, "cannot create a PNG reader"); return 1; }
    png_infop info = png_create_info_struct(png);
    if (info == NULL || setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        return 1;
    }
    png_set_read_fn(png, &reader, bnn_png_read);
    png_read_info(png, info);
    if (png_get_image_width(png, info) != width || png_get_image_height(png, info) != height) {
        png_error(png, "image size differs from the size read before");
    }
    int color_type = png_get_color_type(png, info);
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 3) {
        png_error(png, "unexpected row layout after conversion to RGB");
    }
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (rows == NULL) { png_error(png, "out of memory for row pointers"); }
    for (unsigned r = 0; r < height; r++) { rows[r] = out + (size_t)r * width * 3; }
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    rows = NULL;
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

#endif
