import BiRealNet
import BNN
import BNNData
import Testing

/// The README's main job in miniature: a small Bi-Real Net trained on the embedded synthetic shapes
/// through the real data loader, trainer and schedule must learn them.
@Suite struct EmbeddedTrainingTests {
    /// Batches of one loader epoch; strict errors fail the test.
    static func batches(_ loader: DataLoader, epoch: Int) throws -> [LabeledBatch] {
        var result: [LabeledBatch] = []
        try loader.forEachBatch(epoch: epoch) { result.append(LabeledBatch(images: $0.images, labels: $0.labels, softTargets: $0.softTargets)) }
        return result
    }

    @Test func smallBiRealNetLearnsTheSyntheticShapes() throws {
        // The trainer's default embedded run, shortened: one block per stage, 3,200 images, 5 epochs.
        let size = 32
        let train = try DataLoader(source: SyntheticShapes.source(count: 3200, size: size, seed: 1),
                                   transform: TrainingTransform(imageSize: size, crop: RandomResizedCrop(scale: 0.8...1)),
                                   configuration: DataLoaderConfiguration(batchSize: 64, seed: 3, strict: true))
        let validation = try DataLoader(source: SyntheticShapes.source(count: 400, size: size, seed: 2),
                                        transform: EvaluationTransform(imageSize: size, cropFraction: 1),
                                        configuration: DataLoaderConfiguration(batchSize: 100, shuffle: false, dropLast: false,
                                                                               strict: true))
        var configuration = BiRealNetConfiguration.birealnet18(classes: SyntheticShapes.classNames.count, stem: .small,
                                                               widths: [16, 32, 64, 128])
        configuration.blocksPerStage = [1, 1, 1, 1]
        let model = Initializer.withSeed(4) { BiRealNet(configuration) }
        let epochs = 5
        let trainer = Trainer(
            model: model, optimizer: Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-2),
            schedule: LinearDecaySchedule(baseLearningRate: 1e-2, minLearningRate: 1e-5, epochs: epochs,
                                          stepsPerEpoch: train.batchesPerEpoch),
            maxGradientNorm: 5)
        let validationBatches = try Self.batches(validation, epoch: 0)
        var last: EpochReport?
        for epoch in 0..<epochs {
            last = trainer.runEpoch(training: try Self.batches(train, epoch: epoch), validation: validationBatches)
        }
        let top1 = try #require(last?.validation?.top1)
        // The same run through birealnet-train reaches 0.96–1.0; chance is 1/8.
        #expect(top1 >= 0.9, "validation top-1 \(top1)")
    }
}
