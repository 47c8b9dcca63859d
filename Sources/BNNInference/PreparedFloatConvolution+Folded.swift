import BNN

extension PreparedFloatConvolution {
    /// Prepares a folded float convolution of an exported model (the stem or a 1×1 shortcut).
    public convenience init(_ c: FoldedConvolution) {
        self.init(outputChannels: c.outputChannels, inputChannels: c.inputChannels, kernelSize: c.kernelSize,
                  stride: c.stride, padding: c.padding, weight: c.weight, bias: c.bias)
    }

    /// Prepares the folded classifier of an exported model as a 1×1 convolution.
    public convenience init(_ l: FoldedLinear) {
        self.init(outputChannels: l.outputFeatures, inputChannels: l.inputFeatures, kernelSize: 1, stride: 1, padding: 0,
                  weight: l.weight, bias: l.bias)
    }
}
