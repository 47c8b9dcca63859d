// Expands packed signs back to ±1 floats, zero-padded: the float operand of the single-precision
// weight gradient of a binary convolution. Four channels at a time from a table of nibbles (16
// entries of four floats), so the loop is a copy of 16-byte rows that every compiler vectorises.
#include "bnn_binary.h"

#include <string.h>

/// The four floats (±1, a set bit −1) of each nibble of sign bits, as bit patterns.
static const uint32_t floats_of_nibble[16][4] = {
#define BNN_SIGN(n, i) (0x3F800000u | (((n) >> (i)) & 1u) << 31)
#define BNN_NIBBLE(n) {BNN_SIGN(n, 0), BNN_SIGN(n, 1), BNN_SIGN(n, 2), BNN_SIGN(n, 3)}
    BNN_NIBBLE(0),  BNN_NIBBLE(1),  BNN_NIBBLE(2),  BNN_NIBBLE(3),  BNN_NIBBLE(4),  BNN_NIBBLE(5),
    BNN_NIBBLE(6),  BNN_NIBBLE(7),  BNN_NIBBLE(8),  BNN_NIBBLE(9),  BNN_NIBBLE(10), BNN_NIBBLE(11),
    BNN_NIBBLE(12), BNN_NIBBLE(13), BNN_NIBBLE(14), BNN_NIBBLE(15),
#undef BNN_NIBBLE
#undef BNN_SIGN
};

void bnn_binary_unpack_signs(const uint64_t *words, int64_t height, int64_t width, int64_t channels, int64_t margin,
                             int64_t padding, int64_t row0, int64_t row1, float *output) {
    const int64_t wpp = (channels + 63) / 64, ph = height + 2 * margin, pw = width + 2 * margin;
    const int64_t out_height = height + 2 * padding, row_length = (width + 2 * padding) * channels;
    for (int64_t row = row0; row < row1; ++row) {
        const int64_t image = row / out_height, y = row % out_height - padding;
        float *out = output + row * row_length;
        if (y < 0 || y >= height) {
            memset(out, 0, (size_t)row_length * sizeof(float));
            continue;
        }
        memset(out, 0, (size_t)(padding * channels) * sizeof(float));
        out += padding * channels;
        const uint64_t *pixel = words + ((image * ph + y + margin) * pw + margin) * wpp;
        for (int64_t x = 0; x < width; ++x, pixel += wpp, out += channels) {
            int64_t c = 0;
            for (; c + 4 <= channels; c += 4) {
                memcpy(out + c, floats_of_nibble[(pixel[c / 64] >> (c % 64)) & 15u], 4 * sizeof(float));
            }
            for (; c < channels; ++c) {
                uint32_t bits = 0x3F800000u | (uint32_t)((pixel[c / 64] >> (c % 64)) & 1u) << 31;
                memcpy(out + c, &bits, sizeof bits);
            }
        }
        memset(out, 0, (size_t)(padding * channels) * sizeof(float));
    }
}
