// Fuzzes the flat YAML parser and its typed accessors: any text must parse or throw, never trap.
import BNNProgramSupport
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = String(decoding: fuzzData(start, count), as: UTF8.self)
    guard let yaml = try? FlatYAML(parsing: text, source: "fuzz") else { return 0 }
    for entry in yaml.entries {
        _ = try? yaml.integer(entry.key, default: 0, in: 0...1_000_000)
        _ = try? yaml.double(entry.key, default: 0)
        _ = try? yaml.bool(entry.key, default: false)
        _ = try? yaml.doubles(entry.key, count: 4)
        _ = try? yaml.string(entry.key)
        _ = try? yaml.choice(entry.key, ["a", "b"], default: "a")
    }
    return 0
}

runFuzzer(testOneInput)
