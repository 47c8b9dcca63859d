/// Reads named state tensors with validation, for the `loadState` methods of optimizers, the loss
/// scaler and the weight EMA.
///
/// It records which names were consumed so that ``finish()`` can reject tensors nobody asked for;
/// callers read everything first and assign only after ``finish()`` succeeds, so a failed load
/// leaves the object unchanged.
struct StateTensorReader {
    private let tensors: [String: Tensor]
    private var consumed: Set<String> = []

    init(_ tensors: [String: Tensor]) {
        self.tensors = tensors
    }

    /// The tensor called `name`, which must have exactly `shape`.
    mutating func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        guard let tensor = tensors[name] else { throw OptimizerStateError.missingTensor(name: name) }
        guard tensor.shape == shape else {
            throw OptimizerStateError.shapeMismatch(name: name, expected: shape, found: tensor.shape)
        }
        consumed.insert(name)
        return tensor
    }

    /// The single value of the tensor called `name` (shape `[]` or `[1]`).
    mutating func scalar(_ name: String) throws -> Float {
        guard let tensor = tensors[name] else { throw OptimizerStateError.missingTensor(name: name) }
        guard tensor.count == 1, tensor.rank <= 1 else {
            throw OptimizerStateError.shapeMismatch(name: name, expected: [1], found: tensor.shape)
        }
        consumed.insert(name)
        return tensor.scalars[0]
    }

    /// A non-negative whole number stored as a one-element tensor; exact up to 2^24.
    mutating func count(_ name: String) throws -> Int {
        let value = try scalar(name)
        guard value >= 0, value.rounded() == value, value <= 16_777_216 else {
            throw OptimizerStateError.invalidValue(name: name, value: value,
                                                   requirement: "a whole number in 0...16777216")
        }
        return Int(value)
    }

    /// Throws ``OptimizerStateError/unexpectedTensor(name:)`` for the first (sorted) unread name.
    func finish() throws {
        if let extra = tensors.keys.filter({ !consumed.contains($0) }).sorted().first {
            throw OptimizerStateError.unexpectedTensor(name: extra)
        }
    }

    /// A one-element tensor holding `value`, the form ``count(_:)`` and ``scalar(_:)`` read back.
    static func scalarTensor(_ value: Float) -> Tensor {
        Tensor(shape: [1], scalars: [value])
    }
}
