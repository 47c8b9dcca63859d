// swift-tools-version: 6.1
// BNN: binary neural networks in Swift. No package dependencies; CPU features are reached through
// the C target `BNNKernels` with per-function target attributes and run-time dispatch.
import PackageDescription

let package = Package(
    name: "BNN",
    products: [
        .library(name: "BNN", targets: ["BNN"]),
        .library(name: "BiRealNet", targets: ["BiRealNet"]),
        .library(name: "BNNData", targets: ["BNNData"]),
    ],
    traits: [
        .trait(name: "MPI", description: "Distributed data-parallel training over MPI (needs libopenmpi-dev)."),
    ],
    targets: [
        // C micro-kernels: SGEMM, bit packing, XNOR-popcount; a portable reference beside each fast variant.
        .target(name: "BNNKernels", path: "Sources/BNNKernels"),
        // Core library: tensors, layers, quantizers, losses, optimizers, checkpoints, summary.
        .target(name: "BNN", dependencies: ["BNNKernels"], path: "Sources/BNN"),
        // The Bi-Real Net model family.
        .target(name: "BiRealNet", dependencies: ["BNN"], path: "Sources/BiRealNet"),
        // System image codecs.
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // AVX2 passes of the image resampler (BNNData holds the portable reference).
        .target(name: "CImageKernels", dependencies: ["BNNKernels"], path: "Sources/CImageKernels"),
        // Image folders, decoding, augmentation and batch loading.
        .target(name: "BNNData", dependencies: ["BNN", "CJPEG", "CPNG", "CImageKernels"], path: "Sources/BNNData"),

        // Example programs and their shared command-line helpers.
        .target(name: "CLISupport", path: "Examples/CLISupport"),
        .executableTarget(name: "birealnet-train", dependencies: ["BiRealNet", "BNN", "BNNData", "CLISupport"],
                          path: "Examples/Train"),
        .executableTarget(name: "birealnet-infer", dependencies: ["BiRealNet", "BNN", "CLISupport"], path: "Examples/Infer"),

        // bnn-bench: kernel and whole-model benchmarks.
        .executableTarget(name: "bnn-bench", dependencies: ["BNN", "BNNKernels", "BiRealNet"], path: "Benchmarks/BNNBench"),

        .target(name: "BNNTestSupport", dependencies: ["BNN"], path: "Tests/BNNTestSupport"),
        .testTarget(name: "BNNTests", dependencies: ["BNN", "BNNTestSupport"], path: "Tests/BNNTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BNNKernelsTests", dependencies: ["BNN", "BNNKernels", "BNNTestSupport"],
                    path: "Tests/BNNKernelsTests"),
        .testTarget(name: "BiRealNetTests", dependencies: ["BiRealNet", "BNNData", "BNNTestSupport"],
                    path: "Tests/BiRealNetTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "BNNDataTests", dependencies: ["BNNData", "BNNTestSupport"],
                    path: "Tests/BNNDataTests", resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
