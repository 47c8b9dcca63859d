/// A first-order optimizer over named parameters, with checkpointable state.
///
/// Use it as `any Optimizer` in training loops: set ``learningRate`` from a
/// ``LearningRateSchedule`` before each ``step()``. Concrete optimizers are ``SGD``, ``Adam`` and
/// ``AdamW``, all instances of ``OptimizerBase``.
public protocol Optimizer: AnyObject {
    /// The base learning rate of the next step; each group multiplies it by its
    /// ``ParameterGroupOptions/learningRateMultiplier``.
    var learningRate: Double { get set }
    /// The number of steps taken so far (restored by ``loadState(_:)``).
    var stepCount: Int { get }
    /// The parameter groups and their options; options may be changed between steps.
    var parameterGroups: [ParameterGroup] { get set }
    /// Applies one update to every trainable parameter from its accumulated gradient.
    func step()
    /// The state under stable names, in checkpoint (PyTorch) layout: `<parameter name>.<slot>` for
    /// each per-parameter slot (`exp_avg`, `exp_avg_sq`, `momentum_buffer`) and `step`.
    func stateTensors() -> [(name: String, tensor: Tensor)]
    /// Restores the state written by ``stateTensors()``.
    ///
    /// - Throws: ``OptimizerStateError`` naming the missing, unexpected or mis-shaped tensor; on
    ///   error the optimizer is unchanged.
    func loadState(_ tensors: [String: Tensor]) throws
}

extension Optimizer {
    /// Every parameter the optimizer updates, in group order.
    public var parameters: [Parameter] {
        parameterGroups.flatMap { $0.parameters.map(\.parameter) }
    }

    /// Resets the gradient of every optimized parameter to zero.
    public func zeroGradients() {
        for parameter in parameters { parameter.gradient.zero() }
    }
}
