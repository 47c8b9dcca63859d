// Fuzzes NumPyFile.decode: any bytes must give a tensor or a thrown error, never a trap.
import BNNProgramSupport
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    _ = try? NumPyFile.decode(fuzzData(start, count), source: "fuzz")
    return 0
}

runFuzzer(testOneInput)
