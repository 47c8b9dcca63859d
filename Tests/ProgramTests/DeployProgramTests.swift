import BNN
import BNNData
import BNNProgramSupport
import Foundation
import Testing

/// Train → export → infer with the real executables on a model with non-default widths: the
/// checkpoint carries its architecture, class names and evaluation settings, so neither export nor
/// inference needs an architecture flag (issue 13, item 13), the packed model evaluates as training
/// validated, and the packed engine gives the float model's logits.
@Suite struct DeployProgramTests {
    private static func tool(_ name: String) -> URL { ProgramRunner.buildDirectory.appendingPathComponent(name) }

    /// A checkpoint of a model with non-default widths, trained one epoch on 8 images by the real
    /// `birealnet-train` in `root/run`, validated with a centre crop of 0.9 after a bicubic resize.
    private static func trainedCheckpoint(in root: URL) throws -> URL {
        let run = root.appendingPathComponent("run")
        let trained = try ProgramRunner.run(tool("birealnet-train"), [
            "--run-dir", run.path, "--epochs", "1", "--train-samples", "8", "--val-samples", "8", "--batch-size", "4",
            "--widths", "[8, 16, 24, 40]", "--image-size", "20", "--crop-pct", "0.9", "--interpolation", "bicubic",
        ])
        #expect(trained.status == 0, "\(trained.message)")
        return run.appendingPathComponent("last.safetensors")
    }

    @Test func aTrainedCheckpointExportsAndRunsWithoutArchitectureFlags() throws {
        let root = try TrainProgramTests.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try Self.trainedCheckpoint(in: root)
        let packedURL = root.appendingPathComponent("model.bnnpack")
        let exported = try ProgramRunner.run(Self.tool("birealnet-export"), ["--weights", checkpoint.path, "--output", packedURL.path])
        #expect(exported.status == 0, "\(exported.message)")
        // The evaluation settings training validated with reach the packed model; --crop-pct overrides the crop.
        let evaluation = EvaluationSettings(cropFraction: 0.9, filter: .bicubic)
        let stored = try ModelArchitecture.stored(in: try SafeTensorsFile(contentsOf: checkpoint).metadata, file: checkpoint.path)
        #expect(stored?.evaluation == evaluation)
        #expect(try SafeTensorsFile(contentsOf: packedURL).metadata["preprocessing"]
                == #"{"crop_pct":"0.9","eval_interpolation":"bicubic"}"#)
        let cropped = root.appendingPathComponent("cropped.bnnpack")
        let recropped = try ProgramRunner.run(Self.tool("birealnet-export"), [
            "--weights", checkpoint.path, "--output", cropped.path, "--crop-pct", "1",
        ])
        #expect(recropped.status == 0, "\(recropped.message)")
        #expect(try SafeTensorsFile(contentsOf: cropped).metadata["preprocessing"]
                == #"{"crop_pct":"1.0","eval_interpolation":"bicubic"}"#)

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

    /// `--float-precision bf16` writes the float layers' weights as bfloat16 (a smaller file the
    /// engine runs); `--evaluate DIR --predictions FILE` lists each image's label and top-1 class, so
    /// two models can be compared image by image; `--predictions` alone is a command-line mistake.
    @Test func bfloat16FloatLayersAndPerImagePredictions() throws {
        let root = try TrainProgramTests.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try Self.trainedCheckpoint(in: root)
        // Four real images in two class folders, from the data tests' fixtures.
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../BNNDataTests/Fixtures/images").standardizedFileURL
        let folder = root.appendingPathComponent("images")
        for (name, files) in [("a", ["rgb.png", "baseline.jpg"]), ("b", ["gray.jpg", "palette.png"])] {
            let classFolder = folder.appendingPathComponent("val/\(name)")
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            for file in files {
                try FileManager.default.copyItem(at: fixtures.appendingPathComponent(file), to: classFolder.appendingPathComponent(file))
            }
        }
        var sizes: [Int] = []
        for precision in ["fp32", "bf16"] {
            let packed = root.appendingPathComponent("\(precision).bnnpack")
            let exported = try ProgramRunner.run(Self.tool("birealnet-export"), [
                "--weights", checkpoint.path, "--output", packed.path, "--float-precision", precision,
            ])
            #expect(exported.status == 0, "\(exported.message)")
            sizes.append((try FileManager.default.attributesOfItem(atPath: packed.path)[.size] as? Int) ?? 0)
            let csv = root.appendingPathComponent("\(precision).csv")
            let evaluated = try ProgramRunner.run(Self.tool("birealnet-infer"), [
                "--weights", packed.path, "--evaluate", folder.path, "--predictions", csv.path,
            ])
            #expect(evaluated.status == 0, "\(evaluated.message)")
            let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.first == "label,predicted" && lines.count == 5, "\(lines)")
            #expect(lines.dropFirst().map { $0.split(separator: ",").first.map(String.init) ?? "" } == ["0", "0", "1", "1"])
        }
        #expect(sizes[1] < sizes[0], "bf16 file \(sizes[1]) bytes, fp32 \(sizes[0])")
        let refused = try ProgramRunner.run(Self.tool("birealnet-infer"), [
            "--weights", root.appendingPathComponent("fp32.bnnpack").path, "--predictions", root.appendingPathComponent("p.csv").path,
        ])
        #expect(refused.status == 2 && refused.message.contains("--predictions"), "\(refused.message)")
        let badCrop = try ProgramRunner.run(Self.tool("birealnet-infer"), [
            "--weights", root.appendingPathComponent("fp32.bnnpack").path, "--evaluate", folder.path, "--crop-pct", "0",
        ])
        #expect(badCrop.status == 2 && badCrop.message.contains("--crop-pct expects a number in 0.05...1.0, got '0'"),
                "\(badCrop.message)")
        let wrong = try ProgramRunner.run(Self.tool("birealnet-export"), [
            "--weights", checkpoint.path, "--output", root.appendingPathComponent("x.bnnpack").path, "--float-precision", "fp16",
        ])
        #expect(wrong.status == 2 && wrong.message.contains("--float-precision must be one of fp32, bf16"), "\(wrong.message)")
        let alone = try ProgramRunner.run(Self.tool("birealnet-export"), [
            "--weights", checkpoint.path, "--output", root.appendingPathComponent("y.bnnpack").path, "--float-precision-layers", "fc",
        ])
        #expect(alone.status == 2 && alone.message.contains("give --float-precision too"), "\(alone.message)")
        let unmatched = try ProgramRunner.run(Self.tool("birealnet-export"), [
            "--weights", checkpoint.path, "--output", root.appendingPathComponent("z.bnnpack").path, "--float-precision", "bf16",
            "--float-precision-layers", "classifier",
        ])
        #expect(unmatched.status == 2 && unmatched.message.contains("--float-precision-layers: no float layer's name contains 'classifier'")
                && unmatched.message.contains("fc"), "\(unmatched.message)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("z.bnnpack").path))
    }
}
