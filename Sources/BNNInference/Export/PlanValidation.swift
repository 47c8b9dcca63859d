import BNN

/// A step of a plan that does not fit its input or whose tensors have the wrong sizes, e.g. a plan
/// read from a damaged `.bnnpack` or assembled by hand.
public struct PlanError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where the step is: its index path (`steps[5].body[0]`) and, when it has one, its layer name.
    public var step: String
    /// What does not fit.
    public var reason: String

    /// Creates the error.
    public init(step: String, reason: String) {
        self.step = step
        self.reason = reason
    }

    /// E.g. `steps[5].body[0] (layer2.0.binary_conv): 64 input channels expected, found 32`.
    public var description: String { "\(step): \(reason)" }
}

/// Shape inference and size checks of a plan of ``ExportStep``s.
public enum PlanValidation {
    /// The output shape of `steps` for an input of `shape` (N×H×W×C or N×F), checking every step.
    ///
    /// - Parameters:
    ///   - steps: The plan.
    ///   - shape: The input shape, N×H×W×C or N×F.
    ///   - path: The name of the step list in messages (`steps`).
    /// - Throws: ``PlanError`` naming the first step that does not fit.
    public static func outputShape(of steps: [ExportStep], input shape: [Int], path: String = "steps") throws -> [Int] {
        var current = shape
        for (index, step) in steps.enumerated() {
            current = try outputShape(of: step, input: current, path: "\(path)[\(index)]")
        }
        return current
    }

    /// The output shape of one step; see ``outputShape(of:input:path:)-(ExportStep,_,_)``.
    ///
    /// - Parameters:
    ///   - step: The step.
    ///   - shape: Its input shape.
    ///   - path: The step's index path in messages (`steps[3]`).
    /// - Throws: ``PlanError`` naming the step when it does not fit.
    public static func outputShape(of step: ExportStep, input shape: [Int], path: String) throws -> [Int] {
        func fail(_ reason: String, name: String = "") -> PlanError {
            PlanError(step: name.isEmpty ? path : "\(path) (\(name))", reason: reason)
        }
        func perChannel(_ values: [Float], _ what: String) throws -> [Int] {
            guard shape.count == 2 || shape.count == 4 else { throw fail("\(what) needs N×C or N×H×W×C input, found \(shape)") }
            guard values.count == shape[shape.count - 1] else {
                throw fail("\(what) has \(values.count) values for \(shape[shape.count - 1]) channels")
            }
            return shape
        }
        func image(_ what: String) throws -> (n: Int, h: Int, w: Int, c: Int) {
            guard shape.count == 4 else { throw fail("\(what) needs N×H×W×C input, found \(shape)") }
            return (shape[0], shape[1], shape[2], shape[3])
        }
        /// The product of `factors`, or an error when it does not fit an `Int` (a hostile plan).
        func product(_ factors: [Int], name: String = "") throws -> Int {
            guard let value = CheckedSize.elementCount(factors) else { throw fail("sizes \(factors) overflow", name: name) }
            return value
        }
        switch step {
        case let .convolution(s), let .binaryConvolution(s):
            let (n, h, w, c) = try image("a convolution")
            let what = { fail($0, name: s.name) }
            guard s.inputChannels > 0, s.outputChannels > 0, s.kernelSize > 0, s.stride > 0, s.padding >= 0, s.groups > 0,
                  s.padding <= Int(Int32.max), s.kernelSize <= Int(Int32.max) else {
                throw what("channels, kernel size, stride and groups must be ≥ 1 and padding ≥ 0")
            }
            guard c == s.inputChannels else { throw what("\(s.inputChannels) input channels expected, found \(c)") }
            guard s.inputChannels % s.groups == 0, s.outputChannels % s.groups == 0 else {
                throw what("\(s.groups) groups do not divide \(s.inputChannels) input and \(s.outputChannels) output channels")
            }
            let expected = try product([s.outputChannels, s.kernelSize, s.kernelSize, s.inputChannels / s.groups], name: s.name)
            guard s.weight.count == expected else { throw what("\(expected) weights expected, found \(s.weight.count)") }
            guard s.scale.count == s.outputChannels, s.shift.count == s.outputChannels else {
                throw what("scale and shift need \(s.outputChannels) values, found \(s.scale.count) and \(s.shift.count)")
            }
            guard h + 2 * s.padding >= s.kernelSize, w + 2 * s.padding >= s.kernelSize else {
                throw what("a \(s.kernelSize)×\(s.kernelSize) kernel does not fit a \(h)×\(w) input with padding \(s.padding)")
            }
            return [n, (h + 2 * s.padding - s.kernelSize) / s.stride + 1, (w + 2 * s.padding - s.kernelSize) / s.stride + 1,
                    s.outputChannels]
        case let .linear(s), let .binaryLinear(s):
            guard shape.count == 2 else { throw fail("a dense layer needs N×F input, found \(shape)", name: s.name) }
            guard s.inputFeatures > 0, s.outputFeatures > 0, shape[1] == s.inputFeatures else {
                throw fail("\(s.inputFeatures) input features expected, found \(shape[1])", name: s.name)
            }
            let expected = try product([s.inputFeatures, s.outputFeatures], name: s.name)
            guard s.weight.count == expected else {
                throw fail("\(expected) weights expected, found \(s.weight.count)", name: s.name)
            }
            guard s.scale.count == s.outputFeatures, s.shift.count == s.outputFeatures else {
                throw fail("scale and shift need \(s.outputFeatures) values", name: s.name)
            }
            return [shape[0], s.outputFeatures]
        case let .scaleShift(scale, shift):
            guard scale.count == shift.count else { throw fail("scale and shift differ in length") }
            return try perChannel(scale, "a scale-shift")
        case let .addBias(bias): return try perChannel(bias, "a bias")
        case let .prelu(slopes): return try perChannel(slopes, "a PReLU")
        case .sign, .relu:
            guard !shape.isEmpty else { throw fail("empty input shape") }
            return shape
        case let .clamp(minimum, maximum):
            guard minimum <= maximum else { throw fail("clamp minimum \(minimum) is above its maximum \(maximum)") }
            return shape
        case let .maxPool(k, stride, padding):
            let (n, h, w, c) = try image("a max-pool")
            guard k > 0, stride > 0, padding >= 0, k <= Int(Int32.max), 2 * padding <= k else {
                throw fail("a max-pool needs kernel, stride ≥ 1 and 0 ≤ padding ≤ kernel/2")
            }
            guard h + 2 * padding >= k, w + 2 * padding >= k else { throw fail("a \(k)×\(k) window does not fit \(h)×\(w)") }
            return [n, (h + 2 * padding - k) / stride + 1, (w + 2 * padding - k) / stride + 1, c]
        case let .averagePool(k, stride, padding, ceilMode):
            let (n, h, w, c) = try image("an average pool")
            guard k > 0, stride > 0, padding >= 0, k <= Int(Int32.max), 2 * padding <= k else {
                throw fail("an average pool needs kernel, stride ≥ 1 and 0 ≤ padding ≤ kernel/2")
            }
            let (oh, ow) = (averagePoolExtent(h, k, stride, padding, ceilMode), averagePoolExtent(w, k, stride, padding, ceilMode))
            guard ceilMode || (h + 2 * padding >= k && w + 2 * padding >= k), oh >= 1, ow >= 1 else {
                throw fail("a \(k)×\(k) window does not fit \(h)×\(w)")
            }
            return [n, oh, ow, c]
        case .globalAveragePool:
            let (n, _, _, c) = try image("a global average pool")
            return [n, c]
        case .flatten:
            guard shape.count >= 2 else { throw fail("flatten needs a batch axis and at least one more, found \(shape)") }
            return [shape[0], try product(Array(shape.dropFirst()))]
        case let .residual(r):
            let body = try outputShape(of: r.body, input: shape, path: "\(path).body")
            let shortcut = try outputShape(of: r.shortcut, input: shape, path: "\(path).shortcut")
            guard body == shortcut else { throw fail("the body gives \(body) but the shortcut \(shortcut)") }
            return try outputShape(of: r.post, input: body, path: "\(path).post")
        case let .concatenate(branches):
            guard !branches.isEmpty else { throw fail("a concatenation needs at least one branch") }
            let shapes = try branches.enumerated().map { try outputShape(of: $1, input: shape, path: "\(path).branch[\($0)]") }
            guard shapes.allSatisfy({ $0.count == 4 && $0.dropLast() == shapes[0].dropLast() }) else {
                throw fail("the branches give shapes \(shapes) that differ in N, H or W")
            }
            let (channels, overflow) = shapes.reduce((0, false)) { sum, shape in
                let (total, over) = sum.0.addingReportingOverflow(shape[3])
                return (total, sum.1 || over)
            }
            guard !overflow else { throw fail("the branches' channels overflow") }
            _ = try product([shapes[0][0], shapes[0][1], shapes[0][2], channels])
            return Array(shapes[0].dropLast()) + [channels]
        }
    }

    /// The output extent of an average pool (PyTorch's rule; with `ceilMode` a last window must start
    /// inside the input or its left padding), as `AvgPool2D` computes it.
    static func averagePoolExtent(_ n: Int, _ k: Int, _ stride: Int, _ padding: Int, _ ceilMode: Bool) -> Int {
        let span = n + 2 * padding - k
        guard ceilMode else { return span / stride + 1 }
        var extent = (span + stride - 1) / stride + 1
        if (extent - 1) * stride >= n + padding { extent -= 1 }
        return extent
    }
}
