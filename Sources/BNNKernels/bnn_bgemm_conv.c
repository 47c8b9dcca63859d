// bfloat16 convolution passes on top of the bfloat16 driver and the single-precision convolution
// plumbing: the direct forward pass reads the same padded-input rows as `bnn_sconv_forward_direct`
// from a copy of the padded input rounded once per call; the weight gradient gathers the same patch panels as
// `bnn_sconv_backward_weight` and rounds each block into K-step pairs.
#include "bnn_bgemm_internal.h"

#include <stdlib.h>
#include <string.h>

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

static int reads_patches_through_pair_table(const bnn_conv_shape *s);

void bnn_bgemm_pack_from_panels(const float *panels, size_t k, size_t panel0, size_t panel1, uint16_t *packed) {
    const size_t pairs = (k + 1) / 2;
    static const float zeros[BNN_SGEMM_NR] = {0};
    for (size_t panel = panel0; panel < panel1; ++panel) {
        const float *src = panels + panel * k * BNN_SGEMM_NR;
        uint32_t *dst = (uint32_t *)(void *)(packed + panel * pairs * 2 * BNN_BGEMM_NR);
        for (size_t q = 0; q < pairs; ++q, dst += BNN_BGEMM_NR) {
            const float *low = src + 2 * q * BNN_SGEMM_NR, *high = 2 * q + 1 < k ? low + BNN_SGEMM_NR : zeros;
            for (size_t j = 0; j < BNN_BGEMM_NR; ++j) dst[j] = bnn_bgemm_pair(low[j], high[j]);
        }
    }
}

/// Whether patches may start at odd positions of the rounded input (odd C and stride), so that
/// `bnn_bconv_pad_round_input` adds a copy shifted by one value, in which they start on whole pairs.
static int has_shifted_copy(const bnn_conv_shape *s) {
    return (s->stride * s->channels) % 2 == 1 && reads_patches_through_pair_table(s);
}

/// Where the shifted copy begins: after the padded input and two zeros, on a whole pair.
static size_t shifted_copy_start(const bnn_conv_shape *s) { return (bnn_sconv_padded_count(s) + 1) / 2 * 2 + 2; }

size_t bnn_bconv_rounded_count(const bnn_conv_shape *s) {
    const size_t count = bnn_sconv_padded_count(s);
    return has_shifted_copy(s) ? shifted_copy_start(s) + count + 3 : count + 2;
}

void bnn_bconv_pad_round_input(const bnn_conv_shape *s, const float *input, size_t image0, size_t image1,
                               uint16_t *rounded) {
    const size_t c = s->channels, pad = s->padding, hp = s->height + 2 * pad, wp = s->width + 2 * pad;
    const size_t count = bnn_sconv_padded_count(s), image_count = hp * wp * c;
    for (size_t image = image0; image < image1; ++image) {
        uint16_t *dst = rounded + image * image_count;
        memset(dst, 0, pad * wp * c * sizeof(uint16_t));
        for (size_t y = 0; y < s->height; ++y) {
            uint16_t *row = dst + (pad + y) * wp * c;
            memset(row, 0, pad * c * sizeof(uint16_t));
            bnn_bf16_round(input + (image * s->height + y) * s->width * c, row + pad * c, s->width * c);
            memset(row + (pad + s->width) * c, 0, pad * c * sizeof(uint16_t));
        }
        memset(dst + (pad + s->height) * wp * c, 0, pad * wp * c * sizeof(uint16_t));
    }
    // The zeros after each copy (a kernel row of odd length is read with the value after it).
    const int last = image1 == s->batch && image0 < image1;
    if (last || s->batch == 0) memset(rounded + count, 0, 2 * sizeof(uint16_t));
    if (!has_shifted_copy(s)) return;
    uint16_t *shifted = rounded + shifted_copy_start(s) + 1;
    if (image0 < image1) {
        memcpy(shifted + image0 * image_count, rounded + image0 * image_count,
               (image1 - image0) * image_count * sizeof(uint16_t));
    }
    if (image0 == 0) shifted[-1] = 0;
    if (last || s->batch == 0) memset(shifted + count, 0, 2 * sizeof(uint16_t));
}

/// The rows of the direct pass over a padded input rounded to bfloat16.
typedef struct {
    const bnn_conv_shape *shape;
    const uint16_t *rounded;
    size_t oh, ow, hp, wp;
} rounded_direct_rows;

/// The `bnn_bgemm_rows` of a `rounded_direct_rows` context: kernel row `block->tag` of a pixel's
/// patch is kW·C contiguous values of the rounded input, read in place when it is whole pairs (an
/// even channel count), else copied into `scratch`, element `p` from `a_offsets[p]` for a block
/// with a tap table.
static size_t rounded_rows(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block, uint16_t *scratch,
                           size_t stride, const uint32_t **rows) {
    const rounded_direct_rows *ctx = context;
    const bnn_conv_shape *s = ctx->shape;
    const size_t length = block->length;
    const int in_place = !block->a_offsets && length % 2 == 0 && s->channels % 2 == 0 && block->offset % 2 == 0;
    size_t image = m / (ctx->oh * ctx->ow), y = m % (ctx->oh * ctx->ow) / ctx->ow, x = m % ctx->ow;
    for (size_t i = 0; i < count; ++i) {
        const uint16_t *row = ctx->rounded
            + ((image * ctx->hp + y * s->stride + block->tag) * ctx->wp + x * s->stride) * s->channels + block->offset;
        if (in_place) {
            rows[i] = (const uint32_t *)(const void *)row;
        } else {
            uint16_t *out = scratch + i * stride;
            if (block->a_offsets) {
                for (size_t p = 0; p < length; ++p) out[p] = row[block->a_offsets[p]];
            } else {
                memcpy(out, row, length * sizeof(uint16_t));
            }
            if (length % 2) out[length] = 0;
            rows[i] = (const uint32_t *)(const void *)out;
        }
        if (++x == ctx->ow) {
            x = 0;
            if (++y == ctx->oh) y = 0, ++image;
        }
    }
    return 1;
}

/// Whether the weight operand of the direct pass has a zero step after every kernel row: short rows
/// (fewer than 64 values, which are not K blocks of their own) of odd length kW·C, read in place
/// with the value after them (`reads_patches_through_pair_table`). Depends only on the kernel.
static int has_gapped_rows(const bnn_conv_shape *s) {
    const size_t segment = s->kernel_w * s->channels;
    return segment % 2 && segment < 64 && s->kernel_h * (segment + 1) / 2 <= BNN_SGEMM_KC;
}

/// Whether the direct pass reads the patches of `s` in place through a table of pair offsets, one
/// micro-kernel call over the whole patch: short kernel rows whose starts lie whole pairs apart
/// down the padded input (`(W + 2·pad)·C` even). A patch that starts at an odd position is read
/// from the copy shifted by one value (`has_shifted_copy`); a row of odd length with the value after
/// it (in bounds: the next padded row, or the zeros after the copy) against the zero weight step of
/// `has_gapped_rows`.
static int reads_patches_through_pair_table(const bnn_conv_shape *s) {
    const size_t segment = s->kernel_w * s->channels, wp = s->width + 2 * s->padding;
    const size_t pairs = s->kernel_h * ((segment + 1) / 2);
    return segment > 0 && segment < 64 && pairs <= BNN_SGEMM_KC && (wp * s->channels) % 2 == 0;
}

size_t bnn_bconv_direct_patch_size(const bnn_conv_shape *s) {
    const size_t segment = s->kernel_w * s->channels;
    return s->kernel_h * (has_gapped_rows(s) ? segment + 1 : segment);
}

void bnn_bconv_pack_direct_weight(const bnn_conv_shape *s, const float *weight, size_t panel0, size_t panel1,
                                  uint16_t *packed) {
    const size_t segment = s->kernel_w * s->channels, k = s->kernel_h * segment, o = s->out_channels;
    if (!has_gapped_rows(s)) {
        bnn_bgemm_pack_b(1, o, k, weight, k, panel0, panel1, packed);
        return;
    }
    // Kernel row ky is pairs [ky·row_pairs, (ky + 1)·row_pairs); its last pair's high step is 0.
    const size_t row_pairs = (segment + 1) / 2, panel_pairs = s->kernel_h * row_pairs;
    for (size_t panel = panel0; panel < panel1; ++panel) {
        uint32_t *dst = (uint32_t *)(void *)(packed + panel * panel_pairs * 2 * BNN_BGEMM_NR);
        for (size_t ky = 0; ky < s->kernel_h; ++ky) {
            for (size_t q = 0; q < row_pairs; ++q, dst += BNN_BGEMM_NR) {
                for (size_t j = 0; j < BNN_BGEMM_NR; ++j) {
                    const size_t column = panel * BNN_BGEMM_NR + j, step = ky * segment + 2 * q;
                    const float *w = weight + column * k;
                    dst[j] = column < o ? bnn_bgemm_pair(w[step], 2 * q + 1 < segment ? w[step + 1] : 0) : 0;
                }
            }
        }
    }
}

/// The direct pass through a table of pair offsets (`reads_patches_through_pair_table`): tiles of
/// `table_mr` output pixels (`table_mr_narrow` for 16 channels or fewer), each row pointer at the pixel's top-left tap in `rounded`, one
/// micro-kernel call over every pair of the patch per tile and 32 output channels.
static void forward_through_pair_table(bnn_bgemm_microkernel_info micro, const bnn_conv_shape *s,
                                       const uint16_t *rounded, const uint16_t *packed_weight, float *output,
                                       size_t m0, size_t m1, size_t n0, size_t n1) {
    const size_t c = s->channels, segment = s->kernel_w * c, row_pairs = (segment + 1) / 2;
    const size_t pairs = s->kernel_h * row_pairs, panel_stride = 2 * pairs * BNN_BGEMM_NR;
    const size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s);
    const size_t hp = s->height + 2 * s->padding, wp = s->width + 2 * s->padding;
    int32_t offsets[BNN_SGEMM_KC];
    for (size_t ky = 0, q = 0; ky < s->kernel_h; ++ky) {
        for (size_t p = 0; p < row_pairs; ++p) offsets[q++] = (int32_t)(ky * wp * c / 2 + p);
    }
    const uint32_t *rows[BNN_SGEMM_MR_MAX];
    size_t image = m0 / (oh * ow), y = m0 % (oh * ow) / ow, x = m0 % ow;
    // A patch at an odd position starts on a whole pair one value further on in the shifted copy.
    const uint16_t *shifted = has_shifted_copy(s) ? rounded + shifted_copy_start(s) + 1 : rounded;
    // 16 output channels or fewer run one column panel, which leaves room for taller tiles.
    const size_t tile = n1 - n0 <= BNN_BGEMM_NR ? micro.table_mr_narrow : micro.table_mr;
    for (size_t m = m0; m < m1; m += tile) {
        const size_t mr = min_size(tile, m1 - m);
        for (size_t i = 0; i < mr; ++i) {
            const size_t start = ((image * hp + y * s->stride) * wp + x * s->stride) * c;
            rows[i] = (const uint32_t *)(const void *)(start % 2 ? shifted + start : rounded + start);
            if (++x == ow) {
                x = 0;
                if (++y == oh) y = 0, ++image;
            }
        }
        for (size_t jr = n0; jr < n1; jr += micro.nr) {
            micro.run(pairs, rows, 0, offsets, packed_weight + jr / BNN_BGEMM_NR * panel_stride, panel_stride,
                      output + m * s->out_channels + jr, s->out_channels, mr, min_size(micro.nr, n1 - jr), 0);
        }
    }
}

/// The K blocks of a gapped weight (`has_gapped_rows`) whose patches cannot be read in place: one
/// table of element offsets over the gapped K, each zero weight step reading the patch's first
/// value (in bounds, and inside the patch, so the product adds nothing that the patch lacks).
static bnn_sgemm_kblock *gapped_tap_blocks(const bnn_conv_shape *s, size_t *count, int32_t **taps) {
    const size_t wp = s->width + 2 * s->padding, k = bnn_bconv_direct_patch_size(s);
    *taps = bnn_sgemm_alloc(k * sizeof(int32_t));
    for (size_t ky = 0, q = 0; ky < s->kernel_h; ++ky) {
        for (size_t kx = 0; kx < s->kernel_w; ++kx) {
            for (size_t c = 0; c < s->channels; ++c) (*taps)[q++] = (int32_t)((ky * wp + kx) * s->channels + c);
        }
        (*taps)[q++] = 0;
    }
    bnn_sgemm_kblock *blocks = bnn_sgemm_alloc(((k + BNN_SGEMM_KC - 1) / BNN_SGEMM_KC + 1) * sizeof *blocks);
    *count = bnn_sgemm_split_k_even(0, k, 0, blocks, 0);
    for (size_t bi = 0; bi < *count; ++bi) blocks[bi].a_offsets = *taps + blocks[bi].k0, blocks[bi].offset = 0;
    return blocks;
}

void bnn_bconv_forward_direct(bnn_bgemm_kernel kernel, const bnn_conv_shape *s, const uint16_t *rounded,
                              const uint16_t *packed_weight, float *output, size_t m0, size_t m1, size_t n0,
                              size_t n1) {
    if (m0 >= m1 || n0 >= n1) return;
    if (reads_patches_through_pair_table(s)) {
        forward_through_pair_table(bnn_bgemm_select(kernel), s, rounded, packed_weight, output, m0, m1, n0, n1);
        return;
    }
    size_t count;
    int32_t *taps;
    bnn_sgemm_kblock *blocks = has_gapped_rows(s) ? gapped_tap_blocks(s, &count, &taps)
                                                  : bnn_sconv_direct_kblocks(s, 1, &count, &taps);
    rounded_direct_rows ctx = {s, rounded, bnn_sconv_out_height(s), bnn_sconv_out_width(s),
                               s->height + 2 * s->padding, s->width + 2 * s->padding};
    size_t k = bnn_bconv_direct_patch_size(s);
    bnn_bgemm_drive(bnn_bgemm_select(kernel), blocks, count, rounded_rows, &ctx, packed_weight,
                    2 * ((k + 1) / 2) * BNN_BGEMM_NR, 0, output, s->out_channels, 0, m0, m1, n0, n1);
    free(blocks);
    free(taps);
}

void bnn_bconv_backward_weight(bnn_bgemm_kernel kernel, const bnn_conv_shape *s, const float *input,
                               const float *output_gradient, float *weight_gradient, int accumulate, size_t n0,
                               size_t n1) {
    if (n0 >= n1) return;
    size_t o = s->out_channels, patch = s->kernel_h * s->kernel_w * s->channels;
    size_t pixels = s->batch * bnn_sconv_out_height(s) * bnn_sconv_out_width(s);
    bnn_bgemm_microkernel_info micro = bnn_bgemm_select(kernel);
    const size_t panel_count = BNN_SCONV_NC / BNN_SGEMM_NR;
    float *b_block = bnn_sgemm_alloc(panel_count * (BNN_SGEMM_KC + 1) * BNN_SGEMM_NR * sizeof(float));
    // Pair panels one cache line apart from a multiple of 4 KiB too.
    size_t pair_panel_stride = (BNN_SGEMM_KC / 2 + 1) * 2 * BNN_BGEMM_NR;
    uint16_t *pairs = bnn_sgemm_alloc(panel_count * pair_panel_stride * sizeof(uint16_t));
    float *patch_row = bnn_sgemm_alloc(BNN_SCONV_NC * sizeof(float));
    // A is dYᵀ: the output gradient (pixels × O) read as a transposed O×pixels matrix.
    bnn_bgemm_matrix source = {output_gradient, o, 1};
    if (pixels == 0) {
        bnn_bgemm_drive(micro, NULL, 0, bnn_bgemm_rows_matrix, &source, pairs, 0, n0, weight_gradient, patch,
                        accumulate, 0, o, n0, n1);
    }
    for (size_t jc = n0; jc < n1; jc += BNN_SCONV_NC) {
        size_t nc = min_size(BNN_SCONV_NC, n1 - jc), panels = (nc + BNN_SGEMM_NR - 1) / BNN_SGEMM_NR;
        int add = accumulate;
        for (size_t p0 = 0; p0 < pixels; p0 += BNN_SGEMM_KC) {
            size_t kc = min_size(BNN_SGEMM_KC, pixels - p0);
            // Panels one cache line apart from a multiple of 4 KiB, as in bnn_sconv_backward_weight.
            size_t panel_stride = (kc + 1) * BNN_SGEMM_NR;
            bnn_sconv_gather_patch_panels(s, input, p0, kc, jc, nc, b_block, panel_stride, patch_row);
            for (size_t panel = 0; panel < panels; ++panel) {
                bnn_bgemm_pack_from_panels(b_block + panel * panel_stride, kc, 0, 1,
                                           pairs + panel * pair_panel_stride);
            }
            source.a = output_gradient + p0 * o;
            bnn_sgemm_kblock block = {0, kc, 0, 0, NULL};
            bnn_bgemm_drive(micro, &block, 1, bnn_bgemm_rows_matrix, &source, pairs, pair_panel_stride, jc,
                            weight_gradient, patch, add, 0, o, jc, jc + nc);
            add = 1;
        }
    }
    free(patch_row);
    free(pairs);
    free(b_block);
}

size_t bnn_bconv_weight_pair_count(const bnn_conv_shape *s) {
    return s->batch * bnn_sconv_out_height(s) * ((bnn_sconv_out_width(s) + 1) / 2);
}

void bnn_bconv_pair_input(const bnn_conv_shape *s, const float *input, size_t image0, size_t image1, uint32_t *pairs) {
    const size_t c = s->channels, pad = s->padding, hp = s->height + 2 * pad, wp = s->width + 2 * pad;
    const size_t shift = s->stride;
    for (size_t image = image0; image < image1; ++image) {
        uint32_t *dst = pairs + image * hp * wp * c;
        memset(dst, 0, pad * wp * c * sizeof(uint32_t));
        for (size_t y = 0; y < s->height; ++y) {
            const float *src = input + (image * s->height + y) * s->width * c;
            uint32_t *row = dst + (pad + y) * wp * c;
            // Padded column xp holds input column xp − pad (or 0); its partner is column xp + stride.
            // Where both lie inside the row, consecutive columns are one contiguous run.
            size_t xp = 0;
            while (xp < wp) {
                const long low_x = (long)xp - (long)pad, high_x = low_x + (long)shift;
                const int has_low = low_x >= 0 && low_x < (long)s->width;
                const int has_high = high_x >= 0 && high_x < (long)s->width;
                uint32_t *out = row + xp * c;
                const float *low = src + low_x * (long)c, *high = src + high_x * (long)c;
                if (has_low && has_high) {
                    // Both inside up to the column whose partner leaves the row.
                    size_t run = (size_t)((long)s->width - high_x);
                    bnn_bgemm_pair_run(low, high, run * c, out);
                    xp += run;
                    continue;
                }
                if (has_low) {
                    for (size_t ch = 0; ch < c; ++ch) out[ch] = bnn_bgemm_bf16_bits(bnn_bgemm_float_bits(low[ch]));
                } else if (has_high) {
                    for (size_t ch = 0; ch < c; ++ch) out[ch] = bnn_bgemm_bf16_bits(bnn_bgemm_float_bits(high[ch])) << 16;
                } else {
                    memset(out, 0, c * sizeof(uint32_t));
                }
                ++xp;
            }
        }
        memset(dst + (pad + s->height) * wp * c, 0, pad * wp * c * sizeof(uint32_t));
    }
}

/// Position of a pair of horizontally adjacent output pixels, advanced row-major over the batch.
typedef struct {
    size_t image, y, pair;
} pair_cursor;

void bnn_bconv_backward_weight_paired(bnn_bgemm_kernel kernel, const bnn_conv_shape *s, const uint32_t *pairs,
                                      const float *output_gradient, float *weight_gradient, int accumulate,
                                      size_t pair0, size_t pair1, size_t n0, size_t n1) {
    size_t o = s->out_channels, c = s->channels, kw = s->kernel_w;
    size_t patch = s->kernel_h * kw * c;
    if (o == 0 || n0 >= n1) return;
    size_t rows_count = n1 - n0;
    size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s), row_pairs = (ow + 1) / 2;
    size_t hp = s->height + 2 * s->padding, wp = s->width + 2 * s->padding;
    bnn_bgemm_microkernel_info micro = bnn_bgemm_select(kernel);
    const size_t block_pairs = BNN_SGEMM_KC / 2;
    size_t panel_count = (o + BNN_BGEMM_NR - 1) / BNN_BGEMM_NR;
    // Panels one cache line apart from a multiple of 4 KiB.
    size_t panel_stride = (block_pairs + 1) * 2 * BNN_BGEMM_NR;
    uint16_t *panels = bnn_sgemm_alloc(panel_count * panel_stride * sizeof(uint16_t));
    float *transposed = bnn_sgemm_alloc(rows_count * o * sizeof(float));
    int32_t offsets[BNN_SGEMM_KC / 2];
    static const float zeros[1] = {0};
    const uint32_t **rows = bnn_sgemm_alloc(rows_count * sizeof *rows);
    // Row r = (tap, channel) starts at the tap's place in the first padded window; the pair's offset
    // moves it to the window of the pair's left pixel, whose right neighbour is the high half.
    for (size_t r = n0; r < n1; ++r) {
        size_t tap = r / c;
        rows[r - n0] = pairs + ((tap / kw) * wp + tap % kw) * c + r % c;
    }
    if (pair0 >= pair1) memset(transposed, 0, rows_count * o * sizeof(float));
    pair_cursor at = {pair0 / (oh * row_pairs), pair0 % (oh * row_pairs) / row_pairs, pair0 % row_pairs};
    for (size_t q0 = pair0; q0 < pair1; q0 += block_pairs) {
        size_t count = min_size(block_pairs, pair1 - q0);
        for (size_t q = 0; q < count; ++q) {
            size_t x = 2 * at.pair;
            offsets[q] = (int32_t)(((at.image * hp + at.y * s->stride) * wp + x * s->stride) * c);
            const float *low = output_gradient + ((at.image * oh + at.y) * ow + x) * o;
            // An odd row's last pixel has no partner: it pairs with zeros.
            const float *high = x + 1 < ow ? low + o : zeros;
            size_t high_step = x + 1 < ow ? 1 : 0;
            for (size_t j = 0; j < panel_count; ++j) {
                uint32_t *dst = (uint32_t *)(void *)(panels + j * panel_stride) + q * BNN_BGEMM_NR;
                size_t j0 = j * BNN_BGEMM_NR, width = min_size(BNN_BGEMM_NR, o - j0);
                if (width == BNN_BGEMM_NR && high_step) {
                    for (size_t jj = 0; jj < BNN_BGEMM_NR; ++jj) dst[jj] = bnn_bgemm_pair(low[j0 + jj], high[j0 + jj]);
                } else {
                    for (size_t jj = 0; jj < BNN_BGEMM_NR; ++jj) {
                        dst[jj] = jj < width ? bnn_bgemm_pair(low[j0 + jj], high[(j0 + jj) * high_step]) : 0;
                    }
                }
            }
            if (++at.pair == row_pairs) {
                at.pair = 0;
                if (++at.y == oh) at.y = 0, ++at.image;
            }
        }
        // Each row tile's pairs stay in L1 while it meets every panel of the output gradient.
        for (size_t ir = 0; ir < rows_count; ir += micro.table_mr) {
            for (size_t jr = 0; jr < o; jr += micro.nr) {
                micro.run(count, rows + ir, 0, offsets, panels + jr / BNN_BGEMM_NR * panel_stride, panel_stride,
                          transposed + ir * o + jr, o, min_size(micro.table_mr, rows_count - ir),
                          min_size(micro.nr, o - jr), q0 > pair0);
            }
        }
    }
    // The rows × O sums into the O × rows gradient, 16 rows at a time: each of their cache lines
    // serves 16 output channels before it is left.
    for (size_t r0 = 0; r0 < rows_count; r0 += 16) {
        size_t r1 = min_size(rows_count, r0 + 16);
        for (size_t oc = 0; oc < o; ++oc) {
            float *dst = weight_gradient + oc * patch + n0;
            const float *src = transposed + oc;
            if (accumulate) {
                for (size_t r = r0; r < r1; ++r) dst[r] += src[r * o];
            } else {
                for (size_t r = r0; r < r1; ++r) dst[r] = src[r * o];
            }
        }
    }
    free(rows);
    free(transposed);
    free(panels);
}

/// The bfloat16 signs of four channels from a nibble of packed sign bits (a set bit is −1, else +1),
/// in the low halves of four words; `signs_of_nibble[16]` is the absent pixel (zeros).
static const uint32_t signs_of_nibble[17][4] = {
#define BNN_SIGN(n, i) (0x3F80u | (((n) >> (i)) & 1u) << 15)
#define BNN_NIBBLE(n) {BNN_SIGN(n, 0), BNN_SIGN(n, 1), BNN_SIGN(n, 2), BNN_SIGN(n, 3)}
    BNN_NIBBLE(0),  BNN_NIBBLE(1),  BNN_NIBBLE(2),  BNN_NIBBLE(3),  BNN_NIBBLE(4),  BNN_NIBBLE(5),
    BNN_NIBBLE(6),  BNN_NIBBLE(7),  BNN_NIBBLE(8),  BNN_NIBBLE(9),  BNN_NIBBLE(10), BNN_NIBBLE(11),
    BNN_NIBBLE(12), BNN_NIBBLE(13), BNN_NIBBLE(14), BNN_NIBBLE(15), {0, 0, 0, 0},
#undef BNN_NIBBLE
#undef BNN_SIGN
};

/// Writes the `c` pair words of one padded pixel from the sign words `low` and `high` (either NULL
/// for a pixel of the zero border).
static void pair_sign_pixel(const uint64_t *low, const uint64_t *high, size_t c, uint32_t *out) {
    for (size_t ch = 0; ch < c; ch += 4) {
        size_t word = ch / 64, shift = ch % 64;
        unsigned n = low ? (unsigned)(low[word] >> shift) & 15u : 16u;
        unsigned h = high ? (unsigned)(high[word] >> shift) & 15u : 16u;
        const uint32_t *lo = signs_of_nibble[n], *hi = signs_of_nibble[h];
        if (ch + 4 <= c) {
            for (size_t i = 0; i < 4; ++i) out[ch + i] = lo[i] | hi[i] << 16;
        } else {
            for (size_t i = 0; ch + i < c; ++i) out[ch + i] = lo[i] | hi[i] << 16;
        }
    }
}

void bnn_bconv_pair_signs(const bnn_conv_shape *s, const uint64_t *words, size_t margin, size_t image0, size_t image1,
                          uint32_t *pairs) {
    const size_t c = s->channels, pad = s->padding, hp = s->height + 2 * pad, wp = s->width + 2 * pad;
    const size_t wpp = (c + 63) / 64, ph = s->height + 2 * margin, pw = s->width + 2 * margin;
#if defined(__x86_64__) || defined(__i386__)
    const int vector = c % 16 == 0 && bnn_bgemm_cpu_has_avx512_bf16();
#endif
    for (size_t image = image0; image < image1; ++image) {
        uint32_t *dst = pairs + image * hp * wp * c;
        memset(dst, 0, pad * wp * c * sizeof(uint32_t));
        for (size_t y = 0; y < s->height; ++y) {
            const uint64_t *src = words + ((image * ph + y + margin) * pw + margin) * wpp;
            uint32_t *row = dst + (pad + y) * wp * c;
            for (size_t xp = 0; xp < wp; ++xp) {
                const long low_x = (long)xp - (long)pad, high_x = low_x + (long)s->stride;
                const uint64_t *low = low_x >= 0 && low_x < (long)s->width ? src + low_x * (long)wpp : NULL;
                const uint64_t *high = high_x >= 0 && high_x < (long)s->width ? src + high_x * (long)wpp : NULL;
#if defined(__x86_64__) || defined(__i386__)
                if (vector && low && high) {
                    // Both inside up to the column whose partner leaves the row.
                    size_t run = (size_t)((long)s->width - high_x);
                    bnn_bgemm_pair_signs_run_avx512(low, high, wpp, run, c, row + xp * c);
                    xp += run - 1;
                    continue;
                }
#endif
                pair_sign_pixel(low, high, c, row + xp * c);
            }
        }
        memset(dst + (pad + s->height) * wp * c, 0, pad * wp * c * sizeof(uint32_t));
    }
}
