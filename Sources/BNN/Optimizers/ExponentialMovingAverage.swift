/// An exponential moving average (EMA) of a model's weights, kept as shadow copies for evaluation.
///
/// Shadows cover the trainable parameters and the buffers (BatchNorm running statistics), as in
/// timm's `ModelEmaV3`: after each optimizer step, ``update()`` moves every floating-point shadow
/// towards the live value, `shadow ← shadow + (1 − decay)·(value − shadow)`, and copies integer
/// buffers (`num_batches_tracked`) as they are. ``swap()`` exchanges live and shadow values, so
/// evaluation runs on the averaged weights and a second ``swap()`` restores the trained ones;
/// ``withAveragedWeights(_:)`` does both around a closure.
public final class ExponentialMovingAverage {
    /// The weight of the old shadow in each update (0.9999 in the Bi-Real Net recipe).
    public var decay: Double
    /// The tracked tensors under their model names.
    public let entries: [(name: String, parameter: Parameter)]
    /// Whether the shadows are currently swapped into the model.
    public private(set) var isSwappedIn = false
    private var shadows: [Tensor]

    /// Starts averaging from the current values of `namedParameters` (parameters and buffers; a
    /// parameter listed twice is tracked once).
    public init(_ namedParameters: [(name: String, parameter: Parameter)], decay: Double = 0.9999) {
        precondition(decay >= 0 && decay <= 1, "ExponentialMovingAverage: decay must lie in [0, 1]")
        var seen = Set<ObjectIdentifier>()
        entries = namedParameters.filter { seen.insert(ObjectIdentifier($0.parameter)).inserted }
        shadows = entries.map(\.parameter.value)
        self.decay = decay
    }

    /// The shadow value of the entry `name` in memory layout, or `nil` for an unknown name.
    public func shadow(named name: String) -> Tensor? {
        entries.firstIndex { $0.name == name }.map { shadows[$0] }
    }

    /// Folds the current values into the shadows; a programmer error while swapped in.
    public func update() {
        precondition(!isSwappedIn, "ExponentialMovingAverage: update() while the averaged weights are swapped in")
        let weight = Float(1 - decay)
        for (index, entry) in entries.enumerated() {
            let parameter = entry.parameter
            precondition(shadows[index].shape == parameter.value.shape,
                         "ExponentialMovingAverage: '\(entry.name)' changed shape")
            if parameter.storesAsInteger {
                shadows[index] = parameter.value
                continue
            }
            parameter.value.withUnsafeBufferPointer { v in
                shadows[index].withUnsafeMutableBufferPointer { s in
                    for i in 0..<s.count { s[i] = s[i] + weight * (v[i] - s[i]) }
                }
            }
        }
    }

    /// Exchanges the live values and the shadows (its own inverse).
    public func swap() {
        for (index, entry) in entries.enumerated() {
            Swift.swap(&shadows[index], &entry.parameter.value)
        }
        isSwappedIn.toggle()
    }

    /// Runs `body` with the averaged weights in the model and restores the trained ones afterwards
    /// (also when `body` throws).
    public func withAveragedWeights<R>(_ body: () throws -> R) rethrows -> R {
        precondition(!isSwappedIn, "ExponentialMovingAverage: already swapped in")
        swap()
        defer { swap() }
        return try body()
    }

    /// The averaged weights under the model's names, in checkpoint (PyTorch) layout — a complete
    /// model state dictionary. Taken from the live values while swapped in.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        entries.enumerated().map { index, entry in
            let averaged = isSwappedIn ? entry.parameter.value : shadows[index]
            return (entry.name, entry.parameter.toDiskLayout(averaged))
        }
    }

    /// Restores the shadows from tensors in checkpoint layout under the model's names.
    ///
    /// - Throws: ``OptimizerStateError`` for a missing, unexpected or mis-shaped tensor (shapes in
    ///   checkpoint layout). Nothing changes when it throws. A programmer error while swapped in.
    public func loadState(_ tensors: [String: Tensor]) throws {
        precondition(!isSwappedIn, "ExponentialMovingAverage: loadState while swapped in")
        var reader = StateTensorReader(tensors)
        let loaded = try entries.map { entry in
            entry.parameter.fromDiskLayout(try reader.tensor(entry.name, shape: entry.parameter.diskShape))
        }
        try reader.finish()
        shadows = loaded
    }
}
