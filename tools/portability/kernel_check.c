// Checks the C kernels of BNNKernels on a CPU other than the development machine's: the variants
// that run-time dispatch picks there (NEON on arm64, the portable reference on x86-64 without AVX2)
// against plain loops and against the reference kernels, on odd sizes. `check.sh` builds it for
// arm64 and for baseline x86-64 and runs it under qemu-user; the Swift tests cover the same
// kernels on the development machine. Prints one line per section and PASS or FAIL last; exits 1 on
// any mismatch.
#include "BNNKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/// xorshift64*: a deterministic stream, the same on every CPU.
static uint64_t next_random(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/// Uniform in [-1, 1), never exactly 0.
static float random_signed(void) {
    float v = (float)((next_random() >> 40) + 0.5) / (float)(1 << 24) * 2.0f - 1.0f;
    return v;
}

static float *random_floats(size_t count) {
    float *values = malloc((count ? count : 1) * sizeof(float));
    for (size_t i = 0; i < count; i++) values[i] = random_signed();
    return values;
}

static void expect(int condition, const char *section, const char *what) {
    if (!condition) {
        failures++;
        if (failures <= 20) printf("  mismatch: %s: %s\n", section, what);
    }
}

// MARK: - SGEMM

/// C = op(A)·op(B) by the dispatched kernel against double-precision loops, every storage form.
static int check_sgemm(void) {
    static const size_t sizes[][3] = {{1, 1, 1},   {2, 7, 15},  {15, 2, 7},   {63, 64, 65}, {65, 63, 64},
                                      {130, 7, 257}, {7, 257, 130}, {257, 130, 7}, {64, 64, 257}};
    const bnn_sgemm_kernel kernel = bnn_sgemm_active_kernel();
    int cases = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const size_t m = sizes[i][0], n = sizes[i][1], k = sizes[i][2];
        for (int form = 0; form < 3; form++) {
            const int trans_a = form == 2, trans_b = form == 1;
            const size_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
            float *a = random_floats(m * k), *b = random_floats(k * n);
            float *c = calloc(m * n, sizeof(float));
            float *packed = malloc(bnn_sgemm_packed_b_count(n, k) * sizeof(float));
            bnn_sgemm_pack_b(trans_b, n, k, b, ldb, 0, (n + BNN_SGEMM_NR - 1) / BNN_SGEMM_NR, packed);
            bnn_sgemm_packed(kernel, trans_a, k, a, lda, packed, c, n, 0, 0, m, 0, n);
            double worst = 0;
            for (size_t r = 0; r < m; r++) {
                for (size_t col = 0; col < n; col++) {
                    double exact = 0, magnitude = 0;
                    for (size_t p = 0; p < k; p++) {
                        const double x = trans_a ? a[p * lda + r] : a[r * lda + p];
                        const double y = trans_b ? b[col * ldb + p] : b[p * ldb + col];
                        exact += x * y;
                        magnitude += fabs(x * y);
                    }
                    const double error = fabs(c[r * n + col] - exact) / (1e-5 * magnitude + 1e-6);
                    if (error > worst) worst = error;
                }
            }
            char label[96];
            snprintf(label, sizeof label, "sgemm %zux%zux%zu form %d: error %.2f of the bound", m, n, k, form, worst);
            expect(worst <= 1, "sgemm", label);
            cases++;
            free(a), free(b), free(c), free(packed);
        }
    }
    return cases;
}

// MARK: - Float convolution

/// Direct loops in double: N×H×W×C input, O×kH×kW×C weights, zero padding.
static void naive_convolution(const bnn_conv_shape *s, const float *x, const float *w, double *y) {
    const size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s);
    for (size_t n = 0; n < s->batch; n++)
        for (size_t oy = 0; oy < oh; oy++)
            for (size_t ox = 0; ox < ow; ox++)
                for (size_t o = 0; o < s->out_channels; o++) {
                    double sum = 0;
                    for (size_t ky = 0; ky < s->kernel_h; ky++)
                        for (size_t kx = 0; kx < s->kernel_w; kx++) {
                            const long iy = (long)(oy * s->stride + ky) - (long)s->padding;
                            const long ix = (long)(ox * s->stride + kx) - (long)s->padding;
                            if (iy < 0 || ix < 0 || iy >= (long)s->height || ix >= (long)s->width) continue;
                            for (size_t c = 0; c < s->channels; c++) {
                                sum += (double)x[((n * s->height + (size_t)iy) * s->width + (size_t)ix) * s->channels + c]
                                       * w[((o * s->kernel_h + ky) * s->kernel_w + kx) * s->channels + c];
                            }
                        }
                    y[((n * oh + oy) * ow + ox) * s->out_channels + o] = sum;
                }
}

/// The weight gradient by direct loops in double: `dw[o·K + q]` = Σ over output pixels of
/// `dY[p][o] · patch[p][q]`, K = kH·kW·C, patches zero outside the input.
static void naive_weight_gradient(const bnn_conv_shape *s, const float *x, const float *dy, double *dw) {
    const size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s), m = s->batch * oh * ow;
    const size_t k = s->kernel_h * s->kernel_w * s->channels;
    for (size_t o = 0; o < s->out_channels; o++) {
        for (size_t q = 0; q < k; q++) {
            const size_t ky = q / (s->kernel_w * s->channels), kx = q / s->channels % s->kernel_w, c = q % s->channels;
            double sum = 0;
            for (size_t p = 0; p < m; p++) {
                const size_t n = p / (oh * ow), oy = p / ow % oh, ox = p % ow;
                const long iy = (long)(oy * s->stride + ky) - (long)s->padding;
                const long ix = (long)(ox * s->stride + kx) - (long)s->padding;
                if (iy < 0 || ix < 0 || iy >= (long)s->height || ix >= (long)s->width) continue;
                sum += (double)dy[p * s->out_channels + o]
                       * x[((n * s->height + (size_t)iy) * s->width + (size_t)ix) * s->channels + c];
            }
            dw[o * k + q] = sum;
        }
    }
}

/// Forward passes (direct and few-pixel direct, each with kernel-row blocks or the tap table) and
/// the weight gradient (gathered, and read from the padded input) against loops.
static int check_convolution(void) {
    static const bnn_conv_shape shapes[] = {
        {1, 7, 7, 130, 33, 3, 3, 2, 1}, {2, 9, 9, 64, 40, 3, 1, 1, 1}, {1, 15, 15, 3, 17, 7, 7, 2, 3},
        {1, 20, 20, 65, 16, 3, 3, 1, 1}, {2, 5, 6, 24, 9, 2, 3, 1, 0},
    };
    const bnn_sgemm_kernel kernel = bnn_sgemm_active_kernel();
    int cases = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const bnn_conv_shape *s = &shapes[i];
        const size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s);
        const size_t m = s->batch * oh * ow, k = s->kernel_h * s->kernel_w * s->channels;
        float *x = random_floats(s->batch * s->height * s->width * s->channels);
        float *w = random_floats(s->out_channels * k);
        double *expected = malloc(m * s->out_channels * sizeof(double));
        naive_convolution(s, x, w, expected);
        float *packed = malloc(bnn_sgemm_packed_b_count(s->out_channels, k) * sizeof(float));
        bnn_sgemm_pack_b(1, s->out_channels, k, w, k, 0, (s->out_channels + BNN_SGEMM_NR - 1) / BNN_SGEMM_NR, packed);
        float *padded = malloc(bnn_sconv_padded_count(s) * sizeof(float));
        bnn_sconv_pad_input(s, x, 0, s->batch, padded);
        float *y = malloc(m * s->out_channels * sizeof(float));
        for (int path = 0; path < 2; path++) {
            if (path == 0) bnn_sconv_forward_direct(kernel, s, padded, packed, y, 0, m, 0, s->out_channels);
            if (path == 1) bnn_sconv_forward_direct_small(kernel, s, padded, w, y, 0, m, 0, s->out_channels);
            double worst = 0;
            for (size_t j = 0; j < m * s->out_channels; j++) {
                const double error = fabs(y[j] - expected[j]) / (1e-5 * (double)k + 1e-6);
                if (error > worst) worst = error;
            }
            char label[96];
            snprintf(label, sizeof label, "shape %zu forward path %d: error %.2f of the bound", i, path, worst);
            expect(worst <= 1, "convolution", label);
            cases++;
        }
        // Weight gradient: dW[o][q] = Σ over pixels of dY[p][o] · patch[p][q], by the gathering path and by
        // the path that reads the padded input in place (over two pixel ranges and two column ranges).
        float *dy = random_floats(m * s->out_channels);
        float *dw = calloc(s->out_channels * k, sizeof(float));
        float *dw_padded = calloc(s->out_channels * k, sizeof(float));
        bnn_sconv_backward_weight(kernel, s, x, dy, dw, 0, 0, m, 0, k);
        bnn_sconv_backward_weight_padded(kernel, s, padded, dy, dw_padded, 0, 0, m / 2, 0, k / 2);
        bnn_sconv_backward_weight_padded(kernel, s, padded, dy, dw_padded, 1, m / 2, m, 0, k / 2);
        bnn_sconv_backward_weight_padded(kernel, s, padded, dy, dw_padded, 0, 0, m, k / 2, k);
        double *dw_exact = malloc(s->out_channels * k * sizeof(double));
        naive_weight_gradient(s, x, dy, dw_exact);
        double worst = 0, worst_padded = 0;
        for (size_t j = 0; j < s->out_channels * k; j++) {
            const double bound = 1e-5 * (double)m + 1e-6;
            const double error = fabs(dw[j] - dw_exact[j]) / bound, error_padded = fabs(dw_padded[j] - dw_exact[j]) / bound;
            if (error > worst) worst = error;
            if (error_padded > worst_padded) worst_padded = error_padded;
        }
        free(dw_exact);
        char label[96];
        snprintf(label, sizeof label, "shape %zu weight gradient: error %.2f of the bound", i, worst);
        expect(worst <= 1, "convolution", label);
        snprintf(label, sizeof label, "shape %zu padded weight gradient: error %.2f of the bound", i, worst_padded);
        expect(worst_padded <= 1, "convolution", label);
        cases += 2;
        free(dw_padded);
        free(x), free(w), free(expected), free(packed), free(padded), free(y), free(dy), free(dw);
    }
    return cases;
}

// MARK: - bfloat16 convolution

/// `count` random values that bfloat16 holds exactly, so that any misplaced term shows far above the
/// single-precision summation bound.
static float *random_bf16_floats(size_t count) {
    float *values = random_floats(count);
    for (size_t i = 0; i < count; i++) values[i] = bnn_float_from_bf16(bnn_bf16_from_float(values[i]));
    return values;
}

/// The bfloat16 direct forward pass (every way it reads patches) and the paired weight gradient (over two pair ranges and two
/// column ranges), by the dispatched and the reference kernel, against loops on exact bfloat16 values.
static int check_bconv(void) {
    static const bnn_conv_shape shapes[] = {
        {1, 7, 7, 130, 33, 3, 3, 2, 1}, {2, 9, 9, 64, 40, 3, 1, 1, 1}, {1, 15, 15, 3, 17, 7, 7, 2, 3},
        {1, 20, 20, 65, 16, 3, 3, 1, 1}, {2, 5, 7, 24, 9, 2, 3, 1, 0},
        // Short kernel rows read in place through a pair table: an even row, odd rows with a zero
        // weight step (7×7 stride-2 stem, one channel), and the gapped weight read by a tap table.
        {2, 9, 9, 8, 20, 3, 3, 1, 1}, {1, 16, 16, 3, 17, 7, 7, 2, 3}, {1, 12, 12, 1, 16, 3, 3, 2, 1},
        {1, 11, 11, 1, 16, 3, 3, 2, 1},
        // Odd channels at stride 1: patches at odd positions read from the shifted copy.
        {2, 10, 10, 3, 16, 3, 3, 1, 1}, {1, 8, 10, 5, 20, 3, 5, 1, 2},
    };
    const bnn_bgemm_kernel kernels[2] = {bnn_bgemm_active_kernel(), BNN_BGEMM_REFERENCE};
    int cases = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const bnn_conv_shape *s = &shapes[i];
        const size_t oh = bnn_sconv_out_height(s), ow = bnn_sconv_out_width(s), o = s->out_channels;
        const size_t m = s->batch * oh * ow, k = s->kernel_h * s->kernel_w * s->channels;
        const size_t count = bnn_sconv_padded_count(s), pairs = bnn_bconv_weight_pair_count(s);
        float *x = random_bf16_floats(s->batch * s->height * s->width * s->channels);
        float *w = random_bf16_floats(o * k), *dy = random_bf16_floats(m * o);
        double *expected = malloc(m * o * sizeof(double)), *dw_exact = malloc(o * k * sizeof(double));
        naive_convolution(s, x, w, expected);
        naive_weight_gradient(s, x, dy, dw_exact);
        uint16_t *rounded = malloc(bnn_bconv_rounded_count(s) * sizeof(uint16_t));
        bnn_bconv_pad_round_input(s, x, 0, s->batch, rounded);
        uint32_t *paired = malloc(count * sizeof(uint32_t));
        bnn_bconv_pair_input(s, x, 0, 1, paired);
        bnn_bconv_pair_input(s, x, 1, s->batch, paired);
        uint16_t *packed = malloc(bnn_bgemm_packed_b_count(o, bnn_bconv_direct_patch_size(s)) * sizeof(uint16_t));
        bnn_bconv_pack_direct_weight(s, w, 0, (o + BNN_BGEMM_NR - 1) / BNN_BGEMM_NR, packed);
        float *y = malloc(m * o * sizeof(float)), *dw = malloc(o * k * sizeof(float));
        for (int variant = 0; variant < 2; variant++) {
            bnn_bconv_forward_direct(kernels[variant], s, rounded, packed, y, 0, m, 0, o);
            double worst = 0;
            for (size_t j = 0; j < m * o; j++) {
                const double error = fabs(y[j] - expected[j]) / (1e-5 * (double)k + 1e-6);
                if (error > worst) worst = error;
            }
            bnn_bconv_backward_weight_paired(kernels[variant], s, paired, dy, dw, 0, 0, pairs / 2, 0, k / 2);
            bnn_bconv_backward_weight_paired(kernels[variant], s, paired, dy, dw, 1, pairs / 2, pairs, 0, k / 2);
            bnn_bconv_backward_weight_paired(kernels[variant], s, paired, dy, dw, 0, 0, pairs, k / 2, k);
            double worst_weight = 0;
            for (size_t j = 0; j < o * k; j++) {
                const double error = fabs(dw[j] - dw_exact[j]) / (1e-5 * (double)m + 1e-6);
                if (error > worst_weight) worst_weight = error;
            }
            char label[112];
            snprintf(label, sizeof label, "bf16 kernel %d shape %zu forward: error %.2f of the bound",
                     (int)kernels[variant], i, worst);
            expect(worst <= 1, "bfloat16 convolution", label);
            snprintf(label, sizeof label, "bf16 kernel %d shape %zu paired weight gradient: error %.2f of the bound",
                     (int)kernels[variant], i, worst_weight);
            expect(worst_weight <= 1, "bfloat16 convolution", label);
            cases += 2;
        }
        free(x), free(w), free(dy), free(expected), free(dw_exact), free(rounded), free(paired), free(packed), free(y),
            free(dw);
    }
    return cases;
}

// MARK: - Binary convolution

/// One binary case: the dispatched kernel against the reference kernel bit for bit (dots, fused
/// floats, packed output signs) and the reference dots against float loops over the sign values.
/// With `zero_weights`, every third output channel has about a quarter of its weights exactly 0
/// (channel 1 all of them), run through the zero-mask correction.
static void check_binary_case(size_t batch, size_t size, size_t channels, size_t outputs, size_t kernel,
                              size_t stride, size_t padding, int zero_weights) {
    const size_t taps = kernel * kernel, wpp = (size_t)bnn_binary_words((int64_t)channels);
    float *x = random_floats(batch * size * size * channels);
    float *w = random_floats(outputs * taps * channels);
    for (size_t o = 1; zero_weights && o < outputs; o += 3) {
        for (size_t i = 0; i < taps * channels; i++) {
            if (o == 1 || next_random() % 4 == 0) w[o * taps * channels + i] = 0;
        }
    }
    uint64_t *zero_mask = calloc(outputs * taps * wpp, sizeof(uint64_t));
    const int64_t zero_count = bnn_binary_zero_mask(w, (int64_t)(outputs * taps), (int64_t)channels, zero_mask);
    int32_t *zero_blocks = calloc((size_t)bnn_binary_padded_channels((int64_t)outputs) / BNN_BINARY_BLOCK + 1,
                                  sizeof(int32_t));
    int32_t *zero_channels = calloc(outputs, sizeof(int32_t));
    uint64_t *zero_masks = calloc(outputs * taps * wpp, sizeof(uint64_t));
    const int64_t zero_entries = bnn_binary_compact_zero_masks(zero_mask, (int64_t)outputs, (int64_t)taps,
                                                               (int64_t)wpp, zero_blocks, zero_channels, zero_masks);
    expect(zero_weights ? zero_count > 0 && zero_entries >= 1 && zero_entries <= (int64_t)(outputs + 1) / 3 : zero_entries == 0,
           "binary", "zero-mask tables");
    // Packed input with a border of `padding` pixels, as the fast kernels read it.
    uint64_t *plain = malloc((batch * size * size * wpp + 1) * sizeof(uint64_t));
    int64_t zeros = bnn_binary_pack_signs(x, (int64_t)(batch * size * size), (int64_t)channels, plain);
    uint64_t *portable = malloc((batch * size * size * wpp + 1) * sizeof(uint64_t));
    bnn_binary_pack_signs_reference(x, (int64_t)(batch * size * size), (int64_t)channels, portable);
    expect(zeros == 0 && memcmp(plain, portable, batch * size * size * wpp * sizeof(uint64_t)) == 0, "binary",
           "sign packing differs from the reference");
    const size_t side = size + 2 * padding;
    uint64_t *input = malloc((batch * side * side * wpp + 1) * sizeof(uint64_t));
    bnn_binary_remargin(plain, (int64_t)batch, (int64_t)size, (int64_t)size, (int64_t)wpp, 0, (int64_t)padding, input);
    const size_t padded_o = (size_t)bnn_binary_padded_channels((int64_t)outputs);
    uint64_t *blocked = calloc(padded_o * taps * wpp, sizeof(uint64_t));
    int32_t *tap_popcounts = calloc(taps * padded_o, sizeof(int32_t));
    float *alpha = malloc(outputs * sizeof(float));
    bnn_binary_pack_weights(w, (int64_t)outputs, (int64_t)taps, (int64_t)channels, blocked, tap_popcounts, alpha);
    const size_t oh = (size + 2 * padding - kernel) / stride + 1, count = batch * oh * oh * outputs;
    float *scale = random_floats(outputs), *bias = random_floats(outputs), *residual = random_floats(count);
    // Half of the cases also run ReActNet's epilogue: RPReLU after the clamp and a packing threshold.
    const int activation = (channels + size + outputs + kernel) % 2 == 0;
    float *shift = random_floats(outputs), *slope = random_floats(outputs), *after = random_floats(outputs);
    float *threshold = random_floats(outputs);
    const size_t wpo = (size_t)bnn_binary_words((int64_t)outputs), packed_side = oh + 2;
    int32_t *dots[2];
    float *values[2];
    uint64_t *signs[2];
    int64_t unrepresentable[2];
    for (int variant = 0; variant < 2; variant++) {
        dots[variant] = malloc(count * sizeof(int32_t));
        values[variant] = malloc(count * sizeof(float));
        signs[variant] = calloc(batch * packed_side * packed_side * wpo, sizeof(uint64_t));
        bnn_binary_conv_params p = {
            .batch = (int64_t)batch, .height = (int64_t)size, .width = (int64_t)size, .channels = (int64_t)channels,
            .out_channels = (int64_t)outputs, .kernel_h = (int64_t)kernel, .kernel_w = (int64_t)kernel,
            .stride = (int64_t)stride, .padding = (int64_t)padding, .out_h = (int64_t)oh, .out_w = (int64_t)oh,
            .input = input, .input_margin = (int64_t)padding, .weights = blocked, .tap_popcounts = tap_popcounts,
            .dots = dots[variant], .scale = scale, .bias = bias, .residual = residual, .clamp = 1,
            .clamp_lo = -1, .clamp_hi = 1, .output = values[variant], .packed_output = signs[variant],
            .packed_output_margin = 1, .zero_blocks = zero_entries ? zero_blocks : NULL,
            .zero_channels = zero_channels, .zero_masks = zero_masks,
            .activation_shift = activation ? shift : NULL, .activation_slope = activation ? slope : NULL,
            .activation_bias = activation ? after : NULL, .pack_threshold = activation ? threshold : NULL};
        // Two row ranges, as two threads would run them.
        const int64_t rows = (int64_t)(batch * oh), split = rows / 2;
        unrepresentable[variant] = variant == 0
            ? bnn_binary_conv_rows_reference(&p, 0, split) + bnn_binary_conv_rows_reference(&p, split, rows)
            : bnn_binary_conv_rows(&p, 0, split) + bnn_binary_conv_rows(&p, split, rows);
    }
    char label[160];
    snprintf(label, sizeof label, "N %zu size %zu C %zu O %zu kernel %zu stride %zu padding %zu%s%s", batch, size,
             channels, outputs, kernel, stride, padding, zero_weights ? " zero weights" : "",
             activation ? " RPReLU and threshold" : "");
    expect(memcmp(dots[0], dots[1], count * sizeof(int32_t)) == 0, "binary dots", label);
    expect(memcmp(values[0], values[1], count * sizeof(float)) == 0, "binary floats", label);
    expect(memcmp(signs[0], signs[1], batch * packed_side * packed_side * wpo * sizeof(uint64_t)) == 0,
           "binary packed signs", label);
    expect(unrepresentable[0] == unrepresentable[1], "binary zero counts", label);
    // The reference dots equal the float convolution of the sign values (borders included).
    float *sx = malloc(batch * size * size * channels * sizeof(float)), *sw = malloc(outputs * taps * channels * sizeof(float));
    for (size_t i = 0; i < batch * size * size * channels; i++) sx[i] = x[i] < 0 ? -1.0f : 1.0f;
    for (size_t i = 0; i < outputs * taps * channels; i++) sw[i] = w[i] < 0 ? -1.0f : (w[i] > 0 ? 1.0f : 0.0f);
    const bnn_conv_shape s = {batch, size, size, channels, outputs, kernel, kernel, stride, padding};
    double *expected = malloc(count * sizeof(double));
    naive_convolution(&s, sx, sw, expected);
    int same = 1;
    for (size_t i = 0; i < count; i++) same &= dots[0][i] == (int32_t)expected[i];
    expect(same, "binary dots vs sign loops", label);
    for (int variant = 0; variant < 2; variant++) free(dots[variant]), free(values[variant]), free(signs[variant]);
    free(x), free(w), free(plain), free(portable), free(input), free(blocked), free(tap_popcounts), free(alpha);
    free(scale), free(bias), free(residual), free(sx), free(sw), free(expected);
    free(shift), free(slope), free(after), free(threshold);
    free(zero_mask), free(zero_blocks), free(zero_channels), free(zero_masks);
}

static int check_binary(void) {
    static const size_t channels[] = {1, 3, 63, 64, 65, 130};
    static const size_t sizes[] = {1, 2, 7, 15, 20};
    static const size_t outputs[] = {9, 16, 70};
    int cases = 0;
    for (size_t ci = 0; ci < sizeof channels / sizeof channels[0]; ci++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (size_t kernel = 1; kernel <= 3; kernel += 2)
                for (size_t stride = 1; stride <= 2; stride++)
                    for (size_t padding = 0; padding <= 1; padding++) {
                        if (sizes[si] + 2 * padding < kernel) continue;
                        const size_t o = outputs[(ci + si + stride) % 3];
                        check_binary_case(sizes[si] <= 7 ? 2 : 1, sizes[si], channels[ci], o, kernel, stride, padding,
                                          (int)((ci + si + kernel + padding) % 2));
                        cases++;
                    }
    return cases;
}

// MARK: - Worker pool and element-wise passes

static void count_chunk(void *context, int64_t chunk) { ((int *)context)[chunk] += 1; }

static int check_parallel(void) {
    enum { chunks = 7, loops = 2000 };
    int counts[chunks] = {0};
    for (int loop = 0; loop < loops; loop++) bnn_parallel_run(chunks, 2, count_chunk, counts);
    int all = 1;
    for (int c = 0; c < chunks; c++) all &= counts[c] == loops;
    expect(all, "worker pool", "a chunk ran other than once per loop");
    // 137 values: two whole mask words and a partial third.
    enum { n = 137 };
    float x[n], y[n], masked[n], dy[n], dx[n];
    uint64_t mask[3];
    for (int i = 0; i < n; i++) x[i] = random_signed() * 2, dy[i] = random_signed();
    bnn_clamp(x, y, n, -1, 1);
    bnn_clamp_masked(x, masked, mask, n, -1, 1);
    bnn_mask_select(dy, mask, dx, n);
    int clamped = mask[2] >> (n - 128) == 0;
    for (int i = 0; i < n; i++) {
        clamped &= y[i] == (x[i] < -1 ? -1 : (x[i] > 1 ? 1 : x[i])) && masked[i] == y[i];
        clamped &= dx[i] == (x[i] > -1 && x[i] < 1 ? dy[i] : 0);
    }
    expect(clamped, "element-wise", "clamp, its mask or its gradient differs from plain loops");
    return 2;
}

/// The name of an SGEMM micro-kernel family.
static const char *sgemm_name(bnn_sgemm_kernel kernel) {
    switch (kernel) {
    case BNN_SGEMM_AVX2_FMA: return "avx2";
    case BNN_SGEMM_AVX512: return "avx512";
    case BNN_SGEMM_NEON: return "neon";
    default: return "reference";
    }
}

// MARK: - bfloat16 GEMM

/// C = op(A)·B̃ by the dispatched bfloat16 kernel (NEON BF16 under qemu-aarch64, which emulates
/// it) and by the reference kernel, each against double-precision loops over the rounded operands.
static int check_bgemm(void) {
    static const size_t sizes[][3] = {{1, 1, 1}, {2, 7, 15}, {15, 2, 7}, {63, 64, 65}, {65, 17, 257}, {13, 33, 600}};
    const bnn_bgemm_kernel kernels[2] = {bnn_bgemm_active_kernel(), BNN_BGEMM_REFERENCE};
    int cases = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const size_t m = sizes[i][0], n = sizes[i][1], k = sizes[i][2];
        for (int form = 0; form < 3; form++) {
            const int trans_a = form == 2, trans_b = form == 1;
            const size_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
            float *a = random_floats(m * k), *b = random_floats(k * n);
            uint16_t *packed = malloc(bnn_bgemm_packed_b_count(n, k) * sizeof(uint16_t));
            bnn_bgemm_pack_b(trans_b, n, k, b, ldb, 0, (n + BNN_BGEMM_NR - 1) / BNN_BGEMM_NR, packed);
            for (int variant = 0; variant < 2; variant++) {
                float *c = calloc(m * n, sizeof(float));
                bnn_bgemm_packed(kernels[variant], trans_a, k, a, lda, packed, c, n, 0, 0, m, 0, n);
                double worst = 0;
                for (size_t r = 0; r < m; r++) {
                    for (size_t col = 0; col < n; col++) {
                        double exact = 0, magnitude = 0;
                        for (size_t p = 0; p < k; p++) {
                            const double x = bnn_float_from_bf16(bnn_bf16_from_float(trans_a ? a[p * lda + r] : a[r * lda + p]));
                            const double y = bnn_float_from_bf16(bnn_bf16_from_float(trans_b ? b[col * ldb + p] : b[p * ldb + col]));
                            exact += x * y;
                            magnitude += fabs(x * y);
                        }
                        const double error = fabs(c[r * n + col] - exact) / (1e-5 * magnitude + 1e-6);
                        if (error > worst) worst = error;
                    }
                }
                char label[112];
                snprintf(label, sizeof label, "bgemm kernel %d %zux%zux%zu form %d: error %.2f of the bound",
                         (int)kernels[variant], m, n, k, form, worst);
                expect(worst <= 1, "bgemm", label);
                cases++;
                free(c);
            }
            free(a), free(b), free(packed);
        }
    }
    expect(bnn_bf16_from_float(1.00390625f) == 0x3F80 && bnn_bf16_from_float(1.01171875f) == 0x3F82,
           "bgemm", "rounding ties to even");
    return cases + 1;
}

int main(void) {
    printf("kernel check on %s: kernel family %s, SGEMM %s, binary %s\n",
#if defined(__aarch64__)
           "arm64",
#elif defined(__x86_64__)
           "x86-64",
#else
           "another CPU",
#endif
           bnn_cpu_kernel_name(), sgemm_name(bnn_sgemm_active_kernel()), bnn_binary_kernel_name());
    int cases = check_sgemm();
    printf("sgemm: %d cases\n", cases);
    cases = check_bgemm();
    printf("bfloat16 gemm (%s): %d cases\n",
           bnn_bgemm_active_kernel() == BNN_BGEMM_REFERENCE ? "reference only" : "bf16 instructions", cases);
    cases = check_convolution();
    printf("float convolution: %d cases\n", cases);
    cases = check_bconv();
    printf("bfloat16 convolution: %d cases\n", cases);
    cases = check_binary();
    printf("binary convolution: %d cases\n", cases);
    cases = check_parallel();
    printf("worker pool and element-wise: %d cases\n", cases);
    printf("%s (%d mismatches)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
