// swift-tools-version: 6.1
// BNN: binary neural networks in Swift. No package dependencies; CPU features are reached through
// the C target `BNNKernels` with per-function target attributes and run-time dispatch.
import PackageDescription

let package = Package(
    name: "BNN",
    products: [
        .library(name: "BNN", targets: ["BNN"]),
        .library(name: "BiRealNet", targets: ["BiRealNet"]),
        .library(name: "ReActNet", targets: ["ReActNet"]),
        .library(name: "BNNData", targets: ["BNNData"]),
        .library(name: "BNNDistributed", targets: ["BNNDistributed"]),
        .library(name: "BNNInference", targets: ["BNNInference"]),
        .library(name: "BNNProgramSupport", targets: ["BNNProgramSupport"]),
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
        // ReActNet-A, ReAct-ResNet-18 and the float ResNet teachers.
        .target(name: "ReActNet", dependencies: ["BNN"], path: "Sources/ReActNet"),
        // System image codecs.
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // AVX2 passes of the image resampler (BNNData holds the portable reference).
        .target(name: "CImageKernels", dependencies: ["BNNKernels"], path: "Sources/CImageKernels"),
        // Image folders, decoding, augmentation and batch loading.
        .target(name: "BNNData", dependencies: ["BNN", "CJPEG", "CPNG", "CImageKernels"], path: "Sources/BNNData"),
        // Open MPI through pkg-config `ompi`; only built with the trait MPI.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi", providers: [.apt(["libopenmpi-dev"])]),
        // Data-parallel training: communicators, gradient averaging, synchronised BatchNorm. Without the
        // trait MPI only the single-process communicator exists.
        .target(name: "BNNDistributed",
                dependencies: ["BNN", .target(name: "CMPI", condition: .when(traits: ["MPI"]))],
                path: "Sources/BNNDistributed"),
        // Deployment of any network built from BNN's layers: export into a plan of fused steps, the
        // `.bnnpack` file format, the engine that runs it.
        .target(name: "BNNInference", dependencies: ["BNN", "BNNKernels"], path: "Sources/BNNInference"),

        // What only the programs use: command-line parsing, architectures by name and from checkpoint
        // metadata, a model's evaluation settings, flat YAML configurations, the SVG training chart,
        // NumPy `.npy` files.
        .target(name: "BNNProgramSupport", dependencies: ["BNN", "BiRealNet", "ReActNet", "BNNData"], path: "Sources/BNNProgramSupport"),

        // Example programs.
        .executableTarget(name: "birealnet-train", dependencies: ["BiRealNet", "ReActNet", "BNN", "BNNData", "BNNDistributed", "BNNProgramSupport"],
                          path: "Examples/Train"),
        .executableTarget(name: "birealnet-infer", dependencies: ["BNN", "BNNData", "BNNInference", "BNNProgramSupport"],
                          path: "Examples/Infer"),
        .executableTarget(name: "birealnet-export", dependencies: ["BNN", "BNNData", "BNNInference", "BNNProgramSupport"],
                          path: "Examples/Export"),

        // bnn-bench: kernel and whole-model benchmarks.
        .executableTarget(name: "bnn-bench", dependencies: ["BNN", "BNNKernels", "BiRealNet", "ReActNet", "BNNData", "BNNInference"], path: "Benchmarks/BNNBench"),

        // bnn-mpi: the 2-rank equivalence check and the scaling / all-reduce benchmark (run under mpirun).
        .executableTarget(name: "bnn-mpi", dependencies: ["BNN", "BiRealNet", "BNNData", "BNNDistributed"],
                          path: "tools/mpi/BNNMPI"),

        .target(name: "BNNTestSupport", dependencies: ["BNN"], path: "Tests/BNNTestSupport"),
        .testTarget(name: "BNNTests", dependencies: ["BNN", "BNNTestSupport"], path: "Tests/BNNTests",
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BNNKernelsTests", dependencies: ["BNN", "BNNKernels", "BNNTestSupport"],
                    path: "Tests/BNNKernelsTests"),
        .testTarget(name: "BiRealNetTests", dependencies: ["BiRealNet", "BNNData", "BNNTestSupport"],
                    path: "Tests/BiRealNetTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "BNNDistributedTests", dependencies: ["BNNDistributed", "BNN", "BiRealNet", "BNNTestSupport", "bnn-mpi"],
                    path: "Tests/BNNDistributedTests"),
        .testTarget(name: "ReActNetTests", dependencies: ["ReActNet", "BNN", "BNNTestSupport"],
                    path: "Tests/ReActNetTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "BNNInferenceTests", dependencies: ["BNNInference", "BiRealNet", "ReActNet", "BNN", "BNNTestSupport"],
                    path: "Tests/BNNInferenceTests"),
        .testTarget(name: "BNNProgramSupportTests", dependencies: ["BNNProgramSupport", "BNN", "BNNData", "BNNTestSupport"],
                    path: "Tests/BNNProgramSupportTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "BNNDataTests", dependencies: ["BNNData", "BNNTestSupport"],
                    path: "Tests/BNNDataTests", resources: [.copy("Fixtures")]),
        .testTarget(name: "ProgramTests", dependencies: ["birealnet-train", "birealnet-export", "birealnet-infer", "BNN", "BNNData", "BNNProgramSupport"],
                    path: "Tests/ProgramTests"),
    ],
    swiftLanguageModes: [.v5]
)
