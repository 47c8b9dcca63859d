import BNN
import BNNProgramSupport
import Foundation
import Testing

@Suite struct NumPyFileTests {
    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bnn-npy-\(UUID().uuidString)-\(name)")
    }

    @Test func roundTripKeepsShapeAndValues() throws {
        let url = Self.temporaryURL("a.npy")
        defer { try? FileManager.default.removeItem(at: url) }
        let t = Tensor(shape: [2, 3, 1], scalars: [1, -2.5, 3, 0, .pi, -1e-8])
        try NumPyFile.write(t, to: url)
        #expect(try NumPyFile.read(url) == t)
        let bytes = try Data(contentsOf: url)
        #expect((bytes.count - 2 * 3 * 4) % 64 == 0)    // data aligned as NumPy does
    }

    @Test func readsInt64ArraysWrittenByNumPy() throws {
        // np.save of np.array([3, -1], dtype=np.int64)
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        data.append(contentsOf: [UInt8(header.utf8.count), 0])
        data.append(contentsOf: Array(header.utf8))
        for v: Int64 in [3, -1] { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        let url = Self.temporaryURL("i.npy")
        defer { try? FileManager.default.removeItem(at: url) }
        try data.write(to: url)
        #expect(try NumPyFile.read(url) == Tensor(shape: [2], scalars: [3, -1]))
    }

    @Test func badFilesGiveErrorsNamingTheFile() throws {
        let url = Self.temporaryURL("bad.npy")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("hello".utf8).write(to: url)
        #expect(throws: NumPyFile.Error.self) { try NumPyFile.read(url) }
        try NumPyFile.write(Tensor(zeros: [4]), to: url)
        let truncated = try Data(contentsOf: url).dropLast(3)
        try truncated.write(to: url)
        do {
            _ = try NumPyFile.read(url)
            Issue.record("truncated file was accepted")
        } catch let error as NumPyFile.Error {
            #expect(error.path == url.path && error.reason.contains("needs 16 data bytes"))
        }
        #expect(throws: NumPyFile.Error.self) { try NumPyFile.read(Self.temporaryURL("missing.npy")) }
    }
}
