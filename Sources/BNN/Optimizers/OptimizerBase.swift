/// The optimizer machinery shared by every algorithm: parameter groups, per-parameter state,
/// step counting, the optional latent-weight clip, and state save/load under parameter names.
///
/// The algorithm itself is the ``OptimizerRule`` `Rule`; ``SGD``, ``Adam`` and ``AdamW`` are
/// `OptimizerBase` specialised to ``SGDRule``, `AdamRule<L2WeightDecay>` and
/// `AdamRule<DecoupledWeightDecay>`.
public final class OptimizerBase<Rule: OptimizerRule>: Optimizer {
    /// The algorithm and its hyperparameters; may be changed between steps.
    public var rule: Rule
    /// The base learning rate of the next step.
    public var learningRate: Double
    /// The parameter groups. Options may be changed; the set of parameters must stay the same
    /// (a precondition checked at the next step).
    public var parameterGroups: [ParameterGroup]
    /// The number of steps taken so far.
    public private(set) var stepCount: Int = 0
    private var states: [[Rule.State]]

    /// Creates an optimizer over `groups` with base learning rate `learningRate`.
    public init(_ groups: ParameterGroups, learningRate: Double, rule: Rule) {
        precondition(learningRate >= 0, "Optimizer: negative learning rate \(learningRate)")
        self.rule = rule
        self.learningRate = learningRate
        self.parameterGroups = groups.groups
        self.states = groups.groups.map { group in group.parameters.map { rule.makeState(for: $0.parameter) } }
    }

    /// Updates every parameter once, then clamps groups with a ``ParameterGroupOptions/weightClip``.
    public func step() {
        precondition(parameterGroups.map(\.parameters.count) == states.map(\.count),
                     "Optimizer: the parameters of a group changed after construction")
        stepCount += 1
        for (g, group) in parameterGroups.enumerated() {
            let settings = OptimizerStepSettings(
                learningRate: learningRate * group.options.learningRateMultiplier,
                weightDecay: group.options.weightDecay ?? rule.weightDecay,
                step: stepCount)
            for (i, entry) in group.parameters.enumerated() {
                let parameter = entry.parameter
                precondition(parameter.isTrainable, "Optimizer: buffer '\(entry.name)' in a parameter group")
                precondition(parameter.gradient.shape == parameter.value.shape,
                             "Optimizer: gradient of '\(entry.name)' has shape \(parameter.gradient.shape), value \(parameter.value.shape)")
                rule.update(parameter, state: &states[g][i], settings: settings)
                if let clip = group.options.weightClip { Self.clamp(parameter, to: clip) }
            }
        }
    }

    private static func clamp(_ parameter: Parameter, to limit: Float) {
        parameter.value.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = Swift.min(Swift.max(p[i], -limit), limit) }
        }
    }

    /// `<parameter name>.<slot>` for every slot of every parameter (checkpoint layout), then `step`.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        var result: [(name: String, tensor: Tensor)] = []
        let names = rule.stateSlotNames
        for (g, group) in parameterGroups.enumerated() {
            for (i, entry) in group.parameters.enumerated() {
                for (slot, tensor) in zip(names, states[g][i].slots) {
                    result.append((entry.name + "." + slot, entry.parameter.toDiskLayout(tensor)))
                }
            }
        }
        result.append(("step", StateTensorReader.scalarTensor(Float(stepCount))))
        return result
    }

    /// Restores every slot of every parameter and the step count.
    ///
    /// - Throws: ``OptimizerStateError/missingTensor(name:)`` for an absent tensor,
    ///   ``OptimizerStateError/shapeMismatch(name:expected:found:)`` when a slot's shape differs
    ///   from the parameter's checkpoint shape, ``OptimizerStateError/unexpectedTensor(name:)`` for
    ///   an extra tensor and ``OptimizerStateError/invalidValue(name:value:requirement:)`` for a step
    ///   that is not a whole number. Nothing changes when it throws.
    public func loadState(_ tensors: [String: Tensor]) throws {
        var reader = StateTensorReader(tensors)
        let names = rule.stateSlotNames
        var loaded = states
        for (g, group) in parameterGroups.enumerated() {
            for (i, entry) in group.parameters.enumerated() {
                let parameter = entry.parameter
                loaded[g][i].slots = try names.map { slot in
                    parameter.fromDiskLayout(try reader.tensor(entry.name + "." + slot, shape: parameter.diskShape))
                }
            }
        }
        let step = try reader.count("step")
        try reader.finish()
        states = loaded
        stepCount = step
    }
}
