import BNNData
import BNNProgramSupport
import Testing

@Suite("Evaluation settings: a model's own, overridden by --crop-pct")
struct EvaluationSettingsTests {
    private func arguments(_ flags: [String]) throws -> CommandLineArguments {
        try CommandLineArguments(flags, options: EvaluationSettings.options)
    }

    @Test("Without --crop-pct the model's own settings are used, else the defaults")
    func storedByDefault() throws {
        let stored = EvaluationSettings(cropFraction: 1, filter: .bicubic)
        #expect(try EvaluationSettings.resolve(arguments([]), stored: stored) == stored)
        #expect(try EvaluationSettings.resolve(arguments([]), stored: nil) == EvaluationSettings(cropFraction: 0.875, filter: .bilinear))
    }

    @Test("--crop-pct replaces the crop fraction and keeps the model's filter")
    func cropFlagOverrides() throws {
        let stored = EvaluationSettings(cropFraction: 1, filter: .bicubic)
        #expect(try EvaluationSettings.resolve(arguments(["--crop-pct", "0.875"]), stored: stored)
                == EvaluationSettings(cropFraction: 0.875, filter: .bicubic))
        #expect(try EvaluationSettings.resolve(arguments(["--crop-pct", "1"]), stored: nil).cropFraction == 1)
    }

    @Test("A --crop-pct outside 0.05...1 or not a number names the flag and the range", arguments: ["0", "0.04", "1.01", "-1", "x", "inf"])
    func badCropFlag(value: String) throws {
        #expect {
            try EvaluationSettings.resolve(arguments(["--crop-pct", value]), stored: nil)
        } throws: { error in
            error is CommandLineError && "\(error)" == "--crop-pct expects a number in 0.05...1.0, got '\(value)'"
        }
    }

    @Test("The transform resizes the shorter side to image size / crop fraction with the filter")
    func transform() {
        let full = EvaluationSettings(cropFraction: 1, filter: .nearest).transform(imageSize: 28)
        #expect(full.imageSize == 28 && full.resizeSize == 28 && full.cropFraction == 1 && full.filter == .nearest)
        #expect(EvaluationSettings().transform(imageSize: 28).resizeSize == 32)
        #expect(EvaluationSettings().transform(imageSize: 224).resizeSize == 256)
    }

    @Test("The entries read back; none is no settings, one alone keeps the other's default; the file is named in the message")
    func entriesRoundTrip() throws {
        let settings = EvaluationSettings(cropFraction: 0.95, filter: .bicubic)
        #expect(try EvaluationSettings(entries: settings.entries, file: "m.bnnpack", metadataKey: "preprocessing") == settings)
        #expect(try EvaluationSettings(entries: [:], file: "m.bnnpack", metadataKey: "preprocessing") == nil)
        #expect(try EvaluationSettings(entries: ["eval_interpolation": "bicubic"], file: "m.bnnpack", metadataKey: "preprocessing")
                == EvaluationSettings(filter: .bicubic))
        #expect {
            try EvaluationSettings(entries: ["crop_pct": "one"], file: "m.bnnpack", metadataKey: "preprocessing")
        } throws: { error in
            "\(error)" == "m.bnnpack: metadata 'preprocessing' entry 'crop_pct' must be a number in 0.05...1.0, found 'one'"
        }
    }
}
