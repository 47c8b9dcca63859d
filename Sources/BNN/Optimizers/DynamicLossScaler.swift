/// Dynamic loss scaling for mixed-precision training, with the semantics and defaults of
/// PyTorch's `torch.amp.GradScaler`.
///
/// Per step: multiply the loss (in practice the loss gradient that seeds backward) by ``scale``;
/// after backward, ``step(_:maxGradientNorm:)`` checks every gradient. If one is not finite, the
/// update is skipped and the scale backs off (`S ← S·backoffFactor`); otherwise the gradients are
/// divided by `S`, optionally clipped, the optimizer steps, and after `growthInterval` consecutive
/// good steps the scale grows (`S ← S·growthFactor`).
///
/// ```swift
/// let seed = scaler.scaled(lossGradient)        // dL/dlogits · S
/// _ = model.backward(seed)
/// scaler.step(optimizer, maxGradientNorm: 5)
/// optimizer.zeroGradients()
/// ```
public final class DynamicLossScaler {
    /// What ``DynamicLossScaler/step(_:maxGradientNorm:)`` did.
    public enum StepOutcome: Equatable, Sendable {
        /// The gradients were finite and the optimizer stepped; carries the global gradient norm
        /// before clipping when clipping was requested.
        case applied(gradientNorm: Float?)
        /// A gradient was infinite or NaN: the step was skipped and the scale reduced.
        case skipped
    }

    /// The current loss scale `S`.
    public private(set) var scale: Float
    /// Consecutive good steps since the last change of scale (PyTorch `_growth_tracker`).
    public private(set) var goodSteps: Int = 0
    /// The factor applied after `growthInterval` good steps.
    public let growthFactor: Float
    /// The factor applied after a step with non-finite gradients.
    public let backoffFactor: Float
    /// The number of consecutive good steps before the scale grows.
    public let growthInterval: Int

    /// Creates a scaler with PyTorch's defaults: `S = 2¹⁶`, growth 2, back-off 0.5, interval 2000.
    public init(initialScale: Float = 65536, growthFactor: Float = 2, backoffFactor: Float = 0.5,
                growthInterval: Int = 2000) {
        precondition(initialScale > 0 && initialScale.isFinite, "DynamicLossScaler: invalid initial scale")
        precondition(growthFactor > 1, "DynamicLossScaler: growthFactor must exceed 1")
        precondition(backoffFactor > 0 && backoffFactor < 1, "DynamicLossScaler: backoffFactor must lie in (0, 1)")
        precondition(growthInterval > 0, "DynamicLossScaler: growthInterval must be positive")
        self.scale = initialScale
        self.growthFactor = growthFactor
        self.backoffFactor = backoffFactor
        self.growthInterval = growthInterval
    }

    /// `loss · S`.
    public func scaled(_ loss: Float) -> Float { loss * scale }

    /// `gradient · S`, for the gradient that seeds the backward pass.
    public func scaled(_ gradient: Tensor) -> Tensor { gradient * scale }

    /// Divides every gradient by `S` (multiplies by `1/S` rounded to `Float`, as PyTorch does) and
    /// reports whether all of them are finite.
    public func unscaleGradients(of parameters: [Parameter]) -> Bool {
        let inverse = Float(1 / Double(scale))
        var finite = true
        for parameter in parameters where parameter.isTrainable {
            parameter.gradient.withUnsafeMutableBufferPointer { g in
                for i in 0..<g.count {
                    g[i] *= inverse
                    if !g[i].isFinite { finite = false }
                }
            }
        }
        return finite
    }

    /// Updates the scale after a step: back off and reset the counter when `foundNonFinite`,
    /// otherwise count the good step and grow the scale every `growthInterval` good steps (only
    /// while the grown scale stays finite).
    public func update(foundNonFinite: Bool) {
        if foundNonFinite {
            scale *= backoffFactor
            goodSteps = 0
            return
        }
        goodSteps += 1
        if goodSteps == growthInterval {
            let grown = scale * growthFactor
            if grown.isFinite { scale = grown }
            goodSteps = 0
        }
    }

    /// Unscales the gradients of `optimizer`'s parameters; if all are finite, clips them to
    /// `maxGradientNorm` (when given, see ``GradientClipping/clipGlobalNorm(_:maxNorm:)``) and steps
    /// the optimizer, else skips the step. Then updates the scale.
    @discardableResult
    public func step(_ optimizer: any Optimizer, maxGradientNorm: Float? = nil) -> StepOutcome {
        let parameters = optimizer.parameters
        guard unscaleGradients(of: parameters) else {
            update(foundNonFinite: true)
            return .skipped
        }
        let norm = maxGradientNorm.map { GradientClipping.clipGlobalNorm(parameters, maxNorm: $0) }
        optimizer.step()
        update(foundNonFinite: false)
        return .applied(gradientNorm: norm)
    }

    /// `scale` and `growth_tracker` (PyTorch's names), each a one-element tensor.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        [("scale", StateTensorReader.scalarTensor(scale)),
         ("growth_tracker", StateTensorReader.scalarTensor(Float(goodSteps)))]
    }

    /// Restores `scale` and `growth_tracker`.
    ///
    /// - Throws: ``OptimizerStateError`` when a tensor is missing, not a single value, unexpected,
    ///   or invalid (a scale that is not positive and finite, a counter that is not a whole number
    ///   below the growth interval). Nothing changes when it throws.
    public func loadState(_ tensors: [String: Tensor]) throws {
        var reader = StateTensorReader(tensors)
        let newScale = try reader.scalar("scale")
        guard newScale > 0, newScale.isFinite else {
            throw OptimizerStateError.invalidValue(name: "scale", value: newScale, requirement: "a positive finite scale")
        }
        let counter = try reader.count("growth_tracker")
        guard counter < growthInterval else {
            throw OptimizerStateError.invalidValue(name: "growth_tracker", value: Float(counter),
                                                   requirement: "a count below the growth interval \(growthInterval)")
        }
        try reader.finish()
        scale = newScale
        goodSteps = counter
    }
}
