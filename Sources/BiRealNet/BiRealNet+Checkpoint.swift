import BNN
import Foundation

extension BiRealNet {
    /// Loads weights and BatchNorm statistics from a safetensors checkpoint with PyTorch `state_dict`
    /// names, as the reference, our trainer or `tools/reference/convert_pth_to_safetensors.py` write them.
    ///
    /// Accepted beyond the exact names: a `module.` prefix (from `DataParallel`), and the official Bi-Real
    /// PyTorch code's flat binary weights `…binary_conv.weights` of shape [O·I·3·3, 1], reshaped
    /// row-major to O×I×3×3. The extra tensors of our training checkpoints (optimizer state) are not
    /// model tensors and are skipped.
    ///
    /// - Parameters:
    ///   - url: The `.safetensors` file.
    ///   - strict: Require every model parameter to be in the file and every model tensor of the file to
    ///     belong to the model.
    /// - Returns: What was loaded, missing and unexpected.
    /// - Throws: ``BNN/CheckpointError`` or ``BNN/SafeTensorsError`` naming the file and the tensor, with the
    ///   expected and found shape or dtype.
    @discardableResult
    public func loadWeights(from url: URL, strict: Bool = true) throws -> CheckpointLoadReport {
        try loadWeights(from: Checkpoint(contentsOf: url), strict: strict)
    }

    /// Loads weights from an opened checkpoint; see ``loadWeights(from:strict:)-(URL,_)``.
    @discardableResult
    public func loadWeights(from checkpoint: Checkpoint, strict: Bool = true) throws -> CheckpointLoadReport {
        let flatSuffix = ".binary_conv.weights"
        let renaming = CheckpointRenaming.rules([
            .stripPrefix("module."),
            CheckpointRenaming { $0.hasSuffix(flatSuffix) ? nil : $0 },
        ])
        let parameters = Dictionary(namedParameters().map { ($0.name, $0.parameter) }, uniquingKeysWith: { a, _ in a })
        // Check the flat tensors before anything is assigned, so a failed load leaves the model unchanged.
        var flatValues: [(modelName: String, flatName: String, parameter: Parameter, value: Tensor)] = []
        var unexpectedFlat: [String] = []
        for flatName in checkpoint.modelTensorNames where flatName.hasSuffix(flatSuffix) {
            let stripped = flatName.hasPrefix("module.") ? String(flatName.dropFirst("module.".count)) : flatName
            let modelName = String(stripped.dropLast())  // `weights` → `weight`
            guard let parameter = parameters[modelName] else { unexpectedFlat.append(flatName); continue }
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
        report.unexpected += unexpectedFlat
        report.ignored.removeAll { name in flatValues.contains { $0.flatName == name } || unexpectedFlat.contains(name) }
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
}
