// bfloat16 convolution passes on top of the bfloat16 driver and the single-precision convolution
// plumbing: the direct forward pass reads the same padded-input rows as `bnn_sconv_forward_direct`
// from a copy of the padded input rounded once per call; the weight gradient gathers the same patch panels as
// `bnn_sconv_backward_weight` and rounds each block into K-step pairs.
#include "bnn_bgemm_internal.h"

#include <stdlib.h>
#include <string.h>

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

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

/// A single-precision row provider over the padded input `base`, whose rows `fill_rounded_rows`
/// reads from `rounded`, the same input already rounded to bfloat16 (same layout).
typedef struct {
    bnn_sgemm_rows rows;
    void *context;
    const float *base;
    const uint16_t *rounded;
    const float *pointers[BNN_SGEMM_MC + BNN_SGEMM_MR_MAX];
} rounded_rows_source;

/// The `bnn_bgemm_fill_a` of a `rounded_rows_source`: each row element `p` is `row[p · step]`, or
/// `row[a_offsets[p]]` for a block with a tap table, taken from the rounded copy (no rounding here).
static void fill_rounded_rows(void *context, size_t m, size_t count, const bnn_sgemm_kblock *block, uint16_t *dst,
                              size_t stride) {
    rounded_rows_source *source = context;
    size_t step = source->rows(source->context, m, count, block, source->pointers);
    size_t length = block->length;
    for (size_t i = 0; i < count; ++i) {
        const uint16_t *row = source->rounded + (source->pointers[i] - source->base);
        uint16_t *out = dst + i * stride;
        if (block->a_offsets) {
            for (size_t p = 0; p < length; ++p) out[p] = row[block->a_offsets[p]];
        } else if (step == 1) {
            memcpy(out, row, length * sizeof(uint16_t));
        } else {
            for (size_t p = 0; p < length; ++p) out[p] = row[p * step];
        }
        if (length % 2) out[length] = 0;
    }
}

void bnn_bconv_forward_direct(bnn_bgemm_kernel kernel, const bnn_conv_shape *s, const float *padded,
                              const uint16_t *rounded, const uint16_t *packed_weight, float *output, size_t m0,
                              size_t m1, size_t n0, size_t n1) {
    size_t count;
    int32_t *taps;
    bnn_sgemm_kblock *blocks = bnn_sconv_direct_kblocks(s, 1, &count, &taps);
    bnn_sconv_direct_rows ctx = bnn_sconv_direct_rows_of(s, padded);
    rounded_rows_source source = {bnn_sconv_rows_direct, &ctx, padded, rounded, {NULL}};
    size_t k = s->kernel_h * s->kernel_w * s->channels;
    bnn_bgemm_drive(bnn_bgemm_select(kernel), blocks, count, fill_rounded_rows, &source, packed_weight,
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
        bnn_bgemm_drive(micro, NULL, 0, bnn_bgemm_fill_matrix, &source, pairs, 0, n0, weight_gradient, patch,
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
            bnn_bgemm_drive(micro, &block, 1, bnn_bgemm_fill_matrix, &source, pairs, pair_panel_stride, jc,
                            weight_gradient, patch, add, 0, o, jc, jc + nc);
            add = 1;
        }
    }
    free(patch_row);
    free(pairs);
    free(b_block);
}
