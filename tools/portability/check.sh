#!/usr/bin/env bash
# The portability part of CI: the kernels that other CPUs run, checked on this machine under
# qemu-user against plain loops and the portable reference (tools/portability/kernel_check.c):
#   - arm64: the C kernels built for aarch64 (NEON SGEMM, NEON BF16 GEMM, binary convolution) under
#     qemu-aarch64, and on an emulated Cortex-A72 (no BF16), where the bfloat16 GEMM must fall back;
#   - x86-64 without AVX: the same program on an emulated Nehalem (SSE4.2, no AVX), where run-time
#     dispatch must pick the portable kernels; on an emulated Haswell (AVX2, no AVX-512), where it
#     must pick the AVX2 ones; and natively (this CPU's own variants);
#   - the Swift kernel (the bfloat16 ones on their portable reference there), element-wise and
#     data-pipeline test suites (whose resampler has an AVX2 variant) of the
#     release test binary on the emulated Nehalem, when
#     `swift test -c release` has built it (.build/release/BNNPackageTests.xctest).
# Installs qemu-user and the aarch64 cross C library with apt-get when they are missing and this
# runs as root; otherwise prints why it skips. The last line says PASS, FAIL or SKIPPED.
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${BNN_PORTABILITY_OUT:-.build/portability}"
cc="${CC:-clang}"

if ! command -v qemu-aarch64 >/dev/null 2>&1 || ! command -v aarch64-linux-gnu-ld >/dev/null 2>&1 \
    || [ ! -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || [ ! -d /usr/lib/gcc-cross/aarch64-linux-gnu ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "portability check: installing qemu-user and gcc-aarch64-linux-gnu (its C library and linker)"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user gcc-aarch64-linux-gnu; } \
            >/dev/null 2>&1; then
            echo "portability check: FAIL: apt-get could not install qemu-user gcc-aarch64-linux-gnu"
            exit 1
        fi
    else
        echo "portability check: SKIPPED: needs qemu-user and gcc-aarch64-linux-gnu (apt-get install qemu-user gcc-aarch64-linux-gnu)"
        exit 0
    fi
fi

mkdir -p "$out"
sources=(Sources/BNNKernels/*.c tools/portability/kernel_check.c)
flags=(-O2 -Wall -Werror -I Sources/BNNKernels/include -I Sources/BNNKernels)
status=0

echo "portability check: arm64 (NEON) under qemu-aarch64"
if ! "$cc" --target=aarch64-linux-gnu "${flags[@]}" "${sources[@]}" -o "$out/kernel_check_arm64" -lm -lpthread; then
    echo "portability check: FAIL: the kernels do not build for aarch64"
    exit 1
fi
timeout 600 qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/kernel_check_arm64" || status=1
echo "portability check: arm64 without the BF16 extension (emulated Cortex-A72)"
timeout 600 qemu-aarch64 -cpu cortex-a72 -L /usr/aarch64-linux-gnu "$out/kernel_check_arm64" || status=1

if [ "$(uname -m)" = x86_64 ]; then
    if ! "$cc" "${flags[@]}" "${sources[@]}" -o "$out/kernel_check_x86_64" -lm -lpthread; then
        echo "portability check: FAIL: the kernel check does not build for x86-64"
        exit 1
    fi
    echo "portability check: x86-64 without AVX (emulated Nehalem)"
    timeout 600 qemu-x86_64 -cpu Nehalem "$out/kernel_check_x86_64" || status=1
    echo "portability check: x86-64 with AVX2 and without AVX-512 (emulated Haswell)"
    timeout 600 qemu-x86_64 -cpu Haswell "$out/kernel_check_x86_64" 2> >(grep -v "TCG doesn't support" >&2) || status=1
    echo "portability check: x86-64, this CPU"
    "$out/kernel_check_x86_64" || status=1
    tests=.build/release/BNNPackageTests.xctest
    if [ -x "$tests" ]; then
        echo "portability check: Swift kernel and data-pipeline tests on the emulated Nehalem"
        if ! timeout 600 qemu-x86_64 -cpu Nehalem "$tests" --testing-library swift-testing \
            --filter "GEMMTests|ConvolutionTests|ConvolutionBFloat16Tests|BinaryConvolutionTests|BinaryPackingTests|ElementwiseKernelTests|ParallelPoolTests|BNNDataTests" \
            > "$out/nehalem-tests.log" 2>&1; then
            grep -E "✘" "$out/nehalem-tests.log" | head -20
            echo "portability check: the Swift tests failed on the emulated Nehalem (log: $out/nehalem-tests.log)"
            status=1
        else
            grep -E "Test run with" "$out/nehalem-tests.log" | tail -1
        fi
    fi
fi

if [ "$status" = 0 ]; then
    echo "portability check: PASS (arm64 NEON, x86-64 without AVX and with AVX2 only agree with the reference)"
else
    echo "portability check: FAIL (see the mismatches above)"
    exit 1
fi
