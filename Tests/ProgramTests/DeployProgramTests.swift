import BNN
import BNNProgramSupport
import Foundation
import Testing

/// Train → export → infer with the real executables on a model with non-default widths: the
/// checkpoint carries its architecture and class names, so neither export nor inference needs an
/// architecture flag (issue 13, item 13), and the packed engine gives the float model's logits.
@Suite struct DeployProgramTests {
    private static func tool(_ name: String) -> URL { ProgramRunner.buildDirectory.appendingPathComponent(name) }

    @Test func aTrainedCheckpointExportsAndRunsWithoutArchitectureFlags() throws {
        let root = try TrainProgramTests.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        let trained = try ProgramRunner.run(Self.tool("birealnet-train"), [
            "--run-dir", run.path, "--epochs", "1", "--train-samples", "8", "--val-samples", "8", "--batch-size", "4",
            "--widths", "[8, 16, 24, 40]", "--image-size", "20",
        ])
        #expect(trained.status == 0, "\(trained.message)")
        let checkpoint = run.appendingPathComponent("last.safetensors")
        let packedURL = root.appendingPathComponent("model.bnnpack")
        let exported = try ProgramRunner.run(Self.tool("birealnet-export"), ["--weights", checkpoint.path, "--output", packedURL.path])
        #expect(exported.status == 0, "\(exported.message)")

        var generator = SeededGenerator(seed: 3)
        let images = Tensor(randomNormal: [3, 3, 20, 20], generator: &generator)
        let input = root.appendingPathComponent("x.npy")
        try NumPyFile.write(images, to: input)
        var logits: [String: Tensor] = [:]
        for (name, weights) in [("packed", packedURL), ("float", checkpoint)] {
            let output = root.appendingPathComponent("\(name).npy")
            let inferred = try ProgramRunner.run(Self.tool("birealnet-infer"),
                                                 ["--weights", weights.path, "--input", input.path, "--output", output.path])
            #expect(inferred.status == 0, "\(inferred.message)")
            logits[name] = try NumPyFile.read(output)
        }
        let packed = try #require(logits["packed"]), float = try #require(logits["float"])
        #expect(packed.shape == float.shape && packed.shape.first == 3 && packed.count > 3)
        let scale = float.scalars.map(abs).max() ?? 1
        let difference = zip(packed.scalars, float.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(difference <= 1e-4 * scale, "packed and float logits differ by \(difference)")

        // NaN input: both engines refuse it, naming the value.
        let nan = root.appendingPathComponent("nan.npy")
        var scalars = images.scalars
        scalars[5] = .nan
        try NumPyFile.write(Tensor(shape: images.shape, scalars: scalars), to: nan)
        for weights in [packedURL, checkpoint] {
            let refused = try ProgramRunner.run(Self.tool("birealnet-infer"), [
                "--weights", weights.path, "--input", nan.path, "--output", root.appendingPathComponent("o.npy").path,
            ])
            #expect(refused.status != 0 && refused.message.contains("NaN or infinite"), "\(refused.message)")
        }

        // A packed file whose `format` entry is gone is still recognised as one, not read as a checkpoint.
        let stripped = root.appendingPathComponent("stripped.bnnpack")
        let file = try SafeTensorsFile(contentsOf: packedURL)
        var writer = SafeTensorsWriter(metadata: file.metadata.filter { $0.key != "format" })
        for info in file.tensors { writer.add(bytes: try file.bytes(info.name), shape: info.shape, dtype: info.dtype, named: info.name) }
        try writer.write(to: stripped)
        let unnamed = try ProgramRunner.run(Self.tool("birealnet-infer"), [
            "--weights", stripped.path, "--input", input.path, "--output", root.appendingPathComponent("s.npy").path,
        ])
        #expect(unnamed.status == 1 && unnamed.message.contains("\(stripped.path) is not a packed model (metadata 'format' is missing"),
                "\(unnamed.message)")

        // A damaged packed file is refused, naming the file.
        var bytes = try Data(contentsOf: packedURL)
        bytes[bytes.count - 3] ^= 0x40
        try bytes.write(to: packedURL)
        let damaged = try ProgramRunner.run(Self.tool("birealnet-infer"), [
            "--weights", packedURL.path, "--input", input.path, "--output", root.appendingPathComponent("d.npy").path,
        ])
        #expect(damaged.status == 1 && damaged.message.contains(packedURL.path), "\(damaged.message)")
    }
}
