import Foundation

extension Trainer {
    /// Metadata key of the ``TrainingProgress`` JSON in training checkpoints.
    public static let progressMetadataKey = "bnn.training_progress"
    /// Metadata key of the drop-path generator states (JSON: module path to generator) in training
    /// checkpoints.
    public static let dropPathMetadataKey = "bnn.drop_path_generators"

    /// The model's drop paths under their module paths.
    private var dropPaths: [String: DropPath] {
        var result: [String: DropPath] = [:]
        var named = Set<ObjectIdentifier>()
        for (path, module) in model.namedModules() {
            guard let residual = module as? Residual else { continue }
            named.insert(ObjectIdentifier(residual))
            if let dropPath = residual.dropPath { result[path] = dropPath }
        }
        // Blocks whose names are inlined into their parent's have no path: keyed by data-flow position.
        for (index, residual) in DropPath.residuals(in: model).enumerated() where !named.contains(ObjectIdentifier(residual)) {
            if let dropPath = residual.dropPath { result["residual[\(index)]"] = dropPath }
        }
        return result
    }

    /// Saves everything a resumed run needs to one safetensors file, atomically: the model under its
    /// PyTorch names, the optimizer state (`optimizer.*`), the loss scaler (`scaler.*`), the averaged
    /// weights (`ema.*`), the ``progress``, the drop-path generators and the caller's `metadata`
    /// (configuration, class names, …).
    ///
    /// - Throws: ``CheckpointError`` or ``SafeTensorsError`` naming the file; an existing file is left
    ///   untouched on error.
    public func saveCheckpoint(to url: URL, metadata: [String: String] = [:]) throws {
        var extras: [(name: String, tensor: Tensor)] = optimizer.stateTensors().map { ("optimizer." + $0.name, $0.tensor) }
        extras += lossScaler?.stateTensors().map { ("scaler." + $0.name, $0.tensor) } ?? []
        extras += averagedWeights?.stateTensors().map { ("ema." + $0.name, $0.tensor) } ?? []
        var allMetadata = metadata
        allMetadata[Self.progressMetadataKey] = try Checkpoint.metadataJSON(progress)
        let generators = dropPaths.mapValues(\.generator)
        if !generators.isEmpty { allMetadata[Self.dropPathMetadataKey] = try Checkpoint.metadataJSON(generators) }
        try Checkpoint.save(model, to: url, extraTensors: extras, metadata: allMetadata)
    }

    /// Restores a checkpoint written by ``saveCheckpoint(to:metadata:)``: model, optimizer, loss
    /// scaler, averaged weights, progress and drop-path generators (a checkpoint without them leaves the
    /// generators as they are). Returns the checkpoint for reading the caller's metadata.
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
        let dropPaths = self.dropPaths
        var generators: [String: SeededGenerator] = [:]
        if checkpoint.metadata[Self.dropPathMetadataKey] != nil {
            generators = try checkpoint.decodeMetadata([String: SeededGenerator].self, forKey: Self.dropPathMetadataKey)
            if let path = generators.keys.sorted().first(where: { dropPaths[$0] == nil }) ?? dropPaths.keys.sorted().first(where: { generators[$0] == nil }) {
                throw CheckpointError.invalidMetadata(file: checkpoint.source, key: Self.dropPathMetadataKey,
                    reason: "drop path '\(path)' is in \(generators[path] == nil ? "the model but not the file" : "the file but not the model") "
                        + "(file: \(generators.keys.sorted()), model: \(dropPaths.keys.sorted()))")
            }
            if let bad = generators.first(where: { $0.value.state.count != 4 }) {
                throw CheckpointError.invalidMetadata(file: checkpoint.source, key: Self.dropPathMetadataKey,
                    reason: "drop path '\(bad.key)': expected 4 generator words, found \(bad.value.state.count)")
            }
        }
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
        for (path, generator) in generators { dropPaths[path]?.generator = generator }
        return checkpoint
    }
}
