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

    @Test("The stored configuration reads back, and a malformed entry names the file and the entry")
    func storedConfiguration() throws {
        let architecture = ModelArchitecture(name: "reactnet-a", classes: 7, widths: [8, 16, 32, 64], stem: .small, stage: 1)
        let json = String(decoding: try JSONEncoder().encode(architecture.metadata(imageSize: 28)), as: UTF8.self)
        let stored = try #require(try ModelArchitecture.stored(in: [ModelArchitecture.metadataKey: json], file: "x.safetensors"))
        #expect(stored.architecture == architecture && stored.imageSize == 28)
        #expect(try ModelArchitecture.stored(in: [:], file: "x.safetensors") == nil)
        let bad = #"{"arch": "birealnet18", "classes": "10", "widths": "[1, 2]"}"#
        #expect {
            try ModelArchitecture.stored(in: [ModelArchitecture.metadataKey: bad], file: "x.safetensors")
        } throws: { error in
            "\(error)".contains("x.safetensors: metadata 'bnn.configuration' entry 'widths' must be four integers")
        }
    }
}
