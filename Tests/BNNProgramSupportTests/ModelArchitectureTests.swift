import BNN
import BNNProgramSupport
import Foundation
import Testing

@Suite("Architectures by name and from checkpoint metadata")
struct ModelArchitectureTests {
    @Test("Drop path reaches the residual blocks of every family, linear in depth", arguments: ["birealnet18", "react-resnet18", "reactnet-a"])
    func dropPathOnEveryFamily(name: String) throws {
        let architecture = ModelArchitecture(name: name, classes: 5, widths: [8, 16, 32, 64], stem: .small, dropPathRate: 0.2)
        let model = try architecture.makeModel(seed: 1).model
        let residuals = DropPath.residuals(in: model)
        #expect(residuals.count > 3)
        #expect(residuals.first?.dropPath == nil)
        let lastRate = residuals.last?.dropPath?.rate ?? 0
        #expect(abs(lastRate - 0.2) < 1e-12)
        let rates = residuals.map { $0.dropPath?.rate ?? 0 }
        #expect(rates == rates.sorted())
        // Without a rate, no block drops anything.
        let plain = try ModelArchitecture(name: name, classes: 5, widths: [8, 16, 32, 64], stem: .small).makeModel(seed: 1).model
        let plainDropPaths = DropPath.residuals(in: plain).compactMap(\.dropPath)
        #expect(plainDropPaths.isEmpty)
    }

    /// `entries` as the `bnn.configuration` metadata of a checkpoint.
    private func metadata(_ entries: [String: String]) throws -> [String: String] {
        [ModelArchitecture.metadataKey: String(decoding: try JSONEncoder().encode(entries), as: UTF8.self)]
    }

    @Test("The stored configuration reads back, and a malformed entry names the file and the entry")
    func storedConfiguration() throws {
        let architecture = ModelArchitecture(name: "reactnet-a", classes: 7, widths: [8, 16, 32, 64], stem: .small, stage: 1)
        let evaluation = EvaluationSettings(cropFraction: 1, filter: .bicubic)
        let entries = architecture.metadata(imageSize: 28, evaluation: evaluation)
        #expect(entries["crop_pct"] == "1.0" && entries["eval_interpolation"] == "bicubic")
        let stored = try #require(try ModelArchitecture.stored(in: metadata(entries), file: "x.safetensors"))
        #expect(stored == CheckpointConfiguration(architecture: architecture, imageSize: 28, evaluation: evaluation))
        #expect(try ModelArchitecture.stored(in: [:], file: "x.safetensors") == nil)
        let bad = #"{"arch": "birealnet18", "classes": "10", "widths": "[1, 2]"}"#
        #expect {
            try ModelArchitecture.stored(in: [ModelArchitecture.metadataKey: bad], file: "x.safetensors")
        } throws: { error in
            "\(error)".contains("x.safetensors: metadata 'bnn.configuration' entry 'widths' must be four integers")
        }
    }

    @Test("Any crop fraction in range, 1/3 included, reads back exactly", arguments: [0.9, 1.0 / 3, 0.05, 1])
    func cropFractionRoundTrip(fraction: Double) throws {
        let entries = ModelArchitecture(name: "birealnet18", classes: 3)
            .metadata(imageSize: 32, evaluation: EvaluationSettings(cropFraction: fraction))
        let stored = try #require(try ModelArchitecture.stored(in: metadata(entries), file: "x.safetensors"))
        #expect(stored.evaluation?.cropFraction == fraction)
    }

    @Test("A checkpoint written before the evaluation settings were stored has none, and is evaluated with the defaults")
    func checkpointWithoutEvaluationSettings() throws {
        var entries = ModelArchitecture(name: "birealnet18", classes: 10, stem: .small)
            .metadata(imageSize: 28, evaluation: EvaluationSettings(cropFraction: 1, filter: .nearest))
        entries["crop_pct"] = nil
        entries["eval_interpolation"] = nil
        let stored = try #require(try ModelArchitecture.stored(in: metadata(entries), file: "old.safetensors"))
        #expect(stored.evaluation == nil)
        let evaluation = try EvaluationSettings.resolve(CommandLineArguments([], options: EvaluationSettings.options),
                                                        stored: stored.evaluation)
        #expect(evaluation.cropFraction == 0.875 && evaluation.filter == .bilinear)
        #expect(stored.imageSize == 28)
    }

    @Test("A malformed evaluation entry names the file, the entry, what it must be and what was found",
          arguments: [("crop_pct", "0", "must be a number in 0.05...1.0, found '0'"),
                      ("crop_pct", "1.5", "must be a number in 0.05...1.0, found '1.5'"),
                      ("crop_pct", "nan", "must be a number in 0.05...1.0, found 'nan'"),
                      ("crop_pct", "", "must be a number in 0.05...1.0, found ''"),
                      ("eval_interpolation", "random", "must be one of nearest, bilinear, bicubic, found 'random'")])
    func malformedEvaluationEntry(key: String, value: String, message: String) throws {
        var entries = ModelArchitecture(name: "birealnet18", classes: 10).metadata(imageSize: 224, evaluation: EvaluationSettings())
        entries[key] = value
        #expect {
            try ModelArchitecture.stored(in: metadata(entries), file: "x.safetensors")
        } throws: { error in
            "\(error)" == "x.safetensors: metadata 'bnn.configuration' entry '\(key)' \(message)"
        }
    }
}
