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

    /// `root/images`: four real images from the data tests' fixtures in two class folders, `a` and `b`,
    /// in each of `splits`.
    private static func imageFolder(in root: URL, splits: [String] = ["val"]) throws -> URL {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../BNNDataTests/Fixtures/images").standardizedFileURL
        let folder = root.appendingPathComponent("images")
        for split in splits {
            for (name, files) in [("a", ["rgb.png", "baseline.jpg"]), ("b", ["gray.jpg", "palette.png"])] {
                let classFolder = folder.appendingPathComponent("\(split)/\(name)")
                try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
                for file in files {
                    try FileManager.default.copyItem(at: fixtures.appendingPathComponent(file), to: classFolder.appendingPathComponent(file))
                }
            }
        }
        return folder
    }

    /// Exports `checkpoint` to `root/<name>.bnnpack` with the extra `flags`, expecting success.
    private static func export(_ checkpoint: URL, to name: String, in root: URL, _ flags: [String] = []) throws -> URL {
        let packed = root.appendingPathComponent("\(name).bnnpack")
        let exported = try ProgramRunner.run(tool("birealnet-export"), ["--weights", checkpoint.path, "--output", packed.path] + flags)
        #expect(exported.status == 0, "\(exported.message)")
        return packed
    }

    /// The number before the `%` that follows `label` in `line` (e.g. 50 for `top-1 50.00%`).
    private static func percent(after label: String, in line: String) -> Double? {
        line.range(of: label).flatMap { Double(line[$0.upperBound...].prefix { $0 != "%" }) }
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
        let folder = try Self.imageFolder(in: root)
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

    /// `--compare B` runs a second model on the images `--evaluate` prepares for `--weights`: the same
    /// model agrees on every image with the same accuracy; a bfloat16 export's agreement is printed,
    /// written to JSON and matches the third column `--predictions` adds. Mistakes are named:
    /// `--compare` without `--evaluate` (status 2), a missing file (1), another crop or input size (2).
    @Test func compareReportsTheTop1AgreementOfTwoModels() throws {
        let root = try TrainProgramTests.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try Self.trainedCheckpoint(in: root)
        let folder = try Self.imageFolder(in: root)
        let fp32 = try Self.export(checkpoint, to: "fp32", in: root)
        let bf16 = try Self.export(checkpoint, to: "bf16", in: root, ["--float-precision", "bf16"])
        func infer(_ arguments: [String]) throws -> (status: Int32, output: String, message: String) {
            try ProgramRunner.runReadingOutput(Self.tool("birealnet-infer"), arguments)
        }
        func lines(_ output: String) -> (evaluation: String, agreement: String) {
            let lines = output.split(separator: "\n").map(String.init)
            return (lines.first { $0.contains(" engine (") } ?? "", lines.first { $0.hasPrefix("agreement with ") } ?? "")
        }

        // The same model: every top-1 class the same, its accuracy the evaluated model's.
        let same = try infer(["--weights", fp32.path, "--evaluate", folder.path, "--compare", fp32.path])
        #expect(same.status == 0, "\(same.message)")
        let (evaluation, agreement) = lines(same.output)
        #expect(agreement.hasPrefix("agreement with \(fp32.path): same top-1 class on 100.00% of 4 images (4); its top-1 ")
                && agreement.hasSuffix(" images/s in the network"), "\(same.output)")
        #expect(Self.percent(after: "top-1 ", in: evaluation) != nil, "\(same.output)")
        #expect(Self.percent(after: "its top-1 ", in: agreement) == Self.percent(after: "top-1 ", in: evaluation))
        #expect(Self.percent(after: "top-5 ", in: agreement) == Self.percent(after: "top-5 ", in: evaluation))

        // The bfloat16 export: the line, and a CSV whose third column gives the same count.
        let csv = root.appendingPathComponent("compared.csv")
        let mixed = try infer(["--weights", fp32.path, "--evaluate", folder.path, "--compare", bf16.path, "--predictions", csv.path])
        #expect(mixed.status == 0, "\(mixed.message)")
        let line = lines(mixed.output).agreement
        let prefix = "agreement with \(bf16.path): same top-1 class on "
        #expect(line.hasPrefix(prefix), "\(mixed.output)")
        let printed = try #require(Self.percent(after: prefix, in: line), "\(line)")
        let count = try #require(line.range(of: " images (").flatMap { Int(line[$0.upperBound...].prefix { $0 != ")" }) }, "\(line)")
        #expect((0...100).contains(printed) && (0...4).contains(count) && abs(printed - 25 * Double(count)) < 0.01, "\(line)")
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(rows.first == ["label", "predicted", "compared"] && rows.count == 5 && rows.allSatisfy { $0.count == 3 }, "\(rows)")
        let values = rows.dropFirst().map { $0.compactMap(Int.init) }
        #expect(values.filter { $0[1] == $0[2] }.count == count, "\(rows) against \(line)")
        let comparedTop1 = 25 * Double(values.filter { $0[0] == $0[2] }.count)
        #expect(Self.percent(after: "its top-1 ", in: line).map { abs($0 - comparedTop1) < 0.01 } == true, "\(rows) against \(line)")

        // --json: a `comparison` object.
        let json = try infer(["--weights", fp32.path, "--evaluate", folder.path, "--compare", bf16.path, "--json"])
        #expect(json.status == 0, "\(json.message)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json.output)")
        let comparison = try #require(object["comparison"] as? [String: Any], "\(json.output)")
        #expect(comparison["path"] as? String == bf16.path && comparison["images"] as? Int == 4
                && comparison["sameTop1"] as? Int == count, "\(json.output)")
        #expect((comparison["agreement"] as? Double).map { abs($0 - Double(count) / 4) < 1e-9 } == true, "\(json.output)")
        #expect(comparison["top1"] is Double && comparison["top5"] is Double, "\(json.output)")

        // A float checkpoint beside its packed export: the same stored settings, so accepted.
        let float = try infer(["--weights", checkpoint.path, "--evaluate", folder.path, "--compare", fp32.path])
        #expect(float.status == 0 && lines(float.output).agreement.hasPrefix("agreement with \(fp32.path)"), "\(float.message)")

        let alone = try infer(["--weights", fp32.path, "--compare", bf16.path])
        #expect(alone.status == 2 && alone.message.contains("--compare") && alone.message.contains("--evaluate"), "\(alone.message)")
        let missing = root.appendingPathComponent("missing.bnnpack").path
        let absent = try infer(["--weights", fp32.path, "--evaluate", folder.path, "--compare", missing])
        #expect(absent.status == 1 && absent.message.contains(missing), "\(absent.message)")

        // Another crop is refused, naming both files, unless --crop-pct sets one crop for both.
        let cropped = try Self.export(checkpoint, to: "cropped", in: root, ["--crop-pct", "1"])
        let otherCrop = try infer(["--weights", fp32.path, "--evaluate", folder.path, "--compare", cropped.path])
        #expect(otherCrop.status == 2 && otherCrop.message.contains("--compare \(cropped.path) is evaluated with centre crop 1.0 "
                + "but --weights \(fp32.path) with 0.9"), "\(otherCrop.message)")
        let oneCrop = try infer(["--weights", fp32.path, "--evaluate", folder.path, "--compare", cropped.path, "--crop-pct", "1"])
        #expect(oneCrop.status == 0 && lines(oneCrop.output).agreement.hasPrefix("agreement with \(cropped.path)"), "\(oneCrop.message)")
        // Another input size is refused.
        let larger = try Self.export(checkpoint, to: "larger", in: root, ["--image-size", "24"])
        let otherSize = try infer(["--weights", fp32.path, "--evaluate", folder.path, "--compare", larger.path])
        #expect(otherSize.status == 2 && otherSize.message.contains("--compare \(larger.path) takes 24×24 images but --weights "
                + "\(fp32.path) 20×20"), "\(otherSize.message)")
    }

    /// `--compare` with a model of another class count (one trained on a two-class folder beside one
    /// trained on the synthetic shapes) is a model error, status 1, naming both files.
    @Test func compareRefusesAModelOfOtherClasses() throws {
        let root = try TrainProgramTests.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let shapes = try Self.trainedCheckpoint(in: root)
        let folder = try Self.imageFolder(in: root, splits: ["train", "val"])
        let run = root.appendingPathComponent("two-classes")
        let trained = try ProgramRunner.run(Self.tool("birealnet-train"), [
            "--run-dir", run.path, "--data", folder.path, "--epochs", "1", "--batch-size", "2",
            "--widths", "[8, 16, 24, 40]", "--image-size", "20",
        ])
        #expect(trained.status == 0, "\(trained.message)")
        let twoClasses = run.appendingPathComponent("last.safetensors")
        let refused = try ProgramRunner.run(Self.tool("birealnet-infer"), [
            "--weights", shapes.path, "--evaluate", folder.path, "--compare", twoClasses.path,
        ])
        #expect(refused.status == 1 && refused.message.contains("--compare \(twoClasses.path) has 2 classes but --weights \(shapes.path) has "),
                "\(refused.message)")
    }

    /// Two models of the same class count whose class names differ in order are refused, naming the
    /// first class that differs; a model whose names are only placeholders is compared by position.
    @Test func compareRefusesClassesInAnotherOrder() throws {
        let root = try TrainProgramTests.directory()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try Self.trainedCheckpoint(in: root)
        let folder = try Self.imageFolder(in: root)
        let names = (0..<8).map { "kind\($0)" }   // the checkpoint's 8 classes
        let forward = root.appendingPathComponent("forward.txt"), backward = root.appendingPathComponent("backward.txt")
        try names.joined(separator: "\n").write(to: forward, atomically: true, encoding: .utf8)
        try names.reversed().joined(separator: "\n").write(to: backward, atomically: true, encoding: .utf8)
        let a = try Self.export(checkpoint, to: "a", in: root, ["--class-names", forward.path])
        let b = try Self.export(checkpoint, to: "b", in: root, ["--class-names", backward.path])
        let refused = try ProgramRunner.run(Self.tool("birealnet-infer"), [
            "--weights", a.path, "--evaluate", folder.path, "--compare", b.path,
        ])
        #expect(refused.status == 1 && refused.message.contains("names class 0 'kind7' but --weights \(a.path) names it 'kind0'"),
                "\(refused.message)")
        let same = try ProgramRunner.run(Self.tool("birealnet-infer"), [
            "--weights", a.path, "--evaluate", folder.path, "--compare", Self.export(checkpoint, to: "c", in: root, ["--class-names", forward.path]).path,
        ])
        #expect(same.status == 0, "\(same.message)")
    }
}
