import Foundation

/// A training checkpoint: a model's tensors, extra named tensors (optimizer state, EMA weights) and
/// string metadata (epoch, step, schedule, RNG state, JSON blobs), in one safetensors file.
///
/// Model tensors are stored under their PyTorch names (``Module/namedParameters(prefix:)``) in
/// PyTorch layout (``Parameter/diskValue()``): `F32`, or `I64` for parameters that
/// ``Parameter/storesAsInteger``. The names of the extra tensors are listed in the metadata key
/// ``extraTensorsMetadataKey`` so loading a model skips them, and `"format": "pt"` is added unless
/// given, as PyTorch tools expect. Saving is atomic (see ``SafeTensorsWriter/write(to:)``).
///
/// ```swift
/// try Checkpoint.save(model, to: url,
///                     extraTensors: optimizer.stateTensors().map { ("optimizer." + $0.name, $0.tensor) },
///                     metadata: ["epoch": "12", "rng": try Checkpoint.metadataJSON(generator)])
/// let checkpoint = try Checkpoint(contentsOf: url)
/// try checkpoint.load(into: model)
/// try optimizer.loadState(checkpoint.extraTensors(withPrefix: "optimizer."))
/// let epoch = try checkpoint.metadataValue("epoch")
/// ```
public struct Checkpoint: Sendable {
    /// The metadata key holding the JSON array of extra (non-model) tensor names.
    public static let extraTensorsMetadataKey = "bnn.extra_tensors"

    /// The underlying file, for direct access to any tensor.
    public let file: SafeTensorsFile
    /// The metadata without the reserved ``extraTensorsMetadataKey``.
    public let metadata: [String: String]
    /// The names of the extra tensors, sorted.
    public let extraTensorNames: [String]
    /// The names of the model tensors (every tensor that is not extra), sorted.
    public let modelTensorNames: [String]

    /// The path of the file, used in error messages.
    public var source: String { file.source }

    /// Opens and validates the checkpoint at `url`.
    ///
    /// - Throws: ``SafeTensorsError`` for an unreadable or malformed file;
    ///   ``CheckpointError/invalidMetadata(file:key:reason:)`` when the list of extra tensors is not a
    ///   JSON array of names of the file.
    public init(contentsOf url: URL) throws {
        try self.init(file: SafeTensorsFile(contentsOf: url))
    }

    /// Interprets an opened safetensors file as a checkpoint; a file without the reserved key (for
    /// example one written by PyTorch) has only model tensors.
    ///
    /// - Throws: ``CheckpointError/invalidMetadata(file:key:reason:)`` when the list of extra tensors
    ///   is not a JSON array of names of the file.
    public init(file: SafeTensorsFile) throws {
        var metadata = file.metadata
        var extras: [String] = []
        if let list = metadata.removeValue(forKey: Self.extraTensorsMetadataKey) {
            let key = Self.extraTensorsMetadataKey
            guard let names = (try? JSONSerialization.jsonObject(with: Data(list.utf8))) as? [String] else {
                throw CheckpointError.invalidMetadata(file: file.source, key: key, reason: "expected a JSON array of tensor names")
            }
            if let absent = names.first(where: { !file.contains($0) }) {
                throw CheckpointError.invalidMetadata(file: file.source, key: key, reason: "lists '\(absent)', which is not in the file")
            }
            extras = Array(Set(names)).sorted()
        }
        let extraSet = Set(extras)
        self.file = file
        self.metadata = metadata
        self.extraTensorNames = extras
        self.modelTensorNames = file.tensorNames.filter { !extraSet.contains($0) }.sorted()
    }

    /// Saves `module`'s parameters, the extra tensors and the metadata to `url`, atomically.
    ///
    /// - Parameters:
    ///   - module: The model; every tensor of ``Module/namedParameters(prefix:)`` is written in
    ///     PyTorch layout, `F32` or (``Parameter/storesAsInteger``) `I64`.
    ///   - url: The file to create or replace.
    ///   - extraTensors: Further `F32` tensors, such as `optimizer.<parameter name>.exp_avg`; their
    ///     names must differ from the model's.
    ///   - metadata: Free-form strings; ``extraTensorsMetadataKey`` is reserved.
    /// - Throws: ``CheckpointError/invalidMetadata(file:key:reason:)`` for the reserved key;
    ///   ``SafeTensorsError`` for a repeated name, an integer buffer holding a non-integer, or an I/O
    ///   failure. On error an existing file at `url` is untouched and no temporary file remains.
    public static func save(_ module: any Module, to url: URL, extraTensors: [(name: String, tensor: Tensor)] = [],
                            metadata: [String: String] = [:]) throws {
        guard metadata[extraTensorsMetadataKey] == nil else {
            throw CheckpointError.invalidMetadata(file: url.path, key: extraTensorsMetadataKey,
                                                  reason: "the key is reserved for the list of extra tensors")
        }
        var writer = SafeTensorsWriter(metadata: metadata)
        if writer.metadata["format"] == nil { writer.metadata["format"] = "pt" }
        for (name, parameter) in module.namedParameters() {
            writer.add(parameter.diskValue(), named: name, as: parameter.storesAsInteger ? .int64 : .float32)
        }
        for (name, tensor) in extraTensors { writer.add(tensor, named: name) }
        if !extraTensors.isEmpty {
            let names = extraTensors.map(\.name).sorted()
            let list = try JSONSerialization.data(withJSONObject: names, options: [.withoutEscapingSlashes])
            writer.metadata[extraTensorsMetadataKey] = String(decoding: list, as: UTF8.self)
        }
        try writer.write(to: url)
    }

    /// The extra tensor `name`, converted to `Float`.
    ///
    /// - Throws: ``SafeTensorsError/tensorNotFound(file:tensor:)`` when no extra tensor has that name.
    public func extraTensor(_ name: String) throws -> Tensor {
        guard extraTensorNames.contains(name) else { throw SafeTensorsError.tensorNotFound(file: source, tensor: name) }
        return try file.tensor(name)
    }

    /// The extra tensors whose names start with `prefix`, keyed by the rest of the name
    /// (`optimizer.fc.weight.exp_avg` → `fc.weight.exp_avg` for prefix `optimizer.`); the form
    /// optimizers' `loadState` takes. An empty prefix returns all extra tensors.
    public func extraTensors(withPrefix prefix: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for name in extraTensorNames where name.hasPrefix(prefix) {
            result[String(name.dropFirst(prefix.count))] = try file.tensor(name)
        }
        return result
    }

    /// The metadata value for `key`.
    ///
    /// - Throws: ``CheckpointError/missingMetadata(file:key:)``.
    public func metadataValue(_ key: String) throws -> String {
        guard let value = metadata[key] else { throw CheckpointError.missingMetadata(file: source, key: key) }
        return value
    }

    /// Decodes the JSON stored under `key` (written with ``metadataJSON(_:)``), for structured state
    /// such as an RNG, a schedule or a configuration.
    ///
    /// - Throws: ``CheckpointError/missingMetadata(file:key:)``, or
    ///   ``CheckpointError/invalidMetadata(file:key:reason:)`` when the value does not decode as `T`.
    public func decodeMetadata<T: Decodable>(_ type: T.Type, forKey key: String) throws -> T {
        let text = try metadataValue(key)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw CheckpointError.invalidMetadata(file: source, key: key, reason: "cannot decode \(T.self): \(error)")
        }
    }

    /// `value` encoded as compact JSON with sorted keys, for the `metadata` of ``save(_:to:extraTensors:metadata:)``.
    ///
    /// - Throws: `EncodingError` when `value` cannot be encoded (for example a non-finite `Float`).
    public static func metadataJSON<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Replaces the parameters of `module` with the checkpoint's model tensors.
    ///
    /// Each model tensor's name is passed through `renaming` to find the parameter; `F16`, `BF16`
    /// and `F64` tensors convert to `Float`, integer tensors are required for (and only for)
    /// ``Parameter/storesAsInteger`` parameters, and every shape must equal ``Parameter/diskShape``.
    /// Everything is checked before anything is assigned, so on error the module is unchanged.
    ///
    /// - Parameters:
    ///   - module: The model to fill.
    ///   - strict: When `true`, every model parameter must be in the file and every model tensor of
    ///     the file must map to a parameter (tensors the renaming ignores are allowed); when `false`
    ///     the differences are returned in the report and the rest is loaded. In both modes a missing
    ///     `num_batches_tracked` of an integer parameter is no error: the count starts at 0, as PyTorch's
    ///     `load_state_dict` does, and is listed in ``CheckpointLoadReport/countsStartedAtZero``.
    ///   - renaming: Maps checkpoint names to model names; ``CheckpointRenaming/identity`` by default.
    /// - Returns: The loaded, missing, unexpected and ignored names.
    /// - Throws: ``CheckpointError/tensorSetMismatch(file:missing:unexpected:)`` (strict only),
    ///   ``CheckpointError/shapeMismatch(file:tensor:checkpointName:expected:found:)``,
    ///   ``CheckpointError/dtypeMismatch(file:tensor:checkpointName:expected:found:)``,
    ///   ``CheckpointError/invalidValue(file:tensor:checkpointName:reason:)`` for a NaN or infinite
    ///   value, or a negative one where ``Parameter/isNonNegative``, and
    ///   ``CheckpointError/ambiguousName(file:tensor:sources:)``, in both modes.
    @discardableResult
    public func load(into module: any Module, strict: Bool = true,
                     renaming: CheckpointRenaming = .identity) throws -> CheckpointLoadReport {
        let parameters = module.namedParameters()
        var parameterByName: [String: Parameter] = [:]
        for (name, parameter) in parameters {
            guard parameterByName.updateValue(parameter, forKey: name) == nil else {
                throw CheckpointError.ambiguousName(file: source, tensor: name, sources: ["the model (listed twice)"])
            }
        }
        var checkpointNameFor: [String: String] = [:]
        var unexpected: [String] = []
        var ignored: [String] = []
        for checkpointName in modelTensorNames {
            guard let modelName = renaming.map(checkpointName) else {
                ignored.append(checkpointName)
                continue
            }
            guard parameterByName[modelName] != nil else {
                unexpected.append(checkpointName)
                continue
            }
            if let other = checkpointNameFor.updateValue(checkpointName, forKey: modelName) {
                throw CheckpointError.ambiguousName(file: source, tensor: modelName, sources: [other, checkpointName])
            }
        }
        var missing = parameters.map(\.name).filter { checkpointNameFor[$0] == nil }
        // As PyTorch's load_state_dict: a BatchNorm count absent from the file (saved before PyTorch
        // 0.4.1, or converted from Keras/Larq) starts at 0 instead of failing the load.
        let countsStartingAtZero = missing.filter { name in
            (name == Self.batchCountName || name.hasSuffix("." + Self.batchCountName))
                && parameterByName[name]?.storesAsInteger == true
        }
        missing.removeAll { countsStartingAtZero.contains($0) }
        if strict && (!missing.isEmpty || !unexpected.isEmpty) {
            throw CheckpointError.tensorSetMismatch(file: source, missing: missing, unexpected: unexpected)
        }

        var values: [(parameter: Parameter, value: Tensor)] = []
        var loaded: [String] = []
        for (name, parameter) in parameters {
            guard let checkpointName = checkpointNameFor[name] else { continue }
            values.append((parameter, try value(for: parameter, named: name, checkpointName: checkpointName)))
            loaded.append(name)
        }
        for (parameter, value) in values { parameter.setDiskValue(value) }
        for name in countsStartingAtZero {
            guard let parameter = parameterByName[name] else { continue }
            parameter.setDiskValue(Tensor(zeros: parameter.diskShape))
        }
        return CheckpointLoadReport(loaded: loaded, missing: missing, unexpected: unexpected, ignored: ignored,
                                    countsStartedAtZero: countsStartingAtZero)
    }

    /// The name of BatchNorm's integer batch count, PyTorch's `num_batches_tracked`.
    static let batchCountName = "num_batches_tracked"

    /// The checked, converted value of the checkpoint tensor for one parameter, in disk layout.
    private func value(for parameter: Parameter, named name: String, checkpointName: String) throws -> Tensor {
        let info = try file.info(checkpointName)
        guard info.dtype.isFloatingPoint != parameter.storesAsInteger else {
            let expected = parameter.storesAsInteger ? "an integer dtype (I64)" : "a floating-point dtype (F32, F16, BF16, F64)"
            throw CheckpointError.dtypeMismatch(file: source, tensor: name, checkpointName: checkpointName,
                                                expected: expected, found: info.dtype)
        }
        guard info.shape == parameter.diskShape else {
            throw CheckpointError.shapeMismatch(file: source, tensor: name, checkpointName: checkpointName,
                                                expected: parameter.diskShape, found: info.shape)
        }
        if parameter.storesAsInteger {
            return Tensor(shape: info.shape, scalars: try file.integers(checkpointName).map { Float($0) })
        }
        let tensor = try file.tensor(checkpointName)
        try tensor.withUnsafeBufferPointer { values in
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError.invalidValue(file: source, tensor: name, checkpointName: checkpointName,
                                                   reason: "element \(index) is \(values[index]) (a diverged or corrupted model)")
            }
            if parameter.isNonNegative, let index = values.firstIndex(where: { $0 < 0 }) {
                throw CheckpointError.invalidValue(file: source, tensor: name, checkpointName: checkpointName,
                                                   reason: "element \(index) is \(values[index]), expected a variance ≥ 0")
            }
        }
        return tensor
    }
}
