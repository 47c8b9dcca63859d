/// The values an ``OptimizerRule`` needs for one parameter in one step.
public struct OptimizerStepSettings: Sendable, Equatable {
    /// The effective learning rate: the optimizer's rate times the group multiplier.
    public var learningRate: Double
    /// The effective weight decay: the group's override or the rule's default.
    public var weightDecay: Double
    /// The 1-based index of this step (1 on the first update).
    public var step: Int

    /// Creates settings.
    public init(learningRate: Double, weightDecay: Double, step: Int) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.step = step
    }
}

/// Per-parameter optimizer state made of named tensors shaped like the parameter.
public protocol OptimizerParameterState {
    /// The state tensors in the order of ``OptimizerRule/stateSlotNames``, in memory layout.
    var slots: [Tensor] { get set }
}

/// The update of one optimization algorithm, applied by ``OptimizerBase`` to each parameter in
/// turn (the role of `newState` / `applySingle` in mlx-swift's `OptimizerBase<State>`).
public protocol OptimizerRule {
    /// The per-parameter state.
    associatedtype State: OptimizerParameterState
    /// The names of the state slots as they appear in checkpoints (`exp_avg`, …).
    var stateSlotNames: [String] { get }
    /// The optimizer-wide weight decay, used by groups that do not override it.
    var weightDecay: Double { get }
    /// Fresh state for `parameter`, before its first step.
    func makeState(for parameter: Parameter) -> State
    /// Updates `parameter.value` in place from `parameter.gradient` and `state`.
    func update(_ parameter: Parameter, state: inout State, settings: OptimizerStepSettings)
}
