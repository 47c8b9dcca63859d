// Fuzzes the .bnnpack reader and the engine's compiler: any bytes must give a PackedModel (compiled
// into an InferenceEngine, whose preparation must not trap either) or a thrown error, never a trap, and
// no allocation larger than the input allows. A mutated file almost never matches its checksum, so
// each input is also read resealed (its `checksum` metadata set to the right value), which takes the
// mutations past the checksum into the graph, the tensors and the plan.
import BNN
import BNNInference
import Foundation
import FuzzSupport

/// The same file with a correct `checksum`: a new header over the same data area.
func resealed(_ file: SafeTensorsFile) -> Data? {
    guard let checksum = try? PackedModel.checksum(of: file), file.metadata["checksum"] != checksum else { return nil }
    var metadata = file.metadata
    metadata["checksum"] = checksum
    var header: [String: Any] = ["__metadata__": metadata]
    var data = Data()
    for info in file.tensors {
        header[info.name] = ["dtype": info.dtype.rawValue, "shape": info.shape,
                             "data_offsets": [info.dataOffsets.lowerBound, info.dataOffsets.upperBound]]
        guard let bytes = try? file.bytes(info.name) else { return nil }
        data.append(bytes)
    }
    guard let json = try? JSONSerialization.data(withJSONObject: header) else { return nil }
    var length = UInt64(json.count).littleEndian
    return Data(bytes: &length, count: 8) + json + data
}

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let file = try? SafeTensorsFile(data: fuzzData(start, count), source: "fuzz") else { return 0 }
    if let model = try? PackedModel(file: file) { _ = try? InferenceEngine(model: model) }
    if let bytes = resealed(file), let sealed = try? SafeTensorsFile(data: bytes, source: "fuzz-resealed"),
       let model = try? PackedModel(file: sealed) {
        _ = try? InferenceEngine(model: model)
    }
    return 0
}

runFuzzer(testOneInput)
