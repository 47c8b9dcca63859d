// Binary kernels: portable reference variants, shared helpers and run-time dispatch.
#include "bnn_binary.h"
#include "bnn_binary_internal.h"
#include "bnn_cpu.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// Float results must not depend on the variant: no contraction of a·b + c into an FMA anywhere.
#pragma clang fp contract(off)

static inline int64_t popcount64(uint64_t x) { return (int64_t)__builtin_popcountll(x); }

// MARK: - Packing

int64_t bnn_binary_pack_signs_reference(const float *values, int64_t rows, int64_t channels, uint64_t *words) {
    const int64_t wpp = bnn_binary_words(channels);
    int64_t unrepresentable = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = values + r * channels;
        uint64_t *out = words + r * wpp;
        for (int64_t j = 0; j < wpp; j++) {
            uint64_t word = 0;
            const int64_t end = channels - 64 * j < 64 ? channels - 64 * j : 64;
            for (int64_t b = 0; b < end; b++) {
                const float v = row[64 * j + b];
                if (v < 0) word |= (uint64_t)1 << b;
                if (!(v < 0) && !(v > 0)) unrepresentable++;
            }
            out[j] = word;
        }
    }
    return unrepresentable;
}

int64_t bnn_binary_pack_signs(const float *values, int64_t rows, int64_t channels, uint64_t *words) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) return bnn_binary_pack_signs_avx512(values, rows, channels, words);
    if (bnn_cpu_features() & BNN_CPU_AVX2_FMA_POPCNT) return bnn_binary_pack_signs_avx2(values, rows, channels, words);
#endif
    return bnn_binary_pack_signs_reference(values, rows, channels, words);
}

int64_t bnn_binary_pack_weights(const float *weights, int64_t out_channels, int64_t taps, int64_t channels,
                                uint64_t *blocked, int32_t *tap_popcounts, float *alpha) {
    const int64_t wpp = bnn_binary_words(channels);
    const int64_t k_words = taps * wpp;
    const int64_t padded = bnn_binary_padded_channels(out_channels);
    memset(blocked, 0, (size_t)(padded * k_words) * sizeof(uint64_t));
    memset(tap_popcounts, 0, (size_t)(padded * taps) * sizeof(int32_t));
    int64_t unrepresentable = 0;
    uint64_t tap_words[64];
    for (int64_t o = 0; o < out_channels; o++) {
        const float *filter = weights + o * taps * channels;
        // Eight partial sums (independent chains, vectorisable); summed in double, so the order
        // changes α by far less than a float ulp.
        double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        const int64_t count = taps * channels;
        int64_t i = 0;
        for (; i + 8 <= count; i += 8) {
            for (int lane = 0; lane < 8; lane++) partial[lane] += fabs((double)filter[i + lane]);
        }
        for (; i < count; i++) partial[i % 8] += fabs((double)filter[i]);
        const double magnitude = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
                                 + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
        alpha[o] = taps * channels > 0 ? (float)(magnitude / (double)(taps * channels)) : 0;
        uint64_t *block = blocked + (o / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK + o % BNN_BINARY_BLOCK;
        for (int64_t t = 0; t < taps; t++) {
            int32_t count = 0;
            for (int64_t j0 = 0; j0 < wpp; j0 += 64) {
                const int64_t n = wpp - j0 < 64 ? wpp - j0 : 64;
                const int64_t c0 = 64 * j0;
                const int64_t cn = channels - c0 < 64 * n ? channels - c0 : 64 * n;
                unrepresentable += bnn_binary_pack_signs(filter + t * channels + c0, 1, cn, tap_words);
                for (int64_t j = 0; j < n; j++) {
                    block[(t * wpp + j0 + j) * BNN_BINARY_BLOCK] = tap_words[j];
                    count += (int32_t)popcount64(tap_words[j]);
                }
            }
            tap_popcounts[t * padded + o] = count;
        }
    }
    return unrepresentable;
}

int64_t bnn_binary_zero_mask(const float *values, int64_t rows, int64_t channels, uint64_t *mask) {
    const int64_t wpp = bnn_binary_words(channels);
    int64_t zeros = 0;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < wpp; j++) {
            uint64_t word = 0;
            const int64_t end = channels - 64 * j < 64 ? channels - 64 * j : 64;
            for (int64_t b = 0; b < end; b++) {
                const float v = values[r * channels + 64 * j + b];
                if (!(v < 0) && !(v > 0)) word |= (uint64_t)1 << b;
            }
            mask[r * wpp + j] = word;
            zeros += popcount64(word);
        }
    }
    return zeros;
}

int64_t bnn_binary_compact_zero_masks(const uint64_t *mask, int64_t out_channels, int64_t taps, int64_t words,
                                      int32_t *zero_blocks, int32_t *zero_channels, uint64_t *zero_masks) {
    const int64_t k_words = taps * words;
    const int64_t blocks = bnn_binary_padded_channels(out_channels) / BNN_BINARY_BLOCK;
    int64_t entries = 0;
    for (int64_t b = 0; b < blocks; b++) {
        zero_blocks[b] = (int32_t)entries;
        for (int64_t o = b * BNN_BINARY_BLOCK; o < out_channels && o < (b + 1) * BNN_BINARY_BLOCK; o++) {
            const uint64_t *row = mask + o * k_words;
            uint64_t any = 0;
            for (int64_t k = 0; k < k_words; k++) any |= row[k];
            if (!any) continue;
            zero_channels[entries] = (int32_t)o;
            memcpy(zero_masks + entries * k_words, row, (size_t)k_words * sizeof(uint64_t));
            entries++;
        }
    }
    zero_blocks[blocks] = (int32_t)entries;
    return entries;
}

void bnn_binary_block_signs(const uint64_t *signs, int64_t out_channels, int64_t taps, int64_t words,
                            uint64_t *blocked, int32_t *tap_popcounts) {
    const int64_t k_words = taps * words;
    const int64_t padded = bnn_binary_padded_channels(out_channels);
    memset(blocked, 0, (size_t)(padded * k_words) * sizeof(uint64_t));
    memset(tap_popcounts, 0, (size_t)(padded * taps) * sizeof(int32_t));
    for (int64_t o = 0; o < out_channels; o++) {
        uint64_t *block = blocked + (o / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK + o % BNN_BINARY_BLOCK;
        for (int64_t t = 0; t < taps; t++) {
            int32_t count = 0;
            for (int64_t j = 0; j < words; j++) {
                const uint64_t word = signs[(o * taps + t) * words + j];
                block[(t * words + j) * BNN_BINARY_BLOCK] = word;
                count += (int32_t)popcount64(word);
            }
            tap_popcounts[t * padded + o] = count;
        }
    }
}

void bnn_binary_remargin(const uint64_t *input, int64_t batch, int64_t height, int64_t width, int64_t words,
                         int64_t in_margin, int64_t out_margin, uint64_t *output) {
    const int64_t ih = height + 2 * in_margin, iw = width + 2 * in_margin;
    const int64_t oh = height + 2 * out_margin, ow = width + 2 * out_margin;
    memset(output, 0, (size_t)(batch * oh * ow * words) * sizeof(uint64_t));
    for (int64_t n = 0; n < batch; n++) {
        for (int64_t y = 0; y < height; y++) {
            memcpy(output + ((n * oh + y + out_margin) * ow + out_margin) * words,
                   input + ((n * ih + y + in_margin) * iw + in_margin) * words,
                   (size_t)(width * words) * sizeof(uint64_t));
        }
    }
}

// MARK: - Shared helpers

int64_t bnn_binary_word_offsets(const bnn_binary_conv_params *p, int32_t *offsets) {
    const int64_t wpp = bnn_binary_words(p->channels);
    const int64_t pw = p->width + 2 * p->input_margin;
    int64_t k = 0;
    for (int64_t ky = 0; ky < p->kernel_h; ky++) {
        for (int64_t kx = 0; kx < p->kernel_w; kx++) {
            for (int64_t j = 0; j < wpp; j++) offsets[k++] = (int32_t)((ky * pw + kx) * wpp + j);
        }
    }
    return k;
}

int64_t bnn_binary_border(const bnn_binary_conv_params *p, int64_t oy, int64_t ox, int64_t o0,
                          int32_t correction[BNN_BINARY_BLOCK], int *touches_padding) {
    const int64_t y0 = oy * p->stride - p->padding, x0 = ox * p->stride - p->padding;
    const int64_t taps = p->kernel_h * p->kernel_w;
    *touches_padding = y0 < 0 || x0 < 0 || y0 + p->kernel_h > p->height || x0 + p->kernel_w > p->width;
    if (!*touches_padding) return taps;
    const int64_t padded_o = bnn_binary_padded_channels(p->out_channels);
    for (int i = 0; i < BNN_BINARY_BLOCK; i++) correction[i] = 0;
    int64_t valid = 0;
    for (int64_t ky = 0; ky < p->kernel_h; ky++) {
        for (int64_t kx = 0; kx < p->kernel_w; kx++) {
            const int64_t iy = y0 + ky, ix = x0 + kx;
            if (iy >= 0 && iy < p->height && ix >= 0 && ix < p->width) {
                valid++;
            } else {
                const int32_t *row = p->tap_popcounts + (ky * p->kernel_w + kx) * padded_o + o0;
                for (int i = 0; i < BNN_BINARY_BLOCK; i++) correction[i] += row[i];
            }
        }
    }
    return valid;
}

void bnn_binary_zero_correct(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0, int64_t count,
                             int32_t *dots) {
    const int64_t wpp = bnn_binary_words(p->channels);
    const int64_t k_words = p->kernel_h * p->kernel_w * wpp;
    const int64_t m = p->input_margin;
    const int64_t ih = p->height + 2 * m, iw = p->width + 2 * m;
    const int64_t ox = pixel % p->out_w, row = pixel / p->out_w;
    const int64_t oy = row % p->out_h, n = row / p->out_h;
    const int64_t first = p->zero_blocks[o0 / BNN_BINARY_BLOCK];
    const int64_t last = p->zero_blocks[(o0 + count - 1) / BNN_BINARY_BLOCK + 1];
    for (int64_t z = first; z < last; z++) {
        const int64_t i = p->zero_channels[z] - o0;
        if (i < 0 || i >= count) continue;
        const uint64_t *mask = p->zero_masks + z * k_words;
        int64_t sum = 0;  // Σ sign(x) over the zero taps inside the image
        for (int64_t ky = 0; ky < p->kernel_h; ky++) {
            const int64_t iy = oy * p->stride - p->padding + ky;
            if (iy < 0 || iy >= p->height) continue;
            for (int64_t kx = 0; kx < p->kernel_w; kx++) {
                const int64_t ix = ox * p->stride - p->padding + kx;
                if (ix < 0 || ix >= p->width) continue;
                const uint64_t *x = p->input + ((n * ih + iy + m) * iw + ix + m) * wpp;
                const uint64_t *tap = mask + (ky * p->kernel_w + kx) * wpp;
                for (int64_t j = 0; j < wpp; j++) sum += popcount64(tap[j]) - 2 * popcount64(x[j] & tap[j]);
            }
        }
        dots[i] -= (int32_t)sum;
    }
}

int64_t bnn_binary_finish(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0, int64_t count,
                          const int32_t *dots, uint64_t *packed) {
    if (p->dots) memcpy(p->dots + pixel * p->out_channels + o0, dots, (size_t)count * sizeof(int32_t));
    if (!p->output && !p->packed_output) return 0;
    int64_t out_at = pixel * bnn_binary_output_stride(p) + o0;
    // With `output_pool`: where the pixel's 2×2 window goes, and whether it opens or closes the window.
    int opens = 0, closes = 0;
    if (p->output_pool) {
        const int64_t ox = pixel % p->out_w, row = pixel / p->out_w;
        out_at = ((row / 2) * (p->out_w / 2) + ox / 2) * bnn_binary_output_stride(p) + o0;
        opens = row % 2 == 0 && ox % 2 == 0;
        closes = row % 2 == 1 && ox % 2 == 1;
    }
    const int64_t residual_at = pixel * p->out_channels + o0;
    int64_t unrepresentable = 0;
    for (int64_t i = 0; i < count; i++) {
        const int64_t o = o0 + i;
        float v = p->scale[o] * (float)dots[i];
        if (p->bias) v = v + p->bias[o];
        if (p->residual) v = v + p->residual[residual_at + i];
        if (p->clamp) v = v < p->clamp_lo ? p->clamp_lo : (v > p->clamp_hi ? p->clamp_hi : v);
        if (p->activation_shift) v = v + p->activation_shift[o];
        if (p->activation_slope) v = v > 0 ? v : p->activation_slope[o] * v;
        if (p->activation_bias) v = v + p->activation_bias[o];
        if (p->output && p->output_pool) {
            const float sum = (opens ? 0.0f : p->output[out_at + i]) + v;
            p->output[out_at + i] = closes ? sum * 0.25f : sum;
        } else if (p->output) {
            p->output[out_at + i] = v;
        }
        if (packed) {
            const float t = p->pack_threshold ? v + p->pack_threshold[o] : v;
            const int64_t c = p->packed_channel + o;
            if (t < 0) packed[c / 64] |= (uint64_t)1 << (c % 64);
            if (!(t < 0) && !(t > 0)) unrepresentable++;
        }
    }
    return unrepresentable;
}

void bnn_binary_clear_packed(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end) {
    if (!p->packed_output || p->packed_channel != 0) return;
    const size_t bytes = (size_t)(p->out_w * bnn_binary_packed_stride(p)) * sizeof(uint64_t);
    for (int64_t row = row_begin; row < row_end; row++) {
        memset(bnn_binary_packed_output_at(p, row / p->out_h, row % p->out_h, 0), 0, bytes);
    }
}

int bnn_binary_fast_input(const bnn_binary_conv_params *p) { return p->input_margin >= p->padding; }

int64_t bnn_binary_conv_driver(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end,
                               int tile_pixels, bnn_binary_tile_fn tile, bnn_binary_row_tile_fn row_tile,
                               int64_t row_channels, int row_pixels) {
    // A pooled output only in the reference (and the AVX-512 1×1 path, which does not come here).
    if (!bnn_binary_fast_input(p) || p->output_pool) return bnn_binary_conv_rows_reference(p, row_begin, row_end);
    const int64_t k_words = p->kernel_h * p->kernel_w * bnn_binary_words(p->channels);
    int32_t local_offsets[1024];
    int32_t *offsets = k_words <= 1024 ? local_offsets : malloc((size_t)k_words * sizeof(int32_t));
    if (!offsets) return bnn_binary_conv_rows_reference(p, row_begin, row_end);
    bnn_binary_word_offsets(p, offsets);
    bnn_binary_clear_packed(p, row_begin, row_end);
    const int use_rows = row_tile != NULL && row_channels > 0 && row_pixels > 0 && row_pixels <= tile_pixels;
    const int64_t step = p->stride * bnn_binary_words(p->channels);
    const int32_t interior_bits = (int32_t)(p->kernel_h * p->kernel_w * p->channels);
    int64_t unrepresentable = 0;
    const int64_t pixel_end = row_end * p->out_w;
    int64_t n = row_begin / p->out_h, oy = row_begin % p->out_h, ox = 0;
    for (int64_t q = row_begin * p->out_w; q < pixel_end;) {
        bnn_binary_pixel where[BNN_BINARY_MAX_TILE_PIXELS];
        if (use_rows && ox + row_pixels <= p->out_w) {
            // A row tile (output rows are whole, so it ends before pixel_end).
            const int pixels = row_pixels;
            const int64_t y0 = oy * p->stride - p->padding, x0 = ox * p->stride - p->padding;
            const int border = y0 < 0 || y0 + p->kernel_h > p->height || x0 < 0
                               || x0 + (pixels - 1) * p->stride + p->kernel_w > p->width;
            const bnn_binary_row_tile row = {bnn_binary_pixel_base(p, n, oy, ox), step,
                                             bnn_binary_packed_output_at(p, n, oy, ox), interior_bits,
                                             border ? where : NULL, pixels};
            if (border || row_channels < p->out_channels) {
                bnn_binary_next_pixels(p, &n, &oy, &ox, pixels, where);
            } else if ((ox += pixels) == p->out_w) {
                ox = 0;
                if (++oy == p->out_h) {
                    oy = 0;
                    ++n;
                }
            }
            unrepresentable += row_tile(p, q, &row, offsets, k_words, row_channels);
            if (row_channels < p->out_channels) {
                unrepresentable += tile(p, q, pixels, where, offsets, k_words, row_channels);
            }
            q += pixels;
            continue;
        }
        const int pixels = pixel_end - q < tile_pixels ? (int)(pixel_end - q) : tile_pixels;
        bnn_binary_next_pixels(p, &n, &oy, &ox, pixels, where);
        unrepresentable += tile(p, q, pixels, where, offsets, k_words, 0);
        q += pixels;
    }
    if (offsets != local_offsets) free(offsets);
    return unrepresentable;
}

#if defined(__x86_64__)
int bnn_binary_avx512_detected(void) {
    // Decided once; atomic because kernels on several threads ask at once.
    static _Atomic int detected = -1;
    int value = atomic_load_explicit(&detected, memory_order_relaxed);
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")
                && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vpopcntdq");
        atomic_store_explicit(&detected, value, memory_order_relaxed);
    }
    return value;
}

int bnn_binary_has_avx512(void) {
    // BNN_KERNELS=avx2 keeps the binary kernels on AVX2 (to measure them on an AVX-512 machine).
    static _Atomic int capped = -1;
    int value = atomic_load_explicit(&capped, memory_order_relaxed);
    if (value < 0) {
        const char *setting = getenv("BNN_KERNELS");
        value = setting != NULL && strcmp(setting, "avx2") == 0;
        atomic_store_explicit(&capped, value, memory_order_relaxed);
    }
    return !value && bnn_binary_avx512_detected() && (bnn_cpu_features() & BNN_CPU_AVX2_FMA_POPCNT);
}
#endif

const char *bnn_binary_kernel_name(void) {
#if defined(__x86_64__)
    if (bnn_binary_has_avx512()) return "avx512-vpopcntdq";
    if (bnn_cpu_features() & BNN_CPU_AVX2_FMA_POPCNT) return "avx2";
#elif defined(__aarch64__)
    if (bnn_cpu_features() & BNN_CPU_NEON) return "neon";
#endif
    return "reference";
}

// MARK: - Reference convolution

int64_t bnn_binary_conv_rows_reference(const bnn_binary_conv_params *p, int64_t row_begin, int64_t row_end) {
    const int64_t wpp = bnn_binary_words(p->channels);
    const int64_t k_words = p->kernel_h * p->kernel_w * wpp;
    const int64_t oc = p->out_channels;
    const int64_t m = p->input_margin;
    const int64_t ih = p->height + 2 * m, iw = p->width + 2 * m;
    bnn_binary_clear_packed(p, row_begin, row_end);
    int64_t unrepresentable = 0;
    int32_t dots[BNN_BINARY_BLOCK];
    for (int64_t row = row_begin; row < row_end; row++) {
        const int64_t n = row / p->out_h, oy = row % p->out_h;
        for (int64_t ox = 0; ox < p->out_w; ox++) {
            const int64_t pixel = row * p->out_w + ox;
            uint64_t *packed = bnn_binary_packed_output_at(p, n, oy, ox);
            for (int64_t o0 = 0; o0 < oc; o0 += BNN_BINARY_BLOCK) {
                const int64_t count = oc - o0 < BNN_BINARY_BLOCK ? oc - o0 : BNN_BINARY_BLOCK;
                const uint64_t *block = p->weights + (o0 / BNN_BINARY_BLOCK) * k_words * BNN_BINARY_BLOCK;
                for (int64_t i = 0; i < count; i++) {
                    int64_t differing = 0, valid_taps = 0;
                    for (int64_t ky = 0; ky < p->kernel_h; ky++) {
                        const int64_t iy = oy * p->stride - p->padding + ky;
                        if (iy < 0 || iy >= p->height) continue;
                        for (int64_t kx = 0; kx < p->kernel_w; kx++) {
                            const int64_t ix = ox * p->stride - p->padding + kx;
                            if (ix < 0 || ix >= p->width) continue;
                            valid_taps++;
                            const uint64_t *x = p->input + ((n * ih + iy + m) * iw + ix + m) * wpp;
                            const int64_t k0 = (ky * p->kernel_w + kx) * wpp;
                            for (int64_t j = 0; j < wpp; j++) {
                                differing += popcount64(x[j] ^ block[(k0 + j) * BNN_BINARY_BLOCK + i]);
                            }
                        }
                    }
                    dots[i] = (int32_t)(valid_taps * p->channels - 2 * differing);
                }
                if (p->zero_blocks) bnn_binary_zero_correct(p, pixel, o0, count, dots);
                unrepresentable += bnn_binary_finish(p, pixel, o0, count, dots, packed);
            }
        }
    }
    return unrepresentable;
}

int64_t bnn_binary_conv_rows(const bnn_binary_conv_params *params, int64_t row_begin, int64_t row_end) {
    const uint32_t features = bnn_cpu_features();
    if (bnn_binary_fast_input(params)) {
#if defined(__x86_64__)
        if (bnn_binary_has_avx512()) return bnn_binary_conv_rows_avx512(params, row_begin, row_end);
        if (features & BNN_CPU_AVX2_FMA_POPCNT) return bnn_binary_conv_rows_avx2(params, row_begin, row_end);
#elif defined(__aarch64__)
        if (features & BNN_CPU_NEON) return bnn_binary_conv_rows_neon(params, row_begin, row_end);
#endif
    }
    (void)features;
    return bnn_binary_conv_rows_reference(params, row_begin, row_end);
}
