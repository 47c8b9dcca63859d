#ifndef BNN_IMAGE_KERNELS_H
#define BNN_IMAGE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Fast passes of Pillow's fixed-point bilinear resampling of 8-bit RGB (BNNData's BilinearResampler is
/// the portable reference; results are identical). Weights have 22 fraction bits; every output reads
/// `taps` consecutive input pixels starting at `first[i]`, weighted by `weights[i * taps ...]`.

/// Whether the AVX2 passes may run: the CPU has AVX2 and BNN_KERNELS=reference is not forcing the
/// portable kernels (see bnn_cpu.h).
int bnn_resample_avx2_available(void);

/// Horizontal pass: `rows` rows of `src` (row stride `src_row_pixels` RGB pixels; `first` relative to
/// the row start) into `dst`, `rows` rows of `out_width` RGB pixels.
void bnn_resample_horizontal_avx2(const uint8_t *src, size_t src_row_pixels, int rows, uint8_t *dst,
                                  int out_width, const int32_t *first, const int32_t *weights, int taps);

/// Vertical pass: `out_height` rows of `row_bytes` bytes into `dst`, row `i` reading rows
/// `first[i] ..< first[i] + taps` of `src` (row stride `row_bytes`).
void bnn_resample_vertical_avx2(const uint8_t *src, size_t row_bytes, uint8_t *dst, int out_height,
                                const int32_t *first, const int32_t *weights, int taps);

#endif
