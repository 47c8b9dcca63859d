/// Per-group optimizer settings, the analogue of the extra keys of a PyTorch parameter group.
public struct ParameterGroupOptions: Sendable, Equatable {
    /// Multiplies the optimizer's (scheduled) learning rate for this group; 1 keeps it.
    public var learningRateMultiplier: Double
    /// Weight decay for this group, overriding the optimizer's; `nil` uses the optimizer's value.
    public var weightDecay: Double?
    /// When set to `c`, every value of the group is clamped to `[-c, c]` after each step — Larq's
    /// `weight_clip` constraint, meant for the group of latent binary weights (`c = 1`).
    public var weightClip: Float?

    /// Creates options; the defaults change nothing relative to the optimizer's settings.
    public init(learningRateMultiplier: Double = 1, weightDecay: Double? = nil, weightClip: Float? = nil) {
        precondition(learningRateMultiplier >= 0, "ParameterGroupOptions: negative learning-rate multiplier")
        precondition(weightClip.map { $0 > 0 } ?? true, "ParameterGroupOptions: weight clip must be positive")
        self.learningRateMultiplier = learningRateMultiplier
        self.weightDecay = weightDecay
        self.weightClip = weightClip
    }
}

/// A named set of trainable parameters that share ``ParameterGroupOptions``.
public struct ParameterGroup {
    /// A label for logs and summaries (`default`, `no_decay`, `latent_binary`).
    public var name: String
    /// The settings applied to every parameter of the group.
    public var options: ParameterGroupOptions
    /// The parameters with their dotted model names (the names used for optimizer state).
    public var parameters: [(name: String, parameter: Parameter)]

    /// Creates a group.
    public init(name: String, options: ParameterGroupOptions,
                parameters: [(name: String, parameter: Parameter)]) {
        self.name = name
        self.options = options
        self.parameters = parameters
    }
}

/// The partition of a model's trainable parameters into optimizer groups.
///
/// Built from `model.namedParameters()`: buffers (BatchNorm running statistics and the like) are
/// dropped, so an optimizer never touches them, and a parameter listed twice (shared weights) is
/// kept once under its first name. Everything starts in one `default` group (always
/// `groups[0]`); ``splitting(_:options:where:)`` moves the parameters that are still in the default
/// group and match a rule over `(name, Parameter)` into a new group, so the first matching rule
/// wins:
///
/// ```swift
/// let groups = ParameterGroups(model.namedParameters())
///     .splitting("latent_binary", options: .init(weightDecay: 0, weightClip: 1),
///                where: ParameterGroups.isLatentBinary)
///     .splitting("no_decay", options: .init(weightDecay: 0),
///                where: ParameterGroups.isBiasOrNormalization)
/// ```
public struct ParameterGroups {
    /// The groups, the default group first.
    public private(set) var groups: [ParameterGroup]

    /// Puts every trainable parameter of `namedParameters` into one `default` group with `options`.
    public init(_ namedParameters: [(name: String, parameter: Parameter)],
                options: ParameterGroupOptions = ParameterGroupOptions()) {
        var seen = Set<ObjectIdentifier>()
        var kept: [(name: String, parameter: Parameter)] = []
        for entry in namedParameters where entry.parameter.isTrainable {
            if seen.insert(ObjectIdentifier(entry.parameter)).inserted { kept.append(entry) }
        }
        groups = [ParameterGroup(name: "default", options: options, parameters: kept)]
    }

    /// A copy in which the default-group parameters for which `predicate(name, parameter)` holds
    /// form a new group `name` with `options`, appended after the existing groups.
    public func splitting(_ name: String, options: ParameterGroupOptions,
                          where predicate: (String, Parameter) -> Bool) -> ParameterGroups {
        var result = self
        let defaults = result.groups[0].parameters
        result.groups[0].parameters = defaults.filter { !predicate($0.name, $0.parameter) }
        result.groups.append(ParameterGroup(name: name, options: options,
                                            parameters: defaults.filter { predicate($0.name, $0.parameter) }))
        return result
    }

    /// Every parameter of every group, in group order.
    public var allParameters: [(name: String, parameter: Parameter)] {
        groups.flatMap(\.parameters)
    }

    /// Rule: latent binary weights (``ParameterKind/latentBinary``).
    public static func isLatentBinary(_ name: String, _ parameter: Parameter) -> Bool {
        parameter.kind == .latentBinary
    }

    /// Rule: biases and normalisation scales/shifts — a name ending in `bias` or a parameter of
    /// rank ≤ 1 (BatchNorm γ and β), the usual "no weight decay" set.
    public static func isBiasOrNormalization(_ name: String, _ parameter: Parameter) -> Bool {
        name == "bias" || name.hasSuffix(".bias") || parameter.value.rank <= 1
    }
}
