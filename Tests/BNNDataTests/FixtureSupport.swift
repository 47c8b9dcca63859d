import Foundation
@testable import BNNData

/// Access to the committed fixtures made by tools/fixtures/make_pillow_fixtures.py.
enum Fixtures {
    struct Manifest: Decodable {
        struct Image: Decodable { let file: String; let width: Int; let height: Int; let mode: String }
        struct Resize: Decodable {
            let name: String, kind: String
            let x: Int?, y: Int?, width: Int?, height: Int?
            let imageSize: Int?, cropFraction: Double?
            let outWidth: Int, outHeight: Int
        }
        let images: [Image]
        let resize: [Resize]
    }

    static var root: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: root.appendingPathComponent("manifest.json")))
    }

    /// The fraction of bytes of `a` and `b` that differ by more than `tolerance`, and the largest difference.
    static func compare(_ a: [UInt8], _ b: [UInt8], tolerance: Int) -> (outside: Double, maximum: Int) {
        precondition(a.count == b.count)
        var outside = 0, maximum = 0
        for i in 0..<a.count {
            let d = abs(Int(a[i]) - Int(b[i]))
            maximum = max(maximum, d)
            if d > tolerance { outside += 1 }
        }
        return (Double(outside) / Double(max(a.count, 1)), maximum)
    }
}
