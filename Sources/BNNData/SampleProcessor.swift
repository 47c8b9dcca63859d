import BNN

/// Turns one payload into normalised output floats: header → plan → (reduced, cropped) decode → resize →
/// flip → byte augmentation (AutoAugment, RandAugment) → normalise → float augmentation (erasing).
///
/// For JPEGs only the rows and columns the resize reads are decoded, at the largest DCT reduction
/// `s/8` that keeps the reduced source at least ``ImageTransform/dctReductionGap`` times the resized size.
struct SampleProcessor {
    let transform: any ImageTransform

    /// The number of floats one sample occupies (H×W×3).
    var sampleFloatCount: Int { transform.outputWidth * transform.outputHeight * 3 }

    /// Processes `payload` into `output` (``sampleFloatCount`` floats).
    ///
    /// - Throws: ``BNNDataError/badFile(path:reason:)`` naming `name` when the bytes do not decode.
    func process(_ payload: ImagePayload, name: String, generator: inout SeededGenerator,
                 into output: UnsafeMutableBufferPointer<Float>) throws {
        precondition(output.count == sampleFloatCount, "SampleProcessor: output buffer size")
        switch payload {
        case .decoded(let image):
            let plan = transform.plan(width: image.width, height: image.height, generator: &generator)
            check(plan, width: image.width, height: image.height)
            let geometry = Geometry(plan: plan, imageWidth: image.width, imageHeight: image.height, scale: 8)
            image.pixels.withUnsafeBufferPointer { pixels in
                let origin = (geometry.sourceY + geometry.vertical.inputRange.lowerBound) * image.width
                    + geometry.sourceX + geometry.horizontal.inputRange.lowerBound
                finish(source: pixels.baseAddress! + origin * 3, rowPixels: image.width, geometry: geometry,
                       plan: plan, generator: &generator, output: output)
            }
        case .encoded(let bytes):
            let info = try ImageDecoder.info(of: bytes, path: name)
            let plan = transform.plan(width: info.width, height: info.height, generator: &generator)
            check(plan, width: info.width, height: info.height)
            let scale = info.format == .jpeg ? reduction(for: plan) : 8
            let geometry = Geometry(plan: plan, imageWidth: info.width, imageHeight: info.height, scale: scale)
            let region = PixelRegion(x: geometry.sourceX + geometry.horizontal.inputRange.lowerBound,
                                     y: geometry.sourceY + geometry.vertical.inputRange.lowerBound,
                                     width: geometry.horizontal.inputRange.count,
                                     height: geometry.vertical.inputRange.count)
            let image = try ImageDecoder.decode(bytes, info: info, path: name, region: region, scale: scale)
            image.pixels.withUnsafeBufferPointer { pixels in
                finish(source: pixels.baseAddress!, rowPixels: image.width, geometry: geometry, plan: plan,
                       generator: &generator, output: output)
            }
        }
        transform.augment(output, width: transform.outputWidth, height: transform.outputHeight, generator: &generator)
    }

    /// Checks that a transform's plan fits the image and fills the whole output (programmer errors).
    private func check(_ plan: ResizePlan, width: Int, height: Int) {
        let r = plan.sourceRegion, w = plan.window
        precondition(r.x >= 0 && r.y >= 0 && r.width > 0 && r.height > 0 && r.x + r.width <= width
                     && r.y + r.height <= height, "ImageTransform: source region \(r) outside \(width)x\(height)")
        precondition(w.x >= 0 && w.y >= 0 && w.x + w.width <= plan.resizedWidth && w.y + w.height <= plan.resizedHeight
                     && w.width == transform.outputWidth && w.height == transform.outputHeight,
                     "ImageTransform: window \(w) must be the output size inside the resized image")
    }

    /// The DCT scale numerator (1...8, over 8) for a plan.
    func reduction(for plan: ResizePlan) -> Int {
        guard let gap = transform.dctReductionGap else { return 8 }
        var scale = 8
        for candidate in stride(from: 7, through: 1, by: -1) {
            let w = Double(plan.sourceRegion.width * candidate) / 8
            let h = Double(plan.sourceRegion.height * candidate) / 8
            guard w >= gap * Double(plan.resizedWidth) && h >= gap * Double(plan.resizedHeight) else { break }
            scale = candidate
        }
        return scale
    }

    private func finish(source: UnsafePointer<UInt8>, rowPixels: Int, geometry: Geometry, plan: ResizePlan,
                        generator: inout SeededGenerator, output: UnsafeMutableBufferPointer<Float>) {
        let width = plan.window.width, height = plan.window.height
        var image = PixelBuffer(width: width, height: height)
        defer { image.deallocate() }
        SeparableResampler.resample(source: source, sourceRowPixels: rowPixels, horizontal: geometry.horizontal,
                                    vertical: geometry.vertical, output: image.pixels)
        var flip = plan.flipHorizontally
        if transform.augmentsBytes {
            if flip { image.mirror() }
            flip = false
            transform.augment(&image, generator: &generator)
        }
        transform.normalization.apply(image.pixels, width: width, height: height, flip: flip, to: output.baseAddress!)
    }

    /// Where the plan's source region lies in the (reduced) decoded image and the axis coefficients.
    struct Geometry {
        /// The first column / row of the integer source extent in the reduced image.
        let sourceX: Int, sourceY: Int
        let horizontal: AxisResampling
        let vertical: AxisResampling

        /// At `scale` 8 the source extent is exactly the plan's region (Pillow on the crop). Reduced, the
        /// region maps to fractional bounds `x · scale / 8`; the extent is their integer hull and the
        /// fractional box is kept relative to it.
        init(plan: ResizePlan, imageWidth: Int, imageHeight: Int, scale: Int) {
            let size = (width: (imageWidth * scale + 7) / 8, height: (imageHeight * scale + 7) / 8)
            func axis(_ start: Int, _ length: Int, _ limit: Int, _ resized: Int, _ window: Range<Int>)
                -> (Int, AxisResampling) {
                let lower = Double(start * scale) / 8, upper = Double((start + length) * scale) / 8
                let first = Int(lower.rounded(.down))
                let end = min(max(Int(upper.rounded(.up)), first + 1), limit)
                let coefficients = AxisResampling(inputSize: end - first, box0: Float(lower - Double(first)),
                                                  box1: Float(upper - Double(first)), outputSize: resized,
                                                  window: window, filter: plan.filter)
                return (first, coefficients)
            }
            let r = plan.sourceRegion, w = plan.window
            (sourceX, horizontal) = axis(r.x, r.width, size.width, plan.resizedWidth, w.x..<(w.x + w.width))
            (sourceY, vertical) = axis(r.y, r.height, size.height, plan.resizedHeight, w.y..<(w.y + w.height))
        }
    }
}
