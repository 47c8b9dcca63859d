import BNN

/// Helpers shared by the test targets: finite-difference gradient checks and tensor comparison.
public enum GradientCheck {
    /// The largest relative difference between two tensors, `|a−b| / max(1, |a|, |b|)` element-wise
    /// (absolute near zero, relative for large values).
    public static func maxRelativeError(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
        var worst: Float = 0
        for (x, y) in zip(a.scalars, b.scalars) {
            worst = max(worst, abs(x - y) / max(1, abs(x), abs(y)))
        }
        return worst
    }

    /// Central finite difference of `loss` with respect to every element of `tensor`, in `Double`
    /// precision of the perturbation but `Float` evaluation, with step `h`.
    public static func numericalGradient(of tensor: inout Tensor, step h: Float = 1e-2,
                                         loss: (Tensor) -> Double) -> Tensor {
        var gradient = Tensor(zeros: tensor.shape)
        for i in 0..<tensor.count {
            let saved = tensor.scalars[i]
            tensor.scalars[i] = saved + h
            let plus = loss(tensor)
            tensor.scalars[i] = saved - h
            let minus = loss(tensor)
            tensor.scalars[i] = saved
            gradient.scalars[i] = Float((plus - minus) / (2 * Double(h)))
        }
        return gradient
    }

    /// A fixed random projection loss `Σ r·y` used to check backward passes: its gradient with
    /// respect to `y` is `r`.
    public static func projectionWeights(like output: Tensor, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor(randomNormal: output.shape, generator: &generator)
    }

    /// `Σ weights·y` in `Double`.
    public static func project(_ y: Tensor, _ weights: Tensor) -> Double {
        var total = 0.0
        for (a, b) in zip(y.scalars, weights.scalars) { total += Double(a) * Double(b) }
        return total
    }
}

extension GradientCheck {
    /// The worst relative errors of the analytic input and parameter gradients of `layer` against
    /// central finite differences of the projection loss `Σ r·layer(x)`.
    ///
    /// The layer runs in `mode` (its running statistics are updated by every evaluation, which does not
    /// change training-mode outputs). Returns the error for the input and per parameter name.
    public static func check(_ layer: any TensorLayer, input: Tensor, mode: ForwardMode = .training,
                             step: Float = 1e-2, seed: UInt64 = 99) -> (input: Float, parameters: [String: Float]) {
        var x = input
        let output = layer.forward(x, mode: mode)
        let r = projectionWeights(like: output, seed: seed)
        layer.zeroGradients()
        let analyticInput = layer.backward(r)
        let analyticParameters = layer.namedParameters().filter { $0.parameter.isTrainable }
            .map { ($0.name, $0.parameter, $0.parameter.gradient) }
        let loss: (Tensor) -> Double = { project(layer.forward($0, mode: mode), r) }
        let numericInput = numericalGradient(of: &x, step: step, loss: loss)
        var parameterErrors: [String: Float] = [:]
        for (name, parameter, analytic) in analyticParameters {
            var value = parameter.value
            let numeric = numericalGradient(of: &value, step: step) { v in
                parameter.value = v
                return project(layer.forward(input, mode: mode), r)
            }
            parameter.value = value
            parameterErrors[name] = maxRelativeError(analytic, numeric)
        }
        return (maxRelativeError(analyticInput, numericInput), parameterErrors)
    }
}
