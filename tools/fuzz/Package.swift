// swift-tools-version: 6.1
// libFuzzer targets for BNN's file parsers, kept out of the product's build: tools/fuzz/run.sh builds
// them with `-sanitize=fuzzer,address` and runs each for a bounded time with bounded memory.
import PackageDescription

let package = Package(
    name: "BNNFuzz",
    dependencies: [.package(name: "BNN", path: "../..")],
    targets: [
        // The libFuzzer driver shared by the targets.
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
        // safetensors files: header, metadata, offsets, every tensor decoded, checkpoint interpretation.
        .executableTarget(name: "fuzz-safetensors", dependencies: ["FuzzSupport", .product(name: "BNN", package: "BNN")],
                          path: "Sources/fuzz-safetensors"),
        // NumPy .npy arrays.
        .executableTarget(name: "fuzz-npy", dependencies: ["FuzzSupport", .product(name: "BNN", package: "BNN"),
                                                          .product(name: "BNNProgramSupport", package: "BNN")],
                          path: "Sources/fuzz-npy"),
        // .bnnpack packed models: format, checksum, graph, tensors and plan checks (also resealed past the checksum).
        .executableTarget(name: "fuzz-bnnpack", dependencies: ["FuzzSupport", .product(name: "BNN", package: "BNN"),
                                                              .product(name: "BNNInference", package: "BNN")],
                          path: "Sources/fuzz-bnnpack"),
        // The flat YAML configuration parser and its typed accessors.
        .executableTarget(name: "fuzz-yaml", dependencies: ["FuzzSupport", .product(name: "BNNProgramSupport", package: "BNN")],
                          path: "Sources/fuzz-yaml"),
    ],
    swiftLanguageModes: [.v5]
)
