import BNN
import Foundation

/// An ImageNet-style folder split: `root/<split>/<class>/<image files>`.
///
/// Classes are the names of the class folders of the training split in code-point order and a label is the index of
/// its class; the validation split reuses the training classes. Files are matched by extension
/// (`.jpeg`, `.jpg`, `.png`, any case) and sorted by name within a class; other files are ignored.
/// Everything that can be wrong with the layout throws before training starts.
public struct ImageFolder: ImageSource {
    /// The split folder that was scanned (e.g. `/data/imagenet/train`).
    public let path: String
    /// The class folder names, sorted; `classes[label]`.
    public let classes: [String]
    /// Display names of the classes (from a class-name file), or the folder names.
    public let classDisplayNames: [String]
    /// The file of every sample, in class then name order.
    public let files: [String]
    /// The label of every sample.
    public let labels: [Int]

    /// File extensions (lower case) that count as images.
    public static let imageExtensions: Set<String> = ["jpeg", "jpg", "png"]

    /// Scans `root/<split>`.
    ///
    /// - Parameters:
    ///   - root: the dataset root holding `train` and `val`.
    ///   - split: the split folder name (`"train"` or `"val"`).
    ///   - classes: the class list to label against (pass the training split's ``classes`` for `val`), or
    ///     `nil` to use this split's own sorted folder names.
    ///   - classNameFile: an optional text file with lines `<folder name> <display name>` (e.g. ImageNet's
    ///     `LOC_synset_mapping.txt`); folders it does not mention keep their folder name.
    /// - Throws: ``BNNDataError/missingFolder(path:)`` when `root` or the split is missing,
    ///   ``BNNDataError/noClasses(path:)`` when the split has no class folders,
    ///   ``BNNDataError/emptyClass(path:)`` for a class folder without images,
    ///   ``BNNDataError/unknownClass(name:path:)`` for a folder not in `classes`,
    ///   ``BNNDataError/malformedClassNames(path:line:)`` or ``BNNDataError/unreadableFile(path:reason:)``
    ///   for a bad class-name file.
    public init(root: String, split: String, classes: [String]? = nil, classNameFile: String? = nil) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BNNDataError.missingFolder(path: root)
        }
        let splitPath = (root as NSString).appendingPathComponent(split)
        guard fm.fileExists(atPath: splitPath, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BNNDataError.missingFolder(path: splitPath)
        }
        let entries = (try? fm.contentsOfDirectory(atPath: splitPath)) ?? []
        let folders = entries.filter { name in
            var dir: ObjCBool = false
            return !name.hasPrefix(".")
                && fm.fileExists(atPath: (splitPath as NSString).appendingPathComponent(name), isDirectory: &dir)
                && dir.boolValue
        }.sorted(by: ImageFolder.codePointOrder)
        guard !folders.isEmpty else { throw BNNDataError.noClasses(path: splitPath) }
        let classList = classes ?? folders
        var index = [String: Int]()
        for (i, name) in classList.enumerated() { index[name] = i }

        var files = [String](), labels = [Int]()
        for folder in folders {
            let folderPath = (splitPath as NSString).appendingPathComponent(folder)
            guard let label = index[folder] else { throw BNNDataError.unknownClass(name: folder, path: folderPath) }
            let images = ((try? fm.contentsOfDirectory(atPath: folderPath)) ?? []).filter {
                !$0.hasPrefix(".") && ImageFolder.imageExtensions.contains(($0 as NSString).pathExtension.lowercased())
            }.sorted(by: ImageFolder.codePointOrder)
            guard !images.isEmpty else { throw BNNDataError.emptyClass(path: folderPath) }
            for image in images {
                files.append((folderPath as NSString).appendingPathComponent(image))
                labels.append(label)
            }
        }
        self.path = splitPath
        self.classes = classList
        self.files = files
        self.labels = labels
        if let classNameFile {
            let names = try ImageFolder.readClassNames(classNameFile)
            self.classDisplayNames = classList.map { names[$0] ?? $0 }
        } else {
            self.classDisplayNames = classList
        }
    }

    /// Orders names by Unicode code points (UTF-8 bytes), as Python's `sorted` does for torchvision.
    private static func codePointOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// Reads a class-name file: one `<folder name><space or tab><display name>` per line; blank lines skipped.
    ///
    /// - Throws: ``BNNDataError/unreadableFile(path:reason:)`` or ``BNNDataError/malformedClassNames(path:line:)``.
    public static func readClassNames(_ path: String) throws -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw BNNDataError.unreadableFile(path: path, reason: FileErrorReason.describe(error, path: path))
        }
        var names = [String: String]()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
                throw BNNDataError.malformedClassNames(path: path, line: number + 1)
            }
            let key = String(trimmed[..<space])
            let value = trimmed[space...].trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw BNNDataError.malformedClassNames(path: path, line: number + 1) }
            names[key] = value
        }
        return names
    }

    /// The number of image files.
    public var count: Int { files.count }
    /// The number of classes.
    public var classCount: Int { classes.count }
    /// The label of sample `index`.
    public func label(at index: Int) -> Int { labels[index] }
    /// The file path of sample `index`.
    public func name(at index: Int) -> String { files[index] }

    /// The bytes of the file of sample `index`.
    ///
    /// - Throws: ``BNNDataError/unreadableFile(path:reason:)``.
    public func payload(at index: Int) throws -> ImagePayload {
        let path = files[index]
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BNNDataError.unreadableFile(path: path, reason: "cannot open the file")
        }
        defer { try? handle.close() }
        do {
            let data = try handle.readToEnd() ?? Data()
            return .encoded([UInt8](data))
        } catch {
            throw BNNDataError.unreadableFile(path: path, reason: FileErrorReason.describe(error, path: path))
        }
    }
}
