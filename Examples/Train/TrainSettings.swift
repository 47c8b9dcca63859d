import BiRealNet
import BNN
import BNNProgramSupport
import Foundation

/// The settings of a training run, from `--config FILE` (flat YAML, the reference `birealnet34.yaml`
/// accepted unchanged) overridden by command-line flags. Every flag is a YAML key with `-` for `_`
/// (`--base-lr` ↔ `base_lr`); errors name the flag or the file, line and key.
struct TrainSettings {
    /// A setting: its YAML key, whether the flag takes a value, and its help line.
    struct Key {
        var name: String
        var takesValue = true
        var help: String
        var flag: String { name.replacingOccurrences(of: "_", with: "-") }
    }

    /// Keys of the reference configuration that this trainer accepts only with the value it implements;
    /// any other value is an error naming the key, the value and what is accepted. (`amp_level` is a
    /// real key: O1 and O2 train with bf16 operands, see `requestedPrecision()`.)
    static let fixedKeys: [String: String] = ["set": "ImageNet", "device_target": "CPU"]

    static let keys: [Key] = [
        Key(name: "config", help: "flat YAML configuration file (e.g. the reference birealnet34.yaml)"),
        Key(name: "data_url", help: "image-folder dataset root with train/<class>/* and val/<class>/* (alias --data)"),
        Key(name: "data", help: "same as --data-url; without it, trains on the embedded synthetic dataset"),
        Key(name: "arch", help: "birealnet18, birealnet34, reactnet-a, react-resnet18, resnet18 or resnet34 (default birealnet34 with --data, birealnet18 without)"),
        Key(name: "stage", help: "ReActNet two-stage training: 1 = binary activations, real weights; 2 = both binary (default)"),
        Key(name: "teacher", help: "distil from a frozen teacher of this architecture (e.g. resnet18; same widths), with --teacher-weights"),
        Key(name: "teacher_weights", help: "the teacher's trained weights (safetensors)"),
        Key(name: "distill_label_weight", help: "weight of the label loss beside the teacher's KL divergence (default 0: KL only)"),
        Key(name: "variant", help: "reference (default) or paper"),
        Key(name: "blocks", help: "blocks per stage, e.g. [2, 2, 2, 2] (default: the architecture's)"),
        Key(name: "widths", help: "stage widths, e.g. [64, 128, 256, 512] (default; [16, 32, 64, 128] without --data)"),
        Key(name: "num_classes", help: "classes (default: the dataset's)"),
        Key(name: "image_size", help: "training crop size (default 224 with --data, 32 without)"),
        Key(name: "crop_pct", help: "evaluation centre-crop fraction (default 0.875; stored in the checkpoint, so birealnet-infer evaluates with it too)"),
        Key(name: "crop_scale", help: "RandomResizedCrop scale range, e.g. [0.08, 1.0] (default; [0.8, 1.0] without --data)"),
        Key(name: "re_prob", help: "random-erasing probability (default 0)"),
        Key(name: "re_mode", help: "random-erasing fill: const, rand or pixel (default pixel)"),
        Key(name: "re_count", help: "random-erasing rectangles per image (default 1)"),
        Key(name: "auto_augment", help: "None (default), original, originalr, v0, v0r (-mstd<f>) or rand-m9-mstd0.5-inc1-style RandAugment"),
        Key(name: "interpolation", help: "training resize filter: bilinear (default), bicubic, nearest or random (bilinear/bicubic per image)"),
        Key(name: "mixup_mode", help: "mixup/cutmix draws per batch, pair or elem (default batch)"),
        Key(name: "drop_path_rate", help: "stochastic depth of the last block, linear in depth from 0 (default 0)"),
        Key(name: "mix_up", help: "mixup alpha (default 0: off)"),
        Key(name: "cutmix", help: "cutmix alpha (default 0: off)"),
        Key(name: "mixup_prob", help: "probability of mixing a batch (default 1)"),
        Key(name: "switch_prob", help: "probability of cutmix instead of mixup when both are on (default 0.5)"),
        Key(name: "label_smoothing", help: "label smoothing (default 0)"),
        Key(name: "epochs", help: "epochs of the learning-rate decay (default 300 with --data, 5 without)"),
        Key(name: "cooldown_epochs", help: "extra epochs at min_lr after the decay (default 0)"),
        Key(name: "warmup_length", help: "warm-up epochs (default 0)"),
        Key(name: "batch_size", help: "images per batch and rank (default 128 with --data, 64 without)"),
        Key(name: "optimizer", help: "adam (default), adamw, sgd, or bop (binary weights to Bop, the rest to Adam)"),
        Key(name: "bop_gamma", help: "Bop's adaptivity rate (default 1e-4)"),
        Key(name: "bop_threshold", help: "Bop's flip threshold (default 1e-8)"),
        Key(name: "base_lr", help: "peak learning rate (default 0.001; 0.01 without --data)"),
        Key(name: "warmup_lr", help: "learning rate at the start of warm-up (default 1e-5)"),
        Key(name: "min_lr", help: "final learning rate (default 1e-6)"),
        Key(name: "lr_scheduler", help: "linear_lr (default), cosine_lr, step_lr or constant_lr"),
        Key(name: "beta", help: "Adam betas, e.g. [0.9, 0.999]"),
        Key(name: "momentum", help: "SGD momentum (default 0.9)"),
        Key(name: "weight_decay", help: "weight decay (default 0)"),
        Key(name: "clip_global_norm_value", help: "clip gradients to this global norm (default 5; 0 for none)"),
        Key(name: "precision", help: "fp32 (default), bf16 (bfloat16 operands in the backward passes, fp32 sums, weights and statistics) or bf16-o2 (forward too); needs AVX512-BF16 or Arm BF16, else fp32"),
        Key(name: "amp_level", help: "reference mixed-precision level: O0 (fp32, default), O1 (as --precision bf16) or O2 (bf16-o2)"),
        Key(name: "is_dynamic_loss_scale", help: "True for dynamic loss scaling (default False)"),
        Key(name: "with_ema", help: "True to keep an exponential moving average of the weights"),
        Key(name: "ema_decay", help: "EMA decay (default 0.9999)"),
        Key(name: "num_parallel_workers", help: "image-decoding threads (default: cores)"),
        Key(name: "threads", help: "compute threads (default: cores)"),
        Key(name: "seed", help: "random seed of initialisation, shuffling and augmentation (default 0)"),
        Key(name: "train_samples", help: "synthetic dataset: training images (default 4000)"),
        Key(name: "val_samples", help: "synthetic dataset: validation images (default 800)"),
        Key(name: "run_dir", help: "output folder for checkpoints, metrics.jsonl and metrics.svg (default runs/<arch>)"),
        Key(name: "resume", help: "checkpoint to continue from, or 'auto' for <run-dir>/last.safetensors"),
        Key(name: "overwrite", takesValue: false, help: "start a new run in a run directory that holds one, deleting its files"),
        Key(name: "evaluate", takesValue: false, help: "only run validation of --weights (or --resume) and exit"),
        Key(name: "weights", help: "model weights to start from or to evaluate (safetensors)"),
        Key(name: "distributed", takesValue: false,
            help: "data-parallel training as one rank of an MPI job (launch with mpirun; needs a build with --traits MPI)"),
        Key(name: "sync_bn", help: "with --distributed: True (default) to compute BatchNorm statistics over all ranks"),
        Key(name: "overlap_allreduce", help: "with --distributed: True to all-reduce gradients during the backward pass (default False)"),
        Key(name: "allreduce_precision", help: "with --distributed: float32 (default) or bfloat16 gradients on the wire"),
        Key(name: "strict", takesValue: false, help: "stop on the first unreadable image instead of skipping it"),
        Key(name: "help", takesValue: false, help: "show this help"),
    ]

    let file: FlatYAML?
    let flags: CommandLineArguments

    init(arguments: [String]) throws {
        let options = Self.keys.map { CommandLineArguments.Option($0.flag, takesValue: $0.takesValue, help: $0.help) }
        flags = try CommandLineArguments(arguments, options: options)
        try flags.rejectPositional("birealnet-train takes only flags; see --help")
        if let path = flags.string("config") {
            let yaml = try FlatYAML(contentsOf: URL(fileURLWithPath: path))
            for entry in yaml.entries {
                if let fixed = Self.fixedKeys[entry.key] {
                    if entry.value.description.lowercased() != fixed.lowercased() && entry.text != fixed {
                        throw CommandLineError("\(path):\(entry.line): \(entry.key) = \(entry.text) is not supported; accepted: \(fixed)")
                    }
                } else if !Self.keys.contains(where: { $0.name == entry.key }) || entry.key == "config" {
                    warn("\(path):\(entry.line): unknown key '\(entry.key)' ignored")
                }
            }
            file = yaml
        } else {
            file = nil
        }
        try forbid("resume", with: "weights", because: "a resumed run continues from its checkpoint's weights")
        try forbid("resume", with: "overwrite", because: "--overwrite starts a new run")
        if has("sync_bn") && !has("distributed") { throw CommandLineError("\(origin("sync_bn")) needs --distributed") }
        _ = try string("data", alias: "data_url")
        if has("precision") && has("amp_level"), try PrecisionPolicy(name: choice("precision", ["fp32", "bf16", "bf16-o2"], default: "fp32"))
            != PrecisionPolicy(name: choice("amp_level", ["O0", "O1", "O2", "o0", "o1", "o2"], default: "O0")),
           flags.has("precision") == flags.has("amp-level") {
            throw CommandLineError("\(origin("precision")) contradicts \(origin("amp_level")): give one of them")
        }
        if flags.has("evaluate") && !has("weights") && !has("resume") {
            throw CommandLineError("--evaluate needs --weights FILE or --resume FILE|auto (it would evaluate a random model)")
        }
    }

    var usage: String {
        flags.usage(program: "birealnet-train", summary: """
            Trains Bi-Real Net. Without --data it trains a small model on an embedded synthetic dataset.
            Settings come from --config FILE (flat YAML) and are overridden by flags named after its keys.
            """)
    }

    private func flag(_ key: String) -> String { key.replacingOccurrences(of: "_", with: "-") }

    /// Where `key`'s value comes from, for messages: `--flag VALUE` or `FILE:LINE: key = VALUE` (the
    /// flag wins when both are given), or `key` when it is absent.
    func origin(_ key: String) -> String {
        if flags.has(flag(key)) { return "--\(flag(key))" + (flags.string(flag(key)).map { " \($0)" } ?? "") }
        if let file, let entry = file.entry(key) { return "\(file.source):\(entry.line): \(key) = \(entry.text)" }
        return key
    }

    /// Refuses `key` with `other`, whether each comes from a flag or the configuration file.
    ///
    /// - Throws: `CommandLineError` naming both and where each was given.
    func forbid(_ key: String, with other: String, because reason: String) throws {
        if has(key) && has(other) { throw CommandLineError("\(origin(key)) and \(origin(other)) cannot be used together: \(reason)") }
    }

    /// The value of a setting with two names (`data` and `data_url`): a flag of either overrides the
    /// file's value of either; the two names given in the same place with different values are refused.
    ///
    /// - Throws: `CommandLineError` naming both and where each was given.
    func string(_ key: String, alias: String) throws -> String? {
        let fromFlags = (flags.string(flag(key)), flags.string(flag(alias)))
        let fromFile = (try file?.string(key), try file?.string(alias))
        for (a, b) in [fromFlags, fromFile] {
            if let a, let b, a != b {
                throw CommandLineError("\(origin(key)) contradicts \(origin(alias)): they name the same setting; give one of them")
            }
        }
        return fromFlags.0 ?? fromFlags.1 ?? fromFile.0 ?? fromFile.1
    }

    func has(_ key: String) -> Bool { flags.has(flag(key)) || file?[key] != nil }

    func string(_ key: String) throws -> String? {
        try flags.string(flag(key)) ?? file?.string(key)
    }

    func integer(_ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        if flags.has(flag(key)) { return try flags.integer(flag(key), default: value, in: range) }
        return try file?.integer(key, default: value, in: range) ?? value
    }

    func double(_ key: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
        if flags.has(flag(key)) { return try flags.double(flag(key), default: value, in: range) }
        return try file?.double(key, default: value) .clamped(to: range, key: key, file: file) ?? value
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let text = flags.string(flag(key)) else { return try file?.bool(key, default: value) ?? value }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw CommandLineError("--\(flag(key)) expects true or false, got '\(text)'")
        }
    }

    func doubles(_ key: String, count: Int) throws -> [Double]? {
        if let text = flags.string(flag(key)) {
            let yaml = try FlatYAML(parsing: "\(key): \(text)", source: "--\(flag(key))")
            return try yaml.doubles(key, count: count)
        }
        return try file?.doubles(key, count: count)
    }

    func choice(_ key: String, _ choices: [String], default value: String) throws -> String {
        if flags.has(flag(key)) { return try flags.choice(flag(key), choices, default: value) }
        return try file?.choice(key, choices, default: value) ?? value
    }
}

private extension Double {
    /// Checks a value read from the configuration file against `range`.
    func clamped(to range: ClosedRange<Double>, key: String, file: FlatYAML?) throws -> Double {
        guard range.contains(self) else {
            let line = file?.entry(key)?.line.description ?? "?"
            throw CommandLineError("\(file?.source ?? "config"):\(line): \(key) must be in \(range.lowerBound)...\(range.upperBound), got \(self)")
        }
        return self
    }
}

/// Prints a warning line on standard error.
func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
