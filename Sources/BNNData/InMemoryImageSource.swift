/// Images and labels held in memory (e.g. generated data) behind the same loader interface as folders.
public struct InMemoryImageSource: ImageSource {
    /// The images, decoded or encoded.
    public let images: [ImagePayload]
    /// The label of each image.
    public let labels: [Int]
    /// The number of classes.
    public let classCount: Int

    /// Creates a source from decoded images.
    ///
    /// - Throws: ``BNNDataError/invalidConfiguration(_:)`` when the counts differ or a label is outside
    ///   `0 ..< classCount`.
    public init(images: [RGBImage], labels: [Int], classCount: Int) throws {
        try self.init(payloads: images.map { .decoded($0) }, labels: labels, classCount: classCount)
    }

    /// Creates a source from payloads (decoded pixels or encoded JPEG/PNG bytes).
    ///
    /// - Throws: ``BNNDataError/invalidConfiguration(_:)`` when the counts differ or a label is outside
    ///   `0 ..< classCount`.
    public init(payloads: [ImagePayload], labels: [Int], classCount: Int) throws {
        guard payloads.count == labels.count else {
            throw BNNDataError.invalidConfiguration("\(payloads.count) images but \(labels.count) labels")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classCount }) {
            throw BNNDataError.invalidConfiguration("label \(bad) outside 0..<\(classCount)")
        }
        self.images = payloads
        self.labels = labels
        self.classCount = classCount
    }

    /// The number of images.
    public var count: Int { images.count }
    /// The label of image `index`.
    public func label(at index: Int) -> Int { labels[index] }
    /// "in-memory sample #index".
    public func name(at index: Int) -> String { "in-memory sample #\(index)" }
    /// The stored payload.
    public func payload(at index: Int) throws -> ImagePayload { images[index] }
}
