// Convolution on top of the blocked SGEMM driver: the forward pass as an implicit GEMM whose A
// rows are read straight from a zero-padded input (kernel row by kernel row, or through a table of
// tap offsets for few channels),
// the weight gradient with the output gradient as a transposed A and patches gathered into B
// panels, and the helpers of the input gradient (flipped packed weights for stride 1, col2im for
// larger strides).
#include "bnn_sgemm_internal.h"

#include <stdlib.h>
#include <string.h>

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

size_t bnn_sconv_out_height(const bnn_conv_shape *s) {
    return (s->height + 2 * s->padding - s->kernel_h) / s->stride + 1;
}

size_t bnn_sconv_out_width(const bnn_conv_shape *s) {
    return (s->width + 2 * s->padding - s->kernel_w) / s->stride + 1;
}

/// Whether a kernel row (kW·C contiguous floats) is long enough to be a K block of its own; shorter
/// ones (few channels, such as the 3-channel stem) go through a table of tap offsets instead.
static int kernel_rows_are_blocks(const bnn_conv_shape *s) { return s->kernel_w * s->channels >= 64; }

size_t bnn_sconv_padded_count(const bnn_conv_shape *s) {
    return s->batch * (s->height + 2 * s->padding) * (s->width + 2 * s->padding) * s->channels;
}

void bnn_sconv_pad_input(const bnn_conv_shape *s, const float *input, size_t image0, size_t image1,
                         float *padded) {
    size_t c = s->channels, pad = s->padding;
    size_t hp = s->height + 2 * pad, wp = s->width + 2 * pad;
    for (size_t image = image0; image < image1; ++image) {
        float *dst = padded + image * hp * wp * c;
        memset(dst, 0, pad * wp * c * sizeof(float));
        for (size_t y = 0; y < s->height; ++y) {
            float *row = dst + (y + pad) * wp * c;
            memset(row, 0, pad * c * sizeof(float));
            memcpy(row + pad * c, input + (image * s->height + y) * s->width * c, s->width * c * sizeof(float));
            memset(row + (pad + s->width) * c, 0, pad * c * sizeof(float));
        }
        memset(dst + (pad + s->height) * wp * c, 0, pad * wp * c * sizeof(float));
    }
}

/// Position of an output pixel, advanced row-major over the batch without divisions.
typedef struct {
    size_t image, y, x;
} pixel_cursor;

static pixel_cursor cursor_at(size_t m, size_t oh, size_t ow) {
    pixel_cursor cursor = {m / (oh * ow), m % (oh * ow) / ow, m % ow};
    return cursor;
}

static void cursor_advance(pixel_cursor *cursor, size_t oh, size_t ow) {
    if (++cursor->x == ow) {
        cursor->x = 0;
        if (++cursor->y == oh) {
            cursor->y = 0;
            ++cursor->image;
        }
    }
}

/// Copies patch entries `[q0, q1)` (index `(ky·kW + kx)·C + c`) of one output pixel into `dst`,
/// zero outside the input; the taps of one kernel row that lie inside the input are one copy.
static void gather_patch(const bnn_conv_shape *s, const float *input, pixel_cursor at,
                         size_t q0, size_t q1, float *dst) {
    size_t channels = s->channels, kw = s->kernel_w;
    size_t row_length = kw * channels;
    ptrdiff_t x0 = (ptrdiff_t)(at.x * s->stride) - (ptrdiff_t)s->padding; // input column of kx = 0
    if (q0 == 0 && q1 == s->kernel_h * row_length) {
        // The whole patch: per kernel row, zeros left of the input, one copy, zeros right of it.
        size_t kx_begin = x0 < 0 ? (size_t)(-x0) : 0;
        ptrdiff_t inside_end = (ptrdiff_t)s->width - x0;
        size_t kx_end = inside_end < (ptrdiff_t)kw ? (inside_end > 0 ? (size_t)inside_end : 0) : kw;
        if (kx_begin > kx_end) kx_begin = kx_end;
        for (size_t ky = 0; ky < s->kernel_h; ++ky, dst += row_length) {
            ptrdiff_t iy = (ptrdiff_t)(at.y * s->stride + ky) - (ptrdiff_t)s->padding;
            if (iy < 0 || iy >= (ptrdiff_t)s->height || kx_begin == kx_end) {
                for (size_t i = 0; i < row_length; ++i) dst[i] = 0;
                continue;
            }
            const float *src = input + ((at.image * s->height + (size_t)iy) * s->width
                                        + (size_t)(x0 + (ptrdiff_t)kx_begin)) * channels;
            size_t left = kx_begin * channels, middle = (kx_end - kx_begin) * channels;
            for (size_t i = 0; i < left; ++i) dst[i] = 0;
            for (size_t i = 0; i < middle; ++i) dst[left + i] = src[i];
            for (size_t i = left + middle; i < row_length; ++i) dst[i] = 0;
        }
        return;
    }
    for (size_t q = q0; q < q1;) {
        size_t ky = q / row_length, within = q % row_length;
        ptrdiff_t iy = (ptrdiff_t)(at.y * s->stride + ky) - (ptrdiff_t)s->padding;
        ptrdiff_t ix = x0 + (ptrdiff_t)(within / channels);
        size_t run;
        if (iy >= 0 && iy < (ptrdiff_t)s->height && ix >= 0 && ix < (ptrdiff_t)s->width) {
            // Inside: the run continues over the following taps of this kernel row up to the edge.
            ptrdiff_t inside_end = (ptrdiff_t)s->width - x0; // first kx past the right edge
            size_t kx_end = inside_end < (ptrdiff_t)kw ? (size_t)inside_end : kw;
            run = min_size(kx_end * channels - within, q1 - q);
            const float *src = input + ((at.image * s->height + (size_t)iy) * s->width + (size_t)ix) * channels
                               + within % channels;
            if (run >= 64) {
                memcpy(dst, src, run * sizeof(float));
            } else {
                for (size_t i = 0; i < run; ++i) dst[i] = src[i];
            }
        } else {
            run = min_size(channels - within % channels, q1 - q);
            for (size_t i = 0; i < run; ++i) dst[i] = 0;
        }
        dst += run;
        q += run;
    }
}

/// Writes patch entries `[q0, q1)` (all within one tap, multiples of 16) of pixels `[p0, p0 + kc)`
/// straight into packed B panels, entry `q` of pixel `p0 + p` at `dst[(q − q0) / 16 · panel_stride
/// + p · 16 + (q − q0) % 16]`, zero outside the input. Tap by tap, consecutive pixels read
/// consecutive input pixels and write each panel row after row.
static void gather_tap_panels(const bnn_conv_shape *s, const float *input, size_t p0, size_t kc, size_t q0,
                              size_t q1, float *dst, size_t panel_stride) {
    size_t channels = s->channels, oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s);
    size_t tap = q0 / channels, c = q0 % channels, groups = (q1 - q0) / BNN_SGEMM_NR;
    ptrdiff_t ky = (ptrdiff_t)(tap / s->kernel_w) - (ptrdiff_t)s->padding;
    ptrdiff_t kx = (ptrdiff_t)(tap % s->kernel_w) - (ptrdiff_t)s->padding;
    pixel_cursor at = cursor_at(p0, oh, ow);
    for (size_t p = 0; p < kc; ++p, dst += BNN_SGEMM_NR) {
        ptrdiff_t iy = (ptrdiff_t)(at.y * s->stride) + ky, ix = (ptrdiff_t)(at.x * s->stride) + kx;
        if (iy >= 0 && iy < (ptrdiff_t)s->height && ix >= 0 && ix < (ptrdiff_t)s->width) {
            const float *src = input + ((at.image * s->height + (size_t)iy) * s->width + (size_t)ix) * channels + c;
            for (size_t g = 0; g < groups; ++g) {
                memcpy(dst + g * panel_stride, src + g * BNN_SGEMM_NR, BNN_SGEMM_NR * sizeof(float));
            }
        } else {
            for (size_t g = 0; g < groups; ++g) memset(dst + g * panel_stride, 0, BNN_SGEMM_NR * sizeof(float));
        }
        cursor_advance(&at, oh, ow);
    }
}

size_t bnn_sconv_rows_direct(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block,
                             const float **rows) {
    const bnn_sconv_direct_rows *ctx = context;
    const bnn_conv_shape *s = ctx->shape;
    pixel_cursor at = cursor_at(m, ctx->oh, ctx->ow);
    for (size_t i = 0; i < count; ++i) {
        size_t y = at.y * s->stride + block->tag, x = at.x * s->stride;
        rows[i] = ctx->padded + ((at.image * ctx->hp + y) * ctx->wp + x) * s->channels + block->offset;
        cursor_advance(&at, ctx->oh, ctx->ow);
    }
    return 1;
}

bnn_sgemm_kblock *bnn_sconv_direct_kblocks(const bnn_conv_shape *s, int pair_aligned, size_t *count, int32_t **taps) {
    const size_t segment = s->kernel_w * s->channels, k = s->kernel_h * segment;
    *count = 0;
    if (kernel_rows_are_blocks(s) && !(pair_aligned && segment % 2)) {
        bnn_sgemm_kblock *blocks = bnn_sgemm_alloc(s->kernel_h * ((segment + BNN_SGEMM_KC - 1) / BNN_SGEMM_KC)
                                                   * sizeof *blocks);
        for (size_t ky = 0; ky < s->kernel_h; ++ky) {
            *count = pair_aligned ? bnn_sgemm_split_k_even(ky * segment, segment, ky, blocks, *count)
                                  : bnn_sgemm_split_k(ky * segment, segment, ky, blocks, *count);
        }
        *taps = NULL;
        return blocks;
    }
    const size_t wp = s->width + 2 * s->padding;
    *taps = bnn_sgemm_alloc((k ? k : 1) * sizeof(int32_t));
    for (size_t ky = 0, q = 0; ky < s->kernel_h; ++ky) {
        for (size_t kx = 0; kx < s->kernel_w; ++kx) {
            for (size_t c = 0; c < s->channels; ++c) (*taps)[q++] = (int32_t)((ky * wp + kx) * s->channels + c);
        }
    }
    bnn_sgemm_kblock *blocks = bnn_sgemm_alloc(((k + BNN_SGEMM_KC - 1) / BNN_SGEMM_KC + 1) * sizeof *blocks);
    *count = pair_aligned ? bnn_sgemm_split_k_even(0, k, 0, blocks, 0) : bnn_sgemm_split_k(0, k, 0, blocks, 0);
    // Every block's rows start at the pixel's top-left tap (kernel row 0, offset 0); the table does the rest.
    for (size_t bi = 0; bi < *count; ++bi) {
        blocks[bi].a_offsets = *taps + blocks[bi].k0;
        blocks[bi].offset = 0;
    }
    return blocks;
}

bnn_sconv_direct_rows bnn_sconv_direct_rows_of(const bnn_conv_shape *s, const float *padded) {
    bnn_sconv_direct_rows ctx = {s, padded, bnn_sconv_out_height(s), bnn_sconv_out_width(s),
                                 s->height + 2 * s->padding, s->width + 2 * s->padding};
    return ctx;
}

void bnn_sconv_forward_direct(bnn_sgemm_kernel kernel, const bnn_conv_shape *s, const float *padded,
                              const float *packed_weight, float *output,
                              size_t m0, size_t m1, size_t n0, size_t n1) {
    size_t count;
    int32_t *taps;
    bnn_sgemm_kblock *blocks = bnn_sconv_direct_kblocks(s, 0, &count, &taps);
    bnn_sconv_direct_rows ctx = bnn_sconv_direct_rows_of(s, padded);
    bnn_sgemm_drive(bnn_sgemm_select(kernel), blocks, count, bnn_sconv_rows_direct, &ctx, packed_weight,
                    s->kernel_h * s->kernel_w * s->channels * BNN_SGEMM_NR, 0, output, s->out_channels, 0, m0, m1,
                    n0, n1);
    free(blocks);
    free(taps);
}

int bnn_sconv_prefers_unpacked_weight(const bnn_conv_shape *s) {
    return s->batch * bnn_sconv_out_height(s) * bnn_sconv_out_width(s) <= BNN_SGEMM_MC;
}

void bnn_sconv_forward_direct_small(bnn_sgemm_kernel kernel, const bnn_conv_shape *s, const float *padded,
                                    const float *weight, float *output, size_t m0, size_t m1, size_t n0, size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    const size_t k = s->kernel_h * s->kernel_w * s->channels;
    size_t count;
    int32_t *taps;
    bnn_sgemm_kblock *blocks = bnn_sconv_direct_kblocks(s, 0, &count, &taps);
    bnn_sconv_direct_rows ctx = bnn_sconv_direct_rows_of(s, padded);
    bnn_sgemm_microkernel_info micro = bnn_sgemm_select(kernel);
    // The (at most two) 16-column panels of one K block that a register tile spans: 32 KiB, in L1
    // while every row tile runs over them.
    float *panels = bnn_sgemm_alloc(2 * BNN_SGEMM_KC * BNN_SGEMM_NR * sizeof(float));
    const float *rows[BNN_SGEMM_MC + BNN_SGEMM_MR_MAX];
    for (size_t mb = m0; mb < m1; mb += BNN_SGEMM_MC) {
        size_t mc = min_size(BNN_SGEMM_MC, m1 - mb);
        for (size_t jr = n0; jr < n1; jr += micro.nr) {
            size_t nr = min_size(micro.nr, n1 - jr);
            for (size_t bi = 0; bi < count; ++bi) {
                const bnn_sgemm_kblock *block = &blocks[bi];
                bnn_sgemm_pack_b(1, nr, block->length, weight + jr * k + block->k0, k, 0,
                                 (nr + BNN_SGEMM_NR - 1) / BNN_SGEMM_NR, panels);
                size_t a_step = bnn_sconv_rows_direct(&ctx, mb, mc, block, rows);
                for (size_t r = mc; r < mc + BNN_SGEMM_MR_MAX; ++r) rows[r] = rows[0];
                for (size_t ir = 0; ir < mc; ir += micro.mr) {
                    micro.run(block->length, rows + ir, a_step, block->a_offsets, panels, block->length * BNN_SGEMM_NR,
                              output + (mb + ir) * s->out_channels + jr, s->out_channels, min_size(micro.mr, mc - ir),
                              nr, bi > 0);
                }
            }
        }
    }
    free(panels);
    free(blocks);
    free(taps);
}

void bnn_sconv_gather_patch_panels(const bnn_conv_shape *s, const float *input, size_t p0, size_t kc, size_t jc,
                                   size_t nc, float *b_block, size_t panel_stride, float *patch_row) {
    // Straight from the input when channels come in whole panels, else gathered into a row
    // (zero-padded to whole panels) and scattered.
    size_t panels = (nc + BNN_SGEMM_NR - 1) / BNN_SGEMM_NR;
    if (s->channels % BNN_SGEMM_NR == 0 && nc % BNN_SGEMM_NR == 0) {
        for (size_t q = jc; q < jc + nc;) {
            size_t end = min_size(jc + nc, (q / s->channels + 1) * s->channels);
            gather_tap_panels(s, input, p0, kc, q, end, b_block + (q - jc) / BNN_SGEMM_NR * panel_stride,
                              panel_stride);
            q = end;
        }
        return;
    }
    size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s);
    pixel_cursor at = cursor_at(p0, oh, ow);
    memset(patch_row + nc, 0, (panels * BNN_SGEMM_NR - nc) * sizeof(float));
    for (size_t p = 0; p < kc; ++p) {
        float *dst = b_block + p * BNN_SGEMM_NR;
        gather_patch(s, input, at, jc, jc + nc, patch_row);
        for (size_t j = 0; j < panels; ++j, dst += panel_stride) {
            memcpy(dst, patch_row + j * BNN_SGEMM_NR, BNN_SGEMM_NR * sizeof(float));
        }
        cursor_advance(&at, oh, ow);
    }
}

/// Panel source of the weight gradient: the patches of pixels `k0 ..< k0 + kc` (`pixel0` +
/// the K step), gathered from the unpadded input.
typedef struct {
    const bnn_conv_shape *shape;
    const float *input;
    size_t pixel0;
    float *patch_row;
} patch_panels;

static void pack_patch_panels(void *context, size_t k0, size_t kc, size_t j, size_t width, float *panels,
                              size_t panel_stride) {
    const patch_panels *ctx = context;
    bnn_sconv_gather_patch_panels(ctx->shape, ctx->input, ctx->pixel0 + k0, kc, j, width, panels, panel_stride,
                                  ctx->patch_row);
}

void bnn_sconv_backward_weight(bnn_sgemm_kernel kernel, const bnn_conv_shape *s, const float *input,
                               const float *output_gradient, float *weight_gradient, int accumulate,
                               size_t pixel0, size_t pixel1, size_t n0, size_t n1) {
    if (n0 >= n1) return;
    size_t o = s->out_channels, patch = s->kernel_h * s->kernel_w * s->channels;
    bnn_sgemm_microkernel_info micro = bnn_sgemm_select(kernel);
    float *a_block = o > BNN_SGEMM_DIRECT_LDA_MAX
                         ? bnn_sgemm_alloc((BNN_SGEMM_MC + BNN_SGEMM_MR_MAX) * BNN_SGEMM_KC * sizeof(float))
                         : NULL;
    float *panels = bnn_sgemm_alloc(BNN_SGEMM_PAIR_FLOATS * sizeof(float));
    float patch_row[2 * BNN_SGEMM_NR];
    // A is dYᵀ: the output gradient (pixels × O) read as a transposed O×pixels matrix.
    bnn_sgemm_transposed_rows ctx = {output_gradient, o, a_block};
    patch_panels source = {s, input, pixel0, patch_row};
    if (pixel0 >= pixel1) {
        bnn_sgemm_drive(micro, NULL, 0, bnn_sgemm_rows_transposed, &ctx, panels, 0, n0, weight_gradient, patch,
                        accumulate, 0, o, n0, n1);
    }
    for (size_t p0 = pixel0; p0 < pixel1; p0 += BNN_SGEMM_KC) {
        // Block k0 is relative to pixel0 for the patches; A starts at the block's first pixel.
        bnn_sgemm_kblock block = {p0 - pixel0, min_size(BNN_SGEMM_KC, pixel1 - p0), 0, 0, NULL};
        ctx.a = output_gradient + (p0 - block.k0) * o;
        bnn_sgemm_drive_packing(micro, &block, bnn_sgemm_rows_transposed, &ctx, pack_patch_panels, &source, panels,
                                weight_gradient, patch, accumulate || p0 > pixel0, 0, o, n0, n1);
    }
    free(panels);
    free(a_block);
}

void bnn_sconv_backward_weight_padded(bnn_sgemm_kernel kernel, const bnn_conv_shape *s, const float *padded,
                                      const float *output_gradient, float *weight_gradient, int accumulate,
                                      size_t pixel0, size_t pixel1, size_t n0, size_t n1) {
    size_t o = s->out_channels, c = s->channels, kw = s->kernel_w;
    size_t patch = s->kernel_h * kw * c;
    if (o == 0 || n0 >= n1) return;
    size_t rows_count = n1 - n0;
    size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s);
    size_t hp = s->height + 2 * s->padding, wp = s->width + 2 * s->padding;
    bnn_sgemm_microkernel_info micro = bnn_sgemm_select(kernel);
    size_t panel_count = (o + BNN_SGEMM_NR - 1) / BNN_SGEMM_NR;
    size_t panel_stride = (BNN_SGEMM_KC + 1) * BNN_SGEMM_NR;
    float *panels = bnn_sgemm_alloc(panel_count * panel_stride * sizeof(float));
    float *transposed = bnn_sgemm_alloc(rows_count * o * sizeof(float));
    int32_t offsets[BNN_SGEMM_KC];
    const float **rows = bnn_sgemm_alloc((rows_count + BNN_SGEMM_MR_MAX) * sizeof *rows);
    // Row r = (tap, channel) starts at the tap's place in the first padded window; the pixel's
    // offset moves it to the pixel's window.
    for (size_t r = n0; r < n1; ++r) {
        size_t tap = r / c;
        rows[r - n0] = padded + ((tap / kw) * wp + tap % kw) * c + r % c;
    }
    for (size_t r = rows_count; r < rows_count + BNN_SGEMM_MR_MAX; ++r) rows[r] = rows[0];
    if (pixel0 >= pixel1) memset(transposed, 0, rows_count * o * sizeof(float));
    for (size_t p0 = pixel0; p0 < pixel1; p0 += BNN_SGEMM_KC) {
        size_t kc = min_size(BNN_SGEMM_KC, pixel1 - p0);
        pixel_cursor at = cursor_at(p0, oh, ow);
        for (size_t p = 0; p < kc; ++p) {
            offsets[p] = (int32_t)(((at.image * hp + at.y * s->stride) * wp + at.x * s->stride) * c);
            const float *dy = output_gradient + (p0 + p) * o;
            for (size_t j = 0; j < panel_count; ++j) {
                float *row = panels + j * panel_stride + p * BNN_SGEMM_NR;
                size_t width = min_size(BNN_SGEMM_NR, o - j * BNN_SGEMM_NR);
                if (width == BNN_SGEMM_NR) {
                    memcpy(row, dy + j * BNN_SGEMM_NR, BNN_SGEMM_NR * sizeof(float));
                } else {
                    bnn_sgemm_copy_panel_row(row, dy + j * BNN_SGEMM_NR, width);
                }
            }
            cursor_advance(&at, oh, ow);
        }
        // Each row tile's taps stay in L1 while it meets every panel of the output gradient.
        for (size_t ir = 0; ir < rows_count; ir += micro.mr) {
            for (size_t jr = 0; jr < o; jr += micro.nr) {
                micro.run(kc, rows + ir, 0, offsets, panels + jr / BNN_SGEMM_NR * panel_stride, panel_stride,
                          transposed + ir * o + jr, o, min_size(micro.mr, rows_count - ir),
                          min_size(micro.nr, o - jr), p0 > pixel0);
            }
        }
    }
    for (size_t oc = 0; oc < o; ++oc) {
        float *dst = weight_gradient + oc * patch + n0;
        const float *src = transposed + oc;
        if (accumulate) {
            for (size_t r = 0; r < rows_count; ++r) dst[r] += src[r * o];
        } else {
            for (size_t r = 0; r < rows_count; ++r) dst[r] = src[r * o];
        }
    }
    free(rows);
    free(transposed);
    free(panels);
}

void bnn_sconv_pack_flipped_weight(const bnn_conv_shape *s, const float *weight, size_t panel0, size_t panel1,
                                   float *packed) {
    size_t o = s->out_channels, c = s->channels, kh = s->kernel_h, kw = s->kernel_w;
    size_t k = kh * kw * o;
    for (size_t panel = panel0; panel < panel1; ++panel) {
        size_t c0 = panel * BNN_SGEMM_NR;
        size_t width = c0 < c ? min_size(BNN_SGEMM_NR, c - c0) : 0;
        float *dst = packed + panel * k * BNN_SGEMM_NR;
        for (size_t ty = 0; ty < kh; ++ty) {
            for (size_t tx = 0; tx < kw; ++tx) {
                for (size_t oc = 0; oc < o; ++oc, dst += BNN_SGEMM_NR) {
                    const float *src = weight + ((oc * kh + (kh - 1 - ty)) * kw + (kw - 1 - tx)) * c + c0;
                    bnn_sgemm_copy_panel_row(dst, src, width);
                }
            }
        }
    }
}

void bnn_sconv_col2im(const bnn_conv_shape *s, const float *columns, size_t image,
                      float *input_gradient, size_t c0, size_t c1) {
    size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s);
    size_t c = s->channels, patch = s->kernel_h * s->kernel_w * c;
    float *base = input_gradient + image * s->height * s->width * c;
    for (size_t oy = 0; oy < oh; ++oy) {
        for (size_t ox = 0; ox < ow; ++ox) {
            const float *src = columns + (oy * ow + ox) * patch;
            for (size_t ky = 0; ky < s->kernel_h; ++ky) {
                ptrdiff_t iy = (ptrdiff_t)(oy * s->stride + ky) - (ptrdiff_t)s->padding;
                for (size_t kx = 0; kx < s->kernel_w; ++kx, src += c) {
                    ptrdiff_t ix = (ptrdiff_t)(ox * s->stride + kx) - (ptrdiff_t)s->padding;
                    if (iy < 0 || iy >= (ptrdiff_t)s->height || ix < 0 || ix >= (ptrdiff_t)s->width) continue;
                    float *dst = base + ((size_t)iy * s->width + (size_t)ix) * c;
                    for (size_t ch = c0; ch < c1; ++ch) dst[ch] += src[ch];
                }
            }
        }
    }
}
