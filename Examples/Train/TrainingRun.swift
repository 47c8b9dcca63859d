import BiRealNet
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
    let model: BiRealNet
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

    /// Checkpoint metadata key of ``globalBatchSize``, so a resumed run with another number of ranks
    /// continues at the same point of the epoch.
    static let globalBatchMetadataKey = "bnn.global_batch"

    /// The checkpoint named by `--resume`: a path, or `auto` for the run directory's last checkpoint.
    func checkpointURL(_ value: String) -> URL {
        value == "auto" ? runDirectory.appendingPathComponent("last.safetensors") : URL(fileURLWithPath: value)
    }

    /// Builds the run for rank `communicator.rank` of `communicator.worldSize`: the training data is
    /// that rank's shard, and by default the cores are divided among the ranks of this machine.
    init(settings: TrainSettings, communicator: any Communicator) throws {
        self.settings = settings
        let seed = UInt64(try settings.integer("seed", default: 0, in: 0...Int.max))
        let dataRoot = try settings.string("data") ?? settings.string("data_url")
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
        let cropFraction = try settings.double("crop_pct", default: 0.875, in: 0.05...1)
        validationLoader = try DataLoader(
            source: validationSource, transform: EvaluationTransform(imageSize: imageSize, cropFraction: cropFraction,
                                                                     filter: interpolation.evaluationFilter),
            configuration: DataLoaderConfiguration(batchSize: batchSize, shuffle: false, dropLast: false, seed: seed,
                                                   threadCount: workers, strict: strict))

        // Model.
        let arch = try settings.choice("arch", BiRealNetConfiguration.architectureNames, default: synthetic ? "birealnet18" : "birealnet34")
        let variant = BiRealNetConfiguration.Variant(rawValue: try settings.choice("variant", ["reference", "paper"], default: "reference")) ?? .reference
        let widths = try settings.doubles("widths", count: 4).map { $0.map { Int($0) } } ?? (synthetic ? [16, 32, 64, 128] : [64, 128, 256, 512])
        guard widths.allSatisfy({ $0 > 0 }) else { throw CommandLineError("widths must be four positive integers, got \(widths)") }
        let stem: BiRealNetConfiguration.Stem = imageSize <= 64 ? .small : .imagenet
        guard var configuration = BiRealNetConfiguration.named(arch, classes: classes, stem: stem, variant: variant, widths: widths) else {
            throw CommandLineError("unknown architecture '\(arch)'")
        }
        if let blocks = try settings.doubles("blocks", count: 4) {
            guard blocks.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
                throw CommandLineError("blocks must be four positive integers, got \(blocks)")
            }
            configuration.blocksPerStage = blocks.map { Int($0) }
        }
        configuration.dropPathRate = try settings.double("drop_path_rate", default: 0, in: 0...0.99)
        model = Initializer.withSeed(seed) { BiRealNet(configuration) }
        if let weights = try settings.string("weights") { try model.loadWeights(from: URL(fileURLWithPath: weights)) }

        // Optimisation.
        let epochs = try settings.integer("epochs", default: synthetic ? 5 : 300, in: 1...100_000)
        let cooldown = try settings.integer("cooldown_epochs", default: 0, in: 0...100_000)
        totalEpochs = epochs + cooldown
        let warmup = try settings.integer("warmup_length", default: 0, in: 0...epochs)
        let baseLR = try settings.double("base_lr", default: synthetic ? 1e-2 : 1e-3, in: 0...10)
        let warmupLR = try settings.double("warmup_lr", default: 1e-5, in: 0...10)
        let minLR = try settings.double("min_lr", default: 1e-6, in: 0...10)
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
        let groups = ParameterGroups(model.namedParameters(), options: ParameterGroupOptions(weightDecay: weightDecay))
            .splitting("no_decay", options: ParameterGroupOptions(weightDecay: 0), where: ParameterGroups.isBiasOrNormalization)
        let optimizer: any Optimizer
        switch try settings.choice("optimizer", ["adam", "adamw", "sgd"], default: "adam") {
        case "sgd":
            optimizer = SGD(groups, learningRate: baseLR, momentum: try settings.double("momentum", default: 0.9, in: 0...1))
        case let name:
            let beta = try settings.doubles("beta", count: 2) ?? [0.9, 0.999]
            guard beta.allSatisfy({ (0..<1).contains($0) }) else { throw CommandLineError("beta values must be in [0, 1), got \(beta)") }
            optimizer = name == "adamw"
                ? AdamW(groups, learningRate: baseLR, beta1: beta[0], beta2: beta[1])
                : Adam(groups, learningRate: baseLR, beta1: beta[0], beta2: beta[1])
        }
        let clip = try settings.double("clip_global_norm_value", default: 5, in: 0...1e9)
        let scaler = try settings.bool("is_dynamic_loss_scale", default: false) ? DynamicLossScaler() : nil
        let ema = try settings.bool("with_ema", default: false)
            ? ExponentialMovingAverage(model.namedParameters(), decay: try settings.double("ema_decay", default: 0.9999, in: 0...1))
            : nil
        trainer = Trainer(model: model, optimizer: optimizer, schedule: schedule,
                          loss: SoftmaxCrossEntropy(labelSmoothing: Float(mixup == nil ? labelSmoothing : 0)),
                          maxGradientNorm: clip > 0 ? Float(clip) : nil, lossScaler: scaler, averagedWeights: ema)
        runDirectory = URL(fileURLWithPath: try settings.string("run_dir") ?? "runs/\(synthetic ? "synthetic-" : "")\(arch)")
        configurationJSON = try Checkpoint.metadataJSON([
            "arch": arch, "blocks": "\(configuration.blocksPerStage)", "variant": variant.rawValue, "classes": String(classes), "widths": "\(widths)",
            "stem": stem.rawValue, "image_size": String(imageSize), "data": dataRoot ?? "synthetic",
        ])
        classNamesJSON = try Checkpoint.metadataJSON(classNames)
    }
}
