import BNN
import Foundation
import Testing
@testable import BNNData

/// A temporary dataset folder built from the committed fixture images, removed on deinit.
final class TemporaryDataset {
    let root: String
    /// Files written as bad samples (relative to root).
    private(set) var badFiles = [String]()

    init() throws {
        root = NSTemporaryDirectory() + "bnndata-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let path = (root as NSString).appendingPathComponent(relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func copy(_ fixture: String, to relative: String) throws { try write(relative, try Fixtures.bytes("images/" + fixture)) }

    func bad(_ relative: String, _ bytes: [UInt8]) throws {
        try write(relative, bytes)
        badFiles.append((root as NSString).appendingPathComponent(relative))
    }

    /// Three training classes of real JPEG/PNG files of every kind (a PNG named .JPEG and a JPEG named
    /// .png among them), three bad files, a val split.
    static func standard() throws -> TemporaryDataset {
        let d = try TemporaryDataset()
        let jpeg = try Fixtures.bytes("images/baseline.jpg")
        let files = [
            ("baseline.jpg", "train/n01/a.JPEG"), ("progressive.jpg", "train/n01/b.jpg"),
            ("gray.jpg", "train/n01/c.jpeg"), ("cmyk.jpg", "train/n01/d.JPG"),
            ("rgb.png", "train/n02/a.png"), ("rgba.png", "train/n02/b.PNG"), ("palette.png", "train/n02/c.png"),
            ("gray16.png", "train/n02/d.png"), ("baseline.jpg", "train/n02/jpeg-named.png"),
            ("rgb.png", "train/n03/png-named.JPEG"), ("baseline444.jpg", "train/n03/b.jpg"),
            ("baseline.jpg", "train/n03/c.jpg"),
        ]
        for (fixture, path) in files { try d.copy(fixture, to: path) }
        try d.write("train/n03/readme.txt", Array("not an image".utf8))
        try d.bad("train/n03/empty.jpg", [])
        try d.bad("train/n01/truncated.jpg", Array(jpeg.prefix(jpeg.count / 3)))
        try d.bad("train/n02/text.png", Array("this is text".utf8))
        try d.copy("baseline.jpg", to: "val/n02/v.jpg")
        try d.copy("rgb.png", to: "val/n01/v.png")
        return d
    }
}

@Suite("Image folders")
struct ImageFolderTests {
    @Test func scansClassesAndFiles() throws {
        let d = try TemporaryDataset.standard()
        let train = try ImageFolder(root: d.root, split: "train")
        #expect(train.classes == ["n01", "n02", "n03"])
        #expect(train.count == 15)
        #expect(train.labels == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2])
        #expect(!train.files.contains { $0.hasSuffix(".txt") })
        let val = try ImageFolder(root: d.root, split: "val", classes: train.classes)
        #expect(val.labels == [0, 1])
    }

    @Test func classNameFileGivesDisplayNames() throws {
        let d = try TemporaryDataset.standard()
        try d.write("names.txt", Array("n01 tench, Tinca tinca\nn03\tgoldfish\n\n".utf8))
        let train = try ImageFolder(root: d.root, split: "train", classNameFile: d.root + "/names.txt")
        #expect(train.classDisplayNames == ["tench, Tinca tinca", "n02", "goldfish"])
        try d.write("bad.txt", Array("n01\n".utf8))
        #expect(throws: BNNDataError.malformedClassNames(path: d.root + "/bad.txt", line: 1)) {
            _ = try ImageFolder(root: d.root, split: "train", classNameFile: d.root + "/bad.txt")
        }
    }

    @Test func layoutErrorsNameThePath() throws {
        let d = try TemporaryDataset()
        #expect(throws: BNNDataError.missingFolder(path: d.root + "/nope")) { _ = try ImageFolder(root: d.root + "/nope", split: "train") }
        #expect(throws: BNNDataError.missingFolder(path: d.root + "/train")) { _ = try ImageFolder(root: d.root, split: "train") }
        try FileManager.default.createDirectory(atPath: d.root + "/train", withIntermediateDirectories: true)
        #expect(throws: BNNDataError.noClasses(path: d.root + "/train")) { _ = try ImageFolder(root: d.root, split: "train") }
        try d.copy("rgb.png", to: "train/a/x.png")
        try d.write("train/b/notes.txt", [1])
        #expect(throws: BNNDataError.emptyClass(path: d.root + "/train/b")) { _ = try ImageFolder(root: d.root, split: "train") }
        try d.copy("rgb.png", to: "train/b/x.png")
        try d.copy("rgb.png", to: "val/c/x.png")
        let train = try ImageFolder(root: d.root, split: "train")
        #expect(throws: BNNDataError.unknownClass(name: "c", path: d.root + "/val/c")) {
            _ = try ImageFolder(root: d.root, split: "val", classes: train.classes)
        }
    }
}
