import BiRealNet
import BNN
import BNNData
import BNNDistributed
import Foundation

/// Trains a tiny Bi-Real Net data-parallel (batch 8 per rank) and, on rank 0, the same steps in one
/// process on the global batch, then compares the weights.
///
/// With synchronised BatchNorm the single-process reference is plain training on batch 8·N. Without
/// it every rank normalises its own 8 images, so the reference runs each global batch as N micro-
/// batches (the images rank r would read: positions r, r + N, …) and averages their gradients; the
/// running statistics (averaged over the ranks in the distributed run) are then not comparable, so
/// only trainable weights are. Each setting's result must also differ from the other setting's
/// reference by more than 10× the tolerance, so the check can tell the two apart. Every rank's
/// replica must equal rank 0's exactly.
struct EquivalenceCheck {
    let communicator: any Communicator
    let steps: Int
    /// Overlap the gradient all-reduce with the backward pass.
    let overlap: Bool
    let perRankBatch = 8
    /// Largest allowed |Δ| between the two runs' values, relative to max(1, |value|).
    let tolerance: Float = 1e-6

    func run() throws -> Bool {
        let world = communicator.worldSize
        let source = try SyntheticShapes.source(count: perRankBatch * world * steps, size: 16, seed: 11)
        if communicator.isPrimary {
            print("bnn-mpi check: \(world) rank(s) × batch \(perRankBatch) vs 1 rank × batch \(perRankBatch * world), \(steps) steps"
                  + (overlap ? ", all-reduce overlapped with the backward pass" : ""))
        }
        var passed = true
        for synchronized in [true, false] {
            // Each rank starts from different weights: the broadcast from rank 0 must make them equal.
            let model = Self.makeModel(seed: 5 + UInt64(communicator.rank))
            let trainer = Self.makeTrainer(model)
            let parallel = DataParallel(communicator: communicator, bucketBytes: 16 << 10, overlapsBackward: overlap)
            try parallel.attach(to: trainer, synchronizedBatchNorm: synchronized)
            let loader = try Self.makeLoader(source, batch: perRankBatch, rank: communicator.rank, world: world)
            let stream = loader.epoch(0)
            var loadError: (any Error)?
            let batches = parallel.batches(AnySequence { AnyIterator { () -> LabeledBatch? in
                do {
                    return try stream.next().map { LabeledBatch(images: $0.images, labels: $0.labels) }
                } catch {
                    loadError = error
                    return nil
                }
            } }, for: trainer, localError: { loadError })
            trainer.runEpoch(training: batches, validation: [LabeledBatch]?.none)
            if let failure = batches.failure { throw failure }
            let replicaSpread = spread(of: model)
            // With overlap, buckets must really have started during the backward pass.
            let overlapped = parallel.gradients.overlappedBucketCount

            if communicator.isPrimary {
                let reference = try referenceRun(source: source, microBatches: synchronized ? 1 : world)
                let result = compare(model, reference)
                // The other reference (the other BatchNorm setting) must differ: the check can fail.
                let other = compare(model, try referenceRun(source: source, microBatches: synchronized ? world : 1)).weights
                let ok = result.weights <= tolerance && (!synchronized || result.buffers <= tolerance)
                    && replicaSpread == 0 && (world == 1 || other > 10 * tolerance) && (!overlap || world == 1 || overlapped > 0)
                passed = passed && ok
                print(String(format: "  synchronised BatchNorm %@: max |Δ| weights %.2e, running statistics %@; "
                             + "replicas identical: %@; vs the other BatchNorm setting %.2e (%@)",
                             synchronized ? "on " : "off", result.weights,
                             synchronized ? String(format: "%.2e", result.buffers) : "averaged over ranks, not compared",
                             replicaSpread == 0 ? "yes" : "NO", other, ok ? "ok" : "FAILED")
                      + (overlap ? "; \(overlapped) buckets started during the backward pass" : ""))
            }
            communicator.barrier()
        }
        if communicator.isPrimary {
            print("bnn-mpi check: \(passed ? "PASS" : "FAIL"): \(communicator.worldSize) ranks × batch \(perRankBatch) "
                  + "\(passed ? "match" : "do not match") 1 rank × batch \(perRankBatch * communicator.worldSize) "
                  + "within \(tolerance), with and without synchronised BatchNorm")
        }
        return communicator.anyRank(!passed) == false
    }

    /// The largest difference of this rank's values from rank 0's, agreed over all ranks.
    private func spread(of model: any Module) -> Float {
        var largest: Float = 0
        for (_, parameter) in model.namedParameters() {
            var rootValue = parameter.value
            communicator.broadcast(&rootValue, root: 0)
            largest = max(largest, zip(rootValue.scalars, parameter.value.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) })
        }
        var bits: [Int64] = [Int64(largest.bitPattern)]
        communicator.allReduceMax(&bits)
        return Float(bitPattern: UInt32(bits[0]))
    }

    /// One process, rank 0's initial weights, the global batch split into `microBatches` parts.
    private func referenceRun(source: any ImageSource, microBatches: Int) throws -> BiRealNet {
        let model = Self.makeModel(seed: 5)
        let trainer = Self.makeTrainer(model)
        let loader = try Self.makeLoader(source, batch: perRankBatch * communicator.worldSize, rank: 0, world: 1)
        try loader.forEachBatch(epoch: 0) { batch in
            model.zeroGradients()
            let sampleSize = batch.images.count / batch.labels.count
            let shape = batch.images.shape
            let all = batch.images.scalars
            for part in 0..<microBatches {
                let members = Array(stride(from: part, to: batch.labels.count, by: microBatches))
                var scalars: [Float] = []
                for member in members { scalars += all[(member * sampleSize)..<((member + 1) * sampleSize)] }
                let images = Tensor(shape: [members.count] + shape.dropFirst(), scalars: scalars)
                let logits = model.forward(images, mode: .training)
                let (_, gradient) = trainer.loss(logits, labels: members.map { batch.labels[$0] })
                _ = model.backward(gradient)
            }
            for parameter in trainer.optimizer.parameters {
                parameter.gradient.withUnsafeMutableBufferPointer { gradient in
                    for i in gradient.indices { gradient[i] /= Float(microBatches) }
                }
            }
            if let maxNorm = trainer.maxGradientNorm { _ = GradientClipping.clipGlobalNorm(trainer.optimizer.parameters, maxNorm: maxNorm) }
            trainer.optimizer.learningRate = trainer.schedule.learningRate(atStep: 0)
            trainer.optimizer.step()
        }
        return model
    }

    /// The largest relative differences of trainable values and of buffers.
    private func compare(_ model: any Module, _ reference: any Module) -> (weights: Float, buffers: Float) {
        var result: [Float] = [0, 0]
        for ((name, parameter), (referenceName, expected)) in zip(model.namedParameters(), reference.namedParameters()) {
            precondition(name == referenceName, "EquivalenceCheck: parameter order differs")
            let slot = parameter.isTrainable ? 0 : 1
            for (a, b) in zip(parameter.value.scalars, expected.value.scalars) {
                result[slot] = max(result[slot], abs(a - b) / max(1, abs(b)))
            }
        }
        return (result[0], result[1])
    }

    static func makeModel(seed: UInt64) -> BiRealNet {
        let configuration = BiRealNetConfiguration(blocksPerStage: [1, 1, 1, 1], widths: [8, 8, 16, 16],
                                                   classes: SyntheticShapes.classNames.count, stem: .small)
        return Initializer.withSeed(seed) { BiRealNet(configuration) }
    }

    /// Adam with ε = 1e-4: its step m / (√v + ε) changes by up to lr/ε per unit change of a gradient
    /// near 0, so with the default ε = 1e-8 the float rounding of such a gradient (4 ranks add their
    /// partial sums in another order than one process) moved a weight by 3.6e-5 (and by 8e-7 with
    /// ε = 1e-5); ε = 1e-4 keeps the check about data-parallel semantics (agreement within 2e-7 on
    /// 2 and 4 ranks), not about Adam's amplification of rounding.
    static func makeTrainer(_ model: BiRealNet) -> Trainer {
        Trainer(model: model, optimizer: Adam(ParameterGroups(model.namedParameters()), learningRate: 1e-3, epsilon: 1e-4),
                schedule: ConstantSchedule(learningRate: 1e-3), maxGradientNorm: 5)
    }

    static func makeLoader(_ source: any ImageSource, batch: Int, rank: Int, world: Int) throws -> DataLoader {
        try DataLoader(source: source, transform: TrainingTransform(imageSize: 16, crop: RandomResizedCrop(scale: 0.8...1)),
                       configuration: DataLoaderConfiguration(batchSize: batch, shuffle: true, dropLast: true, seed: 3,
                                                              rank: rank, worldSize: world, threadCount: 1))
    }
}
