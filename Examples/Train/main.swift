// birealnet-train: train Bi-Real Net on an image folder, or on the embedded synthetic dataset.
//
//   swift run -c release birealnet-train                         # embedded dataset, a couple of minutes
//   swift run -c release birealnet-train --config birealnet34.yaml --data /data/imagenet
//   mpirun -np 4 .build/release/birealnet-train --data /data/imagenet --distributed   # built with --traits MPI
import BiRealNet
import BNN
import BNNData
import BNNDistributed
import BNNProgramSupport
import Dispatch
import Foundation

runCommand {
    let settings = try TrainSettings(arguments: Array(CommandLine.arguments.dropFirst()))
    if settings.flags.has("help") { print(settings.usage); return }
    // Every step frees and allocates the same large buffers: keep them instead of faulting them in again.
    AllocatorTuning.keepFreedMemory()
    let session = try DistributedSession(settings: settings)
    let communicator = session.communicator
    try session.run {
        let run = try TrainingRun(settings: settings, communicator: communicator)
        if communicator.isPrimary {
            let summary = ModelSummary(run.model, inputShape: [1, 224, 224, 3].enumerated().map { $0.offset == 1 || $0.offset == 2 ? run.imageSize : $0.element })
            print("""
                \(run.model.summaryDescription)
                  \(summary.trainableParameters) trainable parameters (\(summary.binaryParameters) binary), \
                \(String(format: "%.2f", summary.compressionRatio))× smaller deployed
                  data: \(run.dataDescription); \(run.trainLoader.batchesPerEpoch) batches of \(run.trainLoader.configuration.batchSize) per epoch
                  kernels: float \(KernelSelection.activeFamily), binary \(KernelSelection.binaryFamily), threads: \(Parallel.threadCount)
                """)
            if session.isDistributed {
                print("  distributed: \(communicator.worldSize) ranks × batch \(run.trainLoader.configuration.batchSize) = global batch "
                      + "\(run.globalBatchSize), synchronised BatchNorm \(run.synchronizedBatchNorm ? "on" : "off")")
            }
        }

        if settings.flags.has("evaluate") {
            guard communicator.isPrimary else { return }   // rank 0 evaluates the whole validation set
            if let resume = try settings.string("resume") { try run.trainer.restore(from: run.checkpointURL(resume)) }
            let batches = LoaderBatches(run.validationLoader, epoch: 0)
            let report = run.trainer.evaluate(batches)
            try batches.rethrow()
            print(String(format: "validation: top-1 %.2f%%, top-5 %.2f%%, loss %.4f, %d images, %.1f images/s",
                         report.top1 * 100, report.top5 * 100, report.loss, report.count, report.imagesPerSecond))
            return
        }

        if let resume = try settings.string("resume") {
            // Every rank reads the checkpoint (a shared file system, like the data); a different global
            // batch (another number of ranks) continues at the same point of the epoch.
            let url = run.checkpointURL(resume)
            let checkpoint = try run.trainer.restore(from: url)
            if let previous = checkpoint.metadata[TrainingRun.globalBatchMetadataKey].flatMap(Int.init), previous > 0 {
                run.trainer.progress = run.trainer.progress.resumed(previousGlobalBatch: previous, globalBatch: run.globalBatchSize,
                                                                    stepsPerEpoch: max(1, run.trainLoader.batchesPerEpoch))
            }
            if communicator.isPrimary {
                print("resumed from \(url.path) at epoch \(run.trainer.progress.epoch + 1), batch \(run.trainer.progress.batchInEpoch)")
            }
        }
        let parallel = DataParallel(communicator: communicator)
        if session.isDistributed {
            // Identical weights everywhere (rank 0's), gradient averaging, stop agreement, optional sync BN.
            try parallel.attach(to: run.trainer, synchronizedBatchNorm: run.synchronizedBatchNorm)
        }
        if communicator.isPrimary {
            try FileManager.default.createDirectory(at: run.runDirectory, withIntermediateDirectories: true)
            let chart = TrainingChart(url: run.runDirectory.appendingPathComponent("metrics.svg"), title: run.model.summaryDescription)
            let log = run.runDirectory.appendingPathComponent("metrics.jsonl")
            if run.trainer.progress.epoch > 0 { try? chart.loadHistory(fromLog: log) }
            run.trainer.callbacks = [
                ProgressDisplay(epochs: run.totalEpochs),
                try MetricsLog(url: log),
                chart,
                try CheckpointWriter(directory: run.runDirectory, metadata: ["bnn.configuration": run.configurationJSON,
                                                                          "bnn.class_names": run.classNamesJSON,
                                                                          TrainingRun.globalBatchMetadataKey: String(run.globalBatchSize)]),
            ]
        }

        // Ctrl-C or SIGTERM: finish the current batch, write a checkpoint, stop.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let signalSources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { run.trainer.requestStop() }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }

        while run.trainer.progress.epoch < run.totalEpochs {
            let epoch = run.trainer.progress.epoch
            // A resumed run starts the loader at its batch: the batches already done are not decoded again.
            let training = LoaderBatches(run.trainLoader, epoch: epoch, startingAt: run.trainer.progress.batchInEpoch)
            let validation = LoaderBatches(run.validationLoader, epoch: 0)
            // All ranks end the epoch after the same batch; a rank whose data fails stops them all.
            let agreed = parallel.batches(training, for: run.trainer) { training.error }
            let report = run.trainer.runEpoch(training: agreed, validation: communicator.isPrimary ? validation : nil,
                                              batchCount: run.trainLoader.batchesPerEpoch, firstBatchIndex: training.firstBatch)
            if let failure = agreed.failure {
                if communicator.isPrimary { print("stopped; the last good checkpoint is \(run.runDirectory.appendingPathComponent("last.safetensors").path)") }
                if session.isDistributed { throw failure }
            }
            try training.rethrow()
            try validation.rethrow()
            let skipped = run.trainLoader.skippedFileCount(epoch: epoch)
            if skipped > 0 {
                warn((session.isDistributed ? "rank \(communicator.rank): " : "")
                     + "epoch \(epoch + 1): \(skipped) unreadable image(s) skipped (see the warnings above; --strict stops instead)")
            }
            if report.interrupted {
                if communicator.isPrimary { print("stopped; continue with --resume \(run.runDirectory.appendingPathComponent("last.safetensors").path)") }
                session.exit(130)
            }
        }
        if communicator.isPrimary, let best = run.trainer.progress.bestTop1, let epoch = run.trainer.progress.bestEpoch {
            print(String(format: "best validation top-1 %.2f%% (epoch %d); checkpoints in %@", best * 100, epoch + 1, run.runDirectory.path))
        }
    }
}
