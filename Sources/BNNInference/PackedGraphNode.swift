import Foundation

/// One step in the `graph` metadata of a `.bnnpack` file: its kind, its scalar attributes and the
/// names of the tensors that hold its arrays (schema in <doc:PackedModelFormat>). A kind uses only
/// some of the attributes; the others are absent from the JSON.
struct PackedGraphNode: Codable, Equatable {
    /// The kind of step, one per case of ``ExportStep``.
    enum Kind: String, Codable {
        case convolution
        case binaryConvolution = "binary_convolution"
        case linear
        case binaryLinear = "binary_linear"
        case scaleShift = "scale_shift"
        case addBias = "add_bias"
        case sign
        case relu
        case prelu
        case clamp
        case maxPool = "max_pool"
        case averagePool = "average_pool"
        case globalAveragePool = "global_average_pool"
        case flatten
        case residual
        case concatenate
    }

    var kind: Kind
    var name: String?
    var inputChannels: Int?
    var outputChannels: Int?
    var inputFeatures: Int?
    var outputFeatures: Int?
    var kernelSize: Int?
    var stride: Int?
    var padding: Int?
    var groups: Int?
    var ceilMode: Bool?
    var minimum: Float?
    var maximum: Float?
    /// Tensor names.
    var weight: String?
    var zeroMask: String?
    var scale: String?
    var shift: String?
    var bias: String?
    var slopes: String?
    /// Nested step lists.
    var body: [PackedGraphNode]?
    var shortcut: [PackedGraphNode]?
    var post: [PackedGraphNode]?
    var branches: [[PackedGraphNode]]?

    enum CodingKeys: String, CodingKey {
        case kind, name, stride, padding, groups, minimum, maximum, weight, scale, shift, bias, slopes, body, shortcut, post, branches
        case inputChannels = "input_channels", outputChannels = "output_channels"
        case inputFeatures = "input_features", outputFeatures = "output_features"
        case kernelSize = "kernel_size", ceilMode = "ceil_mode", zeroMask = "zero_mask"
    }

    /// The prefix of the tensor names of the step at `path`: `steps[5].body[0]` gives `steps.5.body.0`.
    static func tensorPrefix(of path: String) -> String {
        path.replacingOccurrences(of: "[", with: ".").replacingOccurrences(of: "]", with: "")
    }
}
