/// A labelled collection of images the ``DataLoader`` can read from several threads at once.
public protocol ImageSource: Sendable {
    /// The number of samples.
    var count: Int { get }
    /// The number of classes; labels lie in `0 ..< classCount`.
    var classCount: Int { get }
    /// The class index of sample `index`.
    func label(at index: Int) -> Int
    /// A name for sample `index` used in warnings and errors (a file path for folders).
    func name(at index: Int) -> String
    /// The encoded bytes or decoded pixels of sample `index`.
    ///
    /// - Throws: ``BNNDataError/unreadableFile(path:reason:)`` when the file cannot be read.
    func payload(at index: Int) throws -> ImagePayload
}
