// Safe JPEG decoding for BNNData on top of libjpeg-turbo.
//
// libjpeg's default error handler calls exit(); these helpers install an error manager that
// longjmps back into the calling function instead, so a corrupt file becomes an error code and a
// message. "Premature end of JPEG file" (a libjpeg warning that would otherwise yield a grey-filled
// image) is treated as an error too, as Pillow does. Every function returns 0 on success and a
// non-zero code with a NUL-terminated message in `message` (BNN_JPEG_MESSAGE_LENGTH bytes) on failure.
#ifndef BNN_CJPEG_SHIM_H
#define BNN_CJPEG_SHIM_H

#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

#define BNN_JPEG_MESSAGE_LENGTH 256

/// Header facts of a JPEG stream.
typedef struct {
    unsigned width, height;     ///< full-size dimensions in pixels
    int components;             ///< colour components in the file (1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK)
    int color_space;            ///< J_COLOR_SPACE of the file
    int progressive;            ///< 1 for progressive JPEGs
} bnn_jpeg_info;

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
} bnn_jpeg_error_mgr;

static void bnn_jpeg_error_exit(j_common_ptr cinfo) {
    bnn_jpeg_error_mgr *err = (bnn_jpeg_error_mgr *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(err->message, BNN_JPEG_MESSAGE_LENGTH, "%s", text);
    longjmp(err->jump, 1);
}

static void bnn_jpeg_emit_message(j_common_ptr cinfo, int level) {
    // Warnings (level -1) are ignored except a truncated stream, which is fatal.
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        bnn_jpeg_error_exit(cinfo);
    }
}

static void bnn_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static inline void bnn_jpeg_install_errors(struct jpeg_decompress_struct *cinfo, bnn_jpeg_error_mgr *err,
                                           char *message) {
    cinfo->err = jpeg_std_error(&err->base);
    err->base.error_exit = bnn_jpeg_error_exit;
    err->base.emit_message = bnn_jpeg_emit_message;
    err->base.output_message = bnn_jpeg_output_message;
    err->message = message;
    message[0] = 0;
}

/// The size of one dimension after DCT scaling by `num`/8 (libjpeg rounds up).
static inline unsigned bnn_jpeg_scaled_dimension(unsigned dimension, unsigned num) {
    return (dimension * num + 7) / 8;
}

/// Reads the header of a JPEG held in memory.
static inline int bnn_jpeg_read_info(const unsigned char *data, size_t size, bnn_jpeg_info *info, char *message) {
    struct jpeg_decompress_struct cinfo;
    bnn_jpeg_error_mgr err;
    bnn_jpeg_install_errors(&cinfo, &err, message);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    info->width = cinfo.image_width;
    info->height = cinfo.image_height;
    info->components = cinfo.num_components;
    info->color_space = (int)cinfo.jpeg_color_space;
    info->progressive = cinfo.progressive_mode ? 1 : 0;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

/// Decodes the pixels [x, x + width) × [y, y + height) of a JPEG scaled by `scale_num`/8 (1...8;
/// the region is in scaled coordinates) into `out`, `width * height * 3` bytes of RGB.
///
/// Gray images are replicated to RGB; CMYK and YCCK are converted with Pillow's formula
/// R = (255 − K) − C·(255 − K)/255 (likewise G, B), the stored values read as inverted ink when the
/// file has an Adobe APP14 marker (as Photoshop writes them and Pillow reads them).
/// Only the columns around the region are colour-converted (jpeg_crop_scanline) and decoding stops
/// after its last row. Decoding uses the accurate integer IDCT and fancy upsampling (libjpeg defaults,
/// as Pillow) so pixels equal a full decode.
static inline int bnn_jpeg_decode_region(const unsigned char *data, size_t size, unsigned scale_num,
                                         unsigned x, unsigned y, unsigned width, unsigned height,
                                         unsigned char *out, char *message) {
    struct jpeg_decompress_struct cinfo;
    bnn_jpeg_error_mgr err;
    JSAMPLE *volatile row = NULL;
    bnn_jpeg_install_errors(&cinfo, &err, message);
    if (setjmp(err.jump)) {
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    int channels;
    int cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; channels = 1; break;
    case JCS_CMYK: case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; channels = 4; cmyk = 1; break;
    default: cinfo.out_color_space = JCS_RGB; channels = 3; break;
    }
    cinfo.scale_num = scale_num;
    cinfo.scale_denom = 8;
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&cinfo);
    if (x + width > cinfo.output_width || y + height > cinfo.output_height || width == 0 || height == 0) {
        snprintf(message, BNN_JPEG_MESSAGE_LENGTH, "region %ux%u at (%u, %u) outside the %ux%u decoded image",
                 width, height, x, y, cinfo.output_width, cinfo.output_height);
        jpeg_abort_decompress(&cinfo);
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    // Crop one pixel wider than asked on each side (where possible) so the upsampler's edge
    // replication at the crop boundary never touches the pixels we keep.
    JDIMENSION crop_x = x > 0 ? x - 1 : 0;
    JDIMENSION crop_end = x + width < cinfo.output_width ? x + width + 1 : cinfo.output_width;
    JDIMENSION crop_width = crop_end - crop_x;
    if (crop_x > 0 || crop_width < cinfo.output_width) {
        jpeg_crop_scanline(&cinfo, &crop_x, &crop_width);
    }
    unsigned skip = x - crop_x;
    row = (JSAMPLE *)malloc((size_t)cinfo.output_width * channels);
    if (row == NULL) {
        snprintf(message, BNN_JPEG_MESSAGE_LENGTH, "out of memory for a %u-pixel row", cinfo.output_width);
        jpeg_abort_decompress(&cinfo);
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }
    // Rows above the region: skipped (entropy-decoded only) when not needed as upsampling context.
    if (y > 1) {
        JDIMENSION to_skip = y - 1;
        JDIMENSION skipped = jpeg_skip_scanlines(&cinfo, to_skip);
        (void)skipped;
    }
    while (cinfo.output_scanline < y) {
        JSAMPROW rows[1] = { row };
        jpeg_read_scanlines(&cinfo, rows, 1);
    }
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    for (unsigned r = 0; r < height; r++) {
        JSAMPROW rows[1] = { row };
        jpeg_read_scanlines(&cinfo, rows, 1);
        const JSAMPLE *src = row + (size_t)skip * channels;
        unsigned char *dst = out + (size_t)r * width * 3;
        if (channels == 3) {
            memcpy(dst, src, (size_t)width * 3);
        } else if (channels == 1) {
            for (unsigned i = 0; i < width; i++) { dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = src[i]; }
        } else {
            for (unsigned i = 0; i < width; i++) {
                // Ink amounts; Adobe files store 255 - ink. Then Pillow's cmyk2rgb: R = nk - C*nk/255.
                unsigned c = src[4 * i], m = src[4 * i + 1], yy = src[4 * i + 2], k = src[4 * i + 3];
                if (inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                unsigned nk = 255 - k, t;
                t = c * nk + 128; dst[3 * i] = (unsigned char)(nk - (((t >> 8) + t) >> 8));
                t = m * nk + 128; dst[3 * i + 1] = (unsigned char)(nk - (((t >> 8) + t) >> 8));
                t = yy * nk + 128; dst[3 * i + 2] = (unsigned char)(nk - (((t >> 8) + t) >> 8));
            }
        }
    }
    free(row);
    row = NULL;
    jpeg_abort_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

#endif
