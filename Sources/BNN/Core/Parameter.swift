/// What a named tensor of a model is, which decides how optimizers, checkpoints and the model
/// summary treat it.
public enum ParameterKind: String, Sendable, Codable, CaseIterable {
    /// Real-valued latent weights whose sign is used in the forward pass (1 bit when deployed).
    case latentBinary
    /// Ordinary trainable real-valued weights (32 bits).
    case real
    /// State that is saved and loaded but not trained, such as BatchNorm running statistics.
    case buffer
}

/// How a parameter's in-memory layout maps to the PyTorch layout used on disk.
public enum ParameterLayout: Sendable, Equatable {
    /// Stored exactly as on disk.
    case plain
    /// A convolution weight held as O×kH×kW×I in memory (channels-last, matching N×H×W×C activations)
    /// and as O×I×kH×kW on disk.
    case convolutionOHWI
}

/// A named, mutable tensor owned by a layer, with the gradient accumulated for it by backward passes.
///
/// Parameters are reference types so that optimizers, checkpoints and the layer that owns them share
/// one copy; layers expose them through ``Module/namedParameters(prefix:)``.
public final class Parameter {
    /// The current value.
    public var value: Tensor
    /// The accumulated gradient, same shape as ``value``; zero for buffers.
    public var gradient: Tensor
    /// The role of this tensor.
    public let kind: ParameterKind
    /// How ``value`` is laid out relative to the PyTorch checkpoint layout.
    public let layout: ParameterLayout
    /// The value type used for this tensor on disk; integer buffers such as `num_batches_tracked`
    /// are saved as `I64`.
    public let storesAsInteger: Bool
    /// Whether every element must be ≥ 0 (a variance); a checkpoint holding a negative value for it
    /// is refused on load.
    public let isNonNegative: Bool

    /// Creates a parameter with a zero gradient.
    public init(_ value: Tensor, kind: ParameterKind, layout: ParameterLayout = .plain, storesAsInteger: Bool = false,
                isNonNegative: Bool = false) {
        self.isNonNegative = isNonNegative
        self.value = value
        self.gradient = Tensor(zeros: kind == .buffer ? [0] : value.shape)
        self.kind = kind
        self.layout = layout
        self.storesAsInteger = storesAsInteger
    }

    /// Whether optimizers update this parameter.
    public var isTrainable: Bool { kind != .buffer }

    /// The shape this tensor has in a PyTorch checkpoint.
    public var diskShape: [Int] {
        switch layout {
        case .plain: return value.shape
        case .convolutionOHWI: return [value.shape[0], value.shape[3], value.shape[1], value.shape[2]]
        }
    }

    /// The value in checkpoint layout.
    public func diskValue() -> Tensor {
        switch layout {
        case .plain: return value
        case .convolutionOHWI: return value.permuted([0, 3, 1, 2])
        }
    }

    /// Replaces the value from a tensor in checkpoint layout; the shape must equal ``diskShape``.
    public func setDiskValue(_ tensor: Tensor) {
        precondition(tensor.shape == diskShape, "Parameter: disk shape \(tensor.shape) != \(diskShape)")
        switch layout {
        case .plain: value = tensor
        case .convolutionOHWI: value = tensor.permuted([0, 2, 3, 1])
        }
    }

    /// Adds `delta` into the accumulated gradient.
    public func accumulateGradient(_ delta: Tensor) {
        gradient.add(delta, scaledBy: 1)
    }
}
