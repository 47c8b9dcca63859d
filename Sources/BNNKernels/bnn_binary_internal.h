// Private helpers shared by the binary convolution variants (not part of the public headers).
#ifndef BNN_BINARY_INTERNAL_H
#define BNN_BINARY_INTERNAL_H

#include "bnn_binary.h"

/// Word offsets, relative to an output pixel's top-left input word in the padded layout, of the
/// K = kH·kW·words(C) words of its receptive field, in blocked-weight order. Returns K.
int64_t bnn_binary_word_offsets(const bnn_binary_conv_params *p, int32_t *offsets);

/// The first padded-input word of output pixel (n, oy, ox).
const uint64_t *bnn_binary_pixel_base(const bnn_binary_conv_params *p, const uint64_t *padded,
                                      int64_t n, int64_t oy, int64_t ox);

/// For output pixel (oy, ox): the number of its taps inside the image; when some fall into the
/// padding and `correction` is set, writes for the 8 channels of block `o0` the number of −1 weight
/// signs on those taps (the XOR-popcount they added against the zero border words); otherwise
/// leaves `correction` untouched and returns all taps.
int64_t bnn_binary_border(const bnn_binary_conv_params *p, int64_t oy, int64_t ox, int64_t o0,
                          int32_t correction[BNN_BINARY_BLOCK], int *touches_padding);

/// Writes the results of pixel `pixel` (flattened N·OH·OW index), channels [o0, o0+count), from
/// their exact dot products: raw dots, transformed floats, packed signs as requested. Returns the
/// number of transformed values that were ±0 or NaN when packing. Packed words must be cleared first.
int64_t bnn_binary_finish(const bnn_binary_conv_params *p, int64_t pixel, int64_t o0, int64_t count,
                          const int32_t *dots);

/// Clears the packed output words of pixels [begin, end) when `packed_output` is set.
void bnn_binary_clear_packed(const bnn_binary_conv_params *p, int64_t begin, int64_t end);

/// The input the optimised kernels read: `padded_input`, or `input` when there is no padding;
/// NULL when they cannot run (padding without a padded copy).
const uint64_t *bnn_binary_fast_input(const bnn_binary_conv_params *p);

#endif
