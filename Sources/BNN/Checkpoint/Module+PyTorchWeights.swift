import Foundation

extension Module {
    /// Loads weights and statistics from a checkpoint with a PyTorch reference's `state_dict` names.
    ///
    /// Accepted beyond the exact names: a `module.` prefix (from `DataParallel`), and the flat binary
    /// weights of the Bi-Real Net and ReActNet authors' code, `….weights` of shape [O·I·kH·kW, 1] for a
    /// latent binary parameter `….weight`, reshaped row-major to O×I×kH×kW. Tensors that are not model
    /// tensors (our training checkpoints' optimizer state) are skipped.
    ///
    /// - Parameters:
    ///   - checkpoint: The opened checkpoint.
    ///   - strict: Require every model parameter to be in the file and every model tensor of the file
    ///     to belong to the model.
    /// - Returns: What was loaded, missing and unexpected.
    /// - Throws: ``CheckpointError`` or ``SafeTensorsError`` naming the file and the tensor, with the
    ///   expected and found shape or dtype. Nothing changes when it throws.
    @discardableResult
    public func loadPyTorchWeights(from checkpoint: Checkpoint, strict: Bool = true) throws -> CheckpointLoadReport {
        let flatSuffix = ".weights"
        let parameters = Dictionary(namedParameters().map { ($0.name, $0.parameter) }, uniquingKeysWith: { a, _ in a })
        let isFlatBinary = { (name: String) -> Bool in
            let stripped = name.hasPrefix("module.") ? String(name.dropFirst("module.".count)) : name
            return name.hasSuffix(flatSuffix) && parameters[String(stripped.dropLast())].map { $0.kind == .latentBinary } ?? false
        }
        let renaming = CheckpointRenaming.rules([
            .stripPrefix("module."),
            CheckpointRenaming { $0.hasSuffix(flatSuffix) && parameters[String($0.dropLast())]?.kind == .latentBinary ? nil : $0 },
        ])
        // Check the flat tensors before anything is assigned, so a failed load leaves the model unchanged.
        var flatValues: [(modelName: String, flatName: String, parameter: Parameter, value: Tensor)] = []
        for flatName in checkpoint.modelTensorNames where isFlatBinary(flatName) {
            let stripped = flatName.hasPrefix("module.") ? String(flatName.dropFirst("module.".count)) : flatName
            let modelName = String(stripped.dropLast())  // `weights` → `weight`
            guard let parameter = parameters[modelName] else { continue }
            let flat = try checkpoint.file.tensor(flatName)
            guard flat.count == Tensor.elementCount(parameter.diskShape) else {
                throw CheckpointError.shapeMismatch(file: checkpoint.source, tensor: modelName, checkpointName: flatName,
                                                    expected: [Tensor.elementCount(parameter.diskShape), 1], found: flat.shape)
            }
            flatValues.append((modelName, flatName, parameter, flat.reshaped(parameter.diskShape)))
        }
        let loadedFlat = Set(flatValues.map(\.modelName))
        let previousValues = parameters.mapValues(\.value)   // copy-on-write: no copy unless put back
        var report = try checkpoint.load(into: self, strict: false, renaming: renaming)
        report.missing.removeAll { loadedFlat.contains($0) }
        report.ignored.removeAll { name in flatValues.contains { $0.flatName == name } }
        if strict && (!report.missing.isEmpty || !report.unexpected.isEmpty) {
            for (name, value) in previousValues { parameters[name]?.value = value }
            throw CheckpointError.tensorSetMismatch(file: checkpoint.source, missing: report.missing, unexpected: report.unexpected)
        }
        for entry in flatValues {
            entry.parameter.setDiskValue(entry.value)
            report.loaded.append(entry.modelName)
        }
        return report
    }

    /// Loads a `.safetensors` file with ``loadPyTorchWeights(from:strict:)-(Checkpoint,_)``.
    ///
    /// - Throws: ``CheckpointError`` or ``SafeTensorsError`` naming the file and the tensor.
    @discardableResult
    public func loadPyTorchWeights(from url: URL, strict: Bool = true) throws -> CheckpointLoadReport {
        try loadPyTorchWeights(from: Checkpoint(contentsOf: url), strict: strict)
    }
}
