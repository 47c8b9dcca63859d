import BNN
import BNNData
import Foundation

/// Image files named on the command line (files, or folders searched recursively for .jpg/.jpeg/.png),
/// as an `ImageSource` read lazily by the `DataLoader`; every label is 0.
struct ImageFiles: ImageSource {
    /// The image paths, in command-line order (sorted within a folder).
    let paths: [String]

    /// Collects the images of `arguments`.
    ///
    /// - Throws: `BNNDataError.unreadableFile` for a path that does not exist,
    ///   `BNNDataError.invalidConfiguration` when no image is found.
    init(_ arguments: [String]) throws {
        let fm = FileManager.default
        var paths: [String] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                throw BNNDataError.unreadableFile(path: argument, reason: "no such image file or folder")
            }
            if !isDirectory.boolValue { paths.append(argument); continue }
            let found = (fm.enumerator(atPath: argument)?.allObjects as? [String] ?? [])
                .filter { ImageFolder.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
                .map { (argument as NSString).appendingPathComponent($0) }
            paths += found
        }
        guard !paths.isEmpty else { throw BNNDataError.invalidConfiguration("no JPEG or PNG images in \(arguments)") }
        self.paths = paths
    }

    var count: Int { paths.count }
    var classCount: Int { 1 }
    func label(at index: Int) -> Int { 0 }
    func name(at index: Int) -> String { paths[index] }

    func payload(at index: Int) throws -> ImagePayload {
        do {
            return .encoded([UInt8](try Data(contentsOf: URL(fileURLWithPath: paths[index]))))
        } catch {
            throw BNNDataError.unreadableFile(path: paths[index], reason: FileErrorReason.describe(error, path: paths[index]))
        }
    }
}
