import BiRealNet
import ReActNet
import BNN
import BNNData
import BNNDistributed
import BNNProgramSupport
import Dispatch
import Foundation

/// One training (or evaluation) run, built from ``TrainSettings``.
struct TrainingRun {
    let settings: TrainSettings
    let trainLoader: DataLoader
    let validationLoader: DataLoader
    let classNames: [String]
    let model: any TensorLayer
    let trainer: Trainer
    let runDirectory: URL
    /// Decay epochs plus cool-down epochs.
    let totalEpochs: Int
    let imageSize: Int
    let dataDescription: String
    let configurationJSON: String
    let classNamesJSON: String
    /// Images per step over all ranks: the per-rank batch × the number of ranks.
    let globalBatchSize: Int
    /// Whether BatchNorm statistics are computed over all ranks' batches (`--sync-bn`, distributed only).
    let synchronizedBatchNorm: Bool
    /// The operand precision of the model's products (bf16 only where the CPU has bfloat16 instructions).
    let precision: PrecisionPolicy

    /// Checkpoint metadata key of ``globalBatchSize``, so a resumed run with another number of ranks
    /// continues at the same point of the epoch.
    static let globalBatchMetadataKey = "bnn.global_batch"

    /// The checkpoint named by `--resume`: a path, or `auto` for the run directory's last checkpoint.
    func checkpointURL(_ value: String) -> URL {
        value == "auto" ? runDirectory.appendingPathComponent("last.safetensors") : URL(fileURLWithPath: value)
    }

    /// Checks the run directory before anything is written to it (``RunDirectory``): a new run is
    /// refused where another run's files are, unless `--overwrite`.
    ///
    /// - Throws: `CommandLineError` offering `--resume auto`, `--run-dir` and `--overwrite` for a
    ///   directory in use; `TrainingCallbackError` naming the directory when it cannot be created or written.
    func prepareRunDirectory(resuming: Bool) throws {
        let intent: RunDirectory.Intent = resuming ? .resume : settings.flags.has("overwrite") ? .overwrite : .newRun
        do {
            let removed = try RunDirectory.prepare(runDirectory, for: intent)
            if !removed.isEmpty { warn("removed \(removed.count) temporary file(s) of an interrupted save in \(runDirectory.path)") }
        } catch TrainingCallbackError.runDirectoryInUse(let path, let files) {
            throw CommandLineError("\(path) already holds a run (\(files.joined(separator: ", "))): continue it with "
                                   + "--resume auto, start another with --run-dir DIR, or replace it with --overwrite")
        }
    }

    /// Refuses a model whose training would not fit in this machine's physical memory, before
    /// anything is allocated, naming the flags that make it so large.
    ///
    /// - Throws: `CommandLineError` with the estimate, the memory and the flags to lower.
    static func checkMemory(_ configuration: BiRealNetConfiguration, batchSize: Int, imageSize: Int,
                            settings: TrainSettings) throws {
        let estimate = configuration.trainingMemoryEstimate(batchSize: batchSize, imageSize: imageSize)
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard estimate.totalBytes > available else { return }
        let architecture = ["blocks", "widths"].filter(settings.has).map { "--\($0)" }
        let culprits = estimate.parameterBytes > available / 2
            ? (architecture.isEmpty ? ["--arch"] : architecture)
            : architecture + ["--batch-size", "--image-size"]
        func gigabytes(_ bytes: Double) -> String { String(format: "%.1f GB", bytes / 1e9) }
        throw CommandLineError("the model \(configuration.blocksPerStage) × \(configuration.widths) needs about "
                               + "\(gigabytes(estimate.totalBytes)) to train (\(gigabytes(estimate.parameterBytes)) for "
                               + "\(String(format: "%.3g", estimate.parameterCount)) parameters and their optimizer state, "
                               + "\(gigabytes(estimate.activationBytes)) of activations for batch \(batchSize) at "
                               + "\(imageSize) pixels); this machine has \(gigabytes(available)): lower "
                               + culprits.joined(separator: " or "))
    }

    /// Warns how many validation images could not be read and were left out of the figures.
    func warnSkippedValidationImages() {
        let skipped = validationLoader.skippedFileCount(epoch: 0)
        if skipped > 0 {
            warn("validation: \(skipped) unreadable image(s) left out of the figures (see the warnings above; --strict stops instead)")
        }
    }

    /// Builds the run for rank `communicator.rank` of `communicator.worldSize`: the training data is
    /// that rank's shard, and by default the cores are divided among the ranks of this machine.
    init(settings: TrainSettings, communicator: any Communicator) throws {
        self.settings = settings
        let seed = UInt64(try settings.integer("seed", default: 0, in: 0...Int.max))
        let dataRoot = try settings.string("data", alias: "data_url")
        let synthetic = dataRoot == nil
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount / communicator.localSize)
        if let threads = try settings.string("threads").map({ _ in try settings.integer("threads", default: cores, in: 1...1024) }) {
            Parallel.threadCount = threads
        } else if communicator.localSize > 1 && ProcessInfo.processInfo.environment["BNN_THREADS"] == nil {
            Parallel.threadCount = cores
        }
        let workers = try settings.integer("num_parallel_workers", default: cores, in: 1...256)
        imageSize = try settings.integer("image_size", default: synthetic ? 32 : 224, in: 8...4096)
        let batchSize = try settings.integer("batch_size", default: synthetic ? 64 : 128, in: 1...65_536)
        let strict = settings.flags.has("strict")
        globalBatchSize = batchSize * communicator.worldSize
        synchronizedBatchNorm = try settings.bool("sync_bn", default: true) && communicator.worldSize > 1

        // Data.
        let trainSource: any ImageSource, validationSource: any ImageSource
        if let dataRoot {
            let train = try ImageFolder(root: dataRoot, split: "train")
            let validation = try ImageFolder(root: dataRoot, split: "val", classes: train.classes)
            (trainSource, validationSource, classNames) = (train, validation, train.classDisplayNames)
        } else {
            let trainCount = try settings.integer("train_samples", default: 4000, in: 1...10_000_000)
            let validationCount = try settings.integer("val_samples", default: 800, in: 1...10_000_000)
            trainSource = try SyntheticShapes.source(count: trainCount, size: imageSize, seed: seed &+ 1)
            validationSource = try SyntheticShapes.source(count: validationCount, size: imageSize, seed: seed &+ 2)
            classNames = SyntheticShapes.classNames
        }
        dataDescription = "\(dataRoot ?? "embedded synthetic shapes"): \(trainSource.count) training, "
            + "\(validationSource.count) validation images, \(trainSource.classCount) classes"
        let classes = try settings.integer("num_classes", default: trainSource.classCount, in: 1...1_000_000)
        guard classes == trainSource.classCount else {
            throw CommandLineError("num_classes is \(classes) but the dataset has \(trainSource.classCount) classes")
        }
        let scale = try settings.doubles("crop_scale", count: 2) ?? (synthetic ? [0.8, 1] : [0.08, 1])
        guard scale[0] > 0, scale[0] <= scale[1], scale[1] <= 1 else {
            throw CommandLineError("crop_scale must be [lower, upper] with 0 < lower ≤ upper ≤ 1, got \(scale)")
        }
        let erasingProbability = try settings.double("re_prob", default: 0, in: 0...1)
        let erasing = erasingProbability > 0 ? RandomErasing(
            probability: erasingProbability, count: try settings.integer("re_count", default: 1, in: 1...100),
            mode: RandomErasing.Mode(rawValue: try settings.choice("re_mode", ["const", "rand", "pixel"], default: "pixel")) ?? .pixel) : nil
        let interpolation = try Interpolation(parsing: try settings.string("interpolation") ?? "bilinear")
        let augmentName = try settings.string("auto_augment") ?? "None"
        let autoAugment = augmentName.lowercased() == "none" ? nil
            : try AutoAugment(parsing: augmentName, imageSize: imageSize, interpolation: interpolation)
        let transform = TrainingTransform(imageSize: imageSize, crop: RandomResizedCrop(scale: scale[0]...scale[1]),
                                          erasing: erasing, interpolation: interpolation, autoAugment: autoAugment)
        let mixupAlpha = try settings.double("mix_up", default: 0, in: 0...100)
        let cutmixAlpha = try settings.double("cutmix", default: 0, in: 0...100)
        let labelSmoothing = try settings.double("label_smoothing", default: 0, in: 0...0.99)
        let mixup = (mixupAlpha > 0 || cutmixAlpha > 0)
            ? try Mixup(mixupAlpha: mixupAlpha, cutmixAlpha: cutmixAlpha,
                    probability: try settings.double("mixup_prob", default: 1, in: 0...1),
                    switchProbability: try settings.double("switch_prob", default: 0.5, in: 0...1),
                    labelSmoothing: labelSmoothing, classCount: classes,
                    mode: Mixup.Mode(rawValue: try settings.choice("mixup_mode", ["batch", "pair", "elem"], default: "batch")) ?? .batch)
            : nil
        trainLoader = try DataLoader(source: trainSource, transform: transform, configuration: DataLoaderConfiguration(
            batchSize: batchSize, shuffle: true, dropLast: true, seed: seed, rank: communicator.rank,
            worldSize: communicator.worldSize, threadCount: workers, strict: strict, mixup: mixup))
        let cropFraction = try settings.double("crop_pct", default: EvaluationSettings().cropFraction,
                                               in: EvaluationSettings.cropFractionRange)
        let evaluation = EvaluationSettings(cropFraction: cropFraction, filter: interpolation.evaluationFilter)
        validationLoader = try DataLoader(
            source: validationSource, transform: evaluation.transform(imageSize: imageSize),
            configuration: DataLoaderConfiguration(batchSize: batchSize, shuffle: false, dropLast: false, seed: seed,
                                                   threadCount: workers, strict: strict, dropsBadFiles: true))

        // Model.
        let arch = try settings.choice("arch", ModelArchitecture.names, default: synthetic ? "birealnet18" : "birealnet34")
        let variant = BiRealNetConfiguration.Variant(rawValue: try settings.choice("variant", ["reference", "paper"], default: "reference")) ?? .reference
        // Checked as numbers before conversion (Int(1e300) would trap); the memory check bounds them further.
        let givenWidths = try settings.doubles("widths", count: 4)
        guard givenWidths?.allSatisfy({ (1...1_000_000).contains($0) && $0 == $0.rounded() }) ?? true else {
            throw CommandLineError("widths must be four integers in 1...1000000, got \(givenWidths ?? [])")
        }
        let widths = givenWidths.map { $0.map { Int($0) } } ?? (synthetic ? [16, 32, 64, 128] : [64, 128, 256, 512])
        let stem: BiRealNetConfiguration.Stem = imageSize <= 64 ? .small : .imagenet
        var architecture = ModelArchitecture(name: arch, classes: classes, widths: widths, stem: stem, variant: variant,
                                             stage: try settings.integer("stage", default: 2, in: 1...2),
                                             dropPathRate: try settings.double("drop_path_rate", default: 0, in: 0...0.99))
        if let blocks = try settings.doubles("blocks", count: 4) {
            guard blocks.allSatisfy({ (1...1_000_000).contains($0) && $0 == $0.rounded() }) else {
                throw CommandLineError("blocks must be four integers in 1...1000000, got \(blocks)")
            }
            architecture.blocks = blocks.map { Int($0) }
        }
        let configuration = try architecture.biRealConfiguration()
        if BiRealNetConfiguration.architectureNames.contains(arch) {   // the estimate knows Bi-Real Net only
            architecture.blocks = configuration.blocksPerStage
            try Self.checkMemory(configuration, batchSize: batchSize, imageSize: imageSize, settings: settings)
        }
        let (model, blocksDescription) = try architecture.makeModel(seed: seed)
        self.model = model
        if let weights = try settings.string("weights") {
            if let note = try model.loadPyTorchWeights(from: URL(fileURLWithPath: weights)).note {
                FileHandle.standardError.write(Data("\(note)\n".utf8))
            }
        }
        precision = try settings.applyPrecision(to: model)

        // Optimisation.
        let epochs = try settings.integer("epochs", default: synthetic ? 5 : 300, in: 1...100_000)
        let cooldown = try settings.integer("cooldown_epochs", default: 0, in: 0...100_000)
        totalEpochs = epochs + cooldown
        let warmup = try settings.integer("warmup_length", default: 0, in: 0...epochs)
        let baseLR = try settings.double("base_lr", default: synthetic ? 1e-2 : 1e-3, in: 0...10)
        let warmupLR = try settings.double("warmup_lr", default: 1e-5, in: 0...10)
        let minLR = try settings.double("min_lr", default: 1e-6, in: 0...10)
        guard minLR <= baseLR else {
            throw CommandLineError("min_lr \(minLR) (\(settings.origin("min_lr"))) is larger than base_lr \(baseLR) "
                                   + "(\(settings.has("base_lr") ? settings.origin("base_lr") : "the default")): the learning rate would rise as it decays")
        }
        let stepsPerEpoch = max(1, trainLoader.batchesPerEpoch)
        let schedule: any LearningRateSchedule
        switch try settings.choice("lr_scheduler", ["linear_lr", "cosine_lr", "step_lr", "constant_lr"], default: "linear_lr") {
        case "cosine_lr":
            schedule = CosineSchedule(baseLearningRate: baseLR, minLearningRate: minLR, totalSteps: epochs * stepsPerEpoch,
                                      warmupSteps: warmup * stepsPerEpoch, warmupStartLearningRate: warmupLR)
        case "step_lr":
            schedule = StepDecaySchedule(baseLearningRate: baseLR, stepSize: max(1, epochs / 3) * stepsPerEpoch, gamma: 0.1)
        case "constant_lr":
            schedule = ConstantSchedule(learningRate: baseLR)
        default:
            schedule = LinearDecaySchedule(baseLearningRate: baseLR, warmupLearningRate: warmupLR, minLearningRate: minLR,
                                           warmupEpochs: warmup, epochs: epochs, cooldownEpochs: cooldown,
                                           stepsPerEpoch: stepsPerEpoch)
        }
        let weightDecay = try settings.double("weight_decay", default: 0, in: 0...1)
        // No weight decay on BatchNorm parameters and biases, as is usual.
        let optimizerName = try settings.choice("optimizer", ["adam", "adamw", "sgd", "bop"], default: "adam")
        let bop = optimizerName == "bop" ? try ModelChoice.bop(settings: settings, model: model) : nil
        let groups = ParameterGroups(model.namedParameters().filter { bop == nil || $0.parameter.kind != .latentBinary },
                                     options: ParameterGroupOptions(weightDecay: weightDecay))
            .splitting("no_decay", options: ParameterGroupOptions(weightDecay: 0), where: ParameterGroups.isBiasOrNormalization)
        var optimizer: any Optimizer
        switch optimizerName {
        case "sgd":
            optimizer = SGD(groups, learningRate: baseLR, momentum: try settings.double("momentum", default: 0.9, in: 0...1))
        case let name:
            let beta = try settings.doubles("beta", count: 2) ?? [0.9, 0.999]
            guard beta.allSatisfy({ (0..<1).contains($0) }) else { throw CommandLineError("beta values must be in [0, 1), got \(beta)") }
            optimizer = name == "adamw"
                ? AdamW(groups, learningRate: baseLR, beta1: beta[0], beta2: beta[1])
                : Adam(groups, learningRate: baseLR, beta1: beta[0], beta2: beta[1])
        }
        if let bop { optimizer = RoutedOptimizer(routes: [bop, optimizer]) }
        let clip = try settings.double("clip_global_norm_value", default: 5, in: 0...1e9)
        let scaler = try settings.bool("is_dynamic_loss_scale", default: false) ? DynamicLossScaler() : nil
        let ema = try settings.bool("with_ema", default: false)
            ? ExponentialMovingAverage(model.namedParameters(), decay: try settings.double("ema_decay", default: 0.9999, in: 0...1))
            : nil
        trainer = Trainer(model: model, optimizer: optimizer, schedule: schedule,
                          loss: SoftmaxCrossEntropy(labelSmoothing: Float(mixup == nil ? labelSmoothing : 0)),
                          maxGradientNorm: clip > 0 ? Float(clip) : nil, lossScaler: scaler, averagedWeights: ema)
        trainer.distillation = try ModelChoice.distillation(settings: settings, like: configuration)
        // Each dataset has its own default run directory (runs/<dataset folder>-<arch>).
        let dataName = dataRoot.map { URL(fileURLWithPath: $0).standardizedFileURL.lastPathComponent } ?? "synthetic"
        runDirectory = URL(fileURLWithPath: try settings.string("run_dir") ?? "runs/\(dataName)-\(arch)")
        configurationJSON = try Checkpoint.metadataJSON(architecture.metadata(imageSize: imageSize, evaluation: evaluation).merging([
            "model": blocksDescription, "data": dataRoot ?? "synthetic", "precision": precision.description,
        ]) { stored, _ in stored })
        classNamesJSON = try Checkpoint.metadataJSON(classNames)
    }
}
