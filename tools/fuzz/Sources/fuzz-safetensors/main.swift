// Fuzzes SafeTensorsFile and Checkpoint: any bytes must give a value or a thrown error, never a trap,
// and no allocation larger than the input allows.
import BNN
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let file = try? SafeTensorsFile(data: fuzzData(start, count), source: "fuzz") else { return 0 }
    for info in file.tensors {
        _ = try? file.tensor(info.name)
        _ = try? file.bytes(info.name)
        if !info.dtype.isFloatingPoint { _ = try? file.integers(info.name) }
    }
    if let checkpoint = try? Checkpoint(file: file) {
        _ = try? checkpoint.extraTensors(withPrefix: "")
        _ = try? checkpoint.decodeMetadata(TrainingProgress.self, forKey: Trainer.progressMetadataKey)
    }
    return 0
}

runFuzzer(testOneInput)
