import Foundation

extension Trainer {
    /// Metadata key of the ``TrainingProgress`` JSON in training checkpoints.
    public static let progressMetadataKey = "bnn.training_progress"

    /// Saves everything a resumed run needs to one safetensors file, atomically: the model under its
    /// PyTorch names, the optimizer state (`optimizer.*`), the loss scaler (`scaler.*`), the averaged
    /// weights (`ema.*`), the ``progress`` and the caller's `metadata` (configuration, class names, …).
    ///
    /// - Throws: ``CheckpointError`` or ``SafeTensorsError`` naming the file; an existing file is left
    ///   untouched on error.
    public func saveCheckpoint(to url: URL, metadata: [String: String] = [:]) throws {
        var extras: [(name: String, tensor: Tensor)] = optimizer.stateTensors().map { ("optimizer." + $0.name, $0.tensor) }
        extras += lossScaler?.stateTensors().map { ("scaler." + $0.name, $0.tensor) } ?? []
        extras += averagedWeights?.stateTensors().map { ("ema." + $0.name, $0.tensor) } ?? []
        var allMetadata = metadata
        allMetadata[Self.progressMetadataKey] = try Checkpoint.metadataJSON(progress)
        try Checkpoint.save(model, to: url, extraTensors: extras, metadata: allMetadata)
    }

    /// Restores a checkpoint written by ``saveCheckpoint(to:metadata:)``: model, optimizer, loss
    /// scaler, averaged weights and progress. Returns the checkpoint for reading the caller's metadata.
    ///
    /// All or nothing: when any part does not fit, the model's previous values are put back and the
    /// optimizer, scaler, averages and progress are unchanged.
    ///
    /// - Throws: ``CheckpointError``, ``SafeTensorsError`` or ``OptimizerStateError`` naming the file
    ///   and the tensor or key that does not fit.
    @discardableResult
    public func restore(from url: URL) throws -> Checkpoint {
        let checkpoint = try Checkpoint(contentsOf: url)
        let restoredProgress = try checkpoint.decodeMetadata(TrainingProgress.self, forKey: Self.progressMetadataKey)
        let parameters = model.namedParameters().map(\.parameter)
        let previousValues = parameters.map(\.value)   // copy-on-write: no copy unless restored
        try checkpoint.load(into: model)
        do {
            // Each of these validates everything before changing anything; the optimizer goes first
            // because its state is the largest and most likely not to fit.
            try optimizer.loadState(checkpoint.extraTensors(withPrefix: "optimizer."))
            if let lossScaler { try lossScaler.loadState(checkpoint.extraTensors(withPrefix: "scaler.")) }
            if let averagedWeights { try averagedWeights.loadState(checkpoint.extraTensors(withPrefix: "ema.")) }
        } catch {
            for (parameter, value) in zip(parameters, previousValues) { parameter.value = value }
            throw error
        }
        progress = restoredProgress
        return checkpoint
    }
}
