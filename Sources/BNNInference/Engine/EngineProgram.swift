import BNN

/// An activation of an engine program: N×H×W×C floats, channels last (a dense value is N×1×1×F).
struct EngineValue {
    let height: Int, width: Int, channels: Int
    /// The value whose storage this one shares (a flatten), or nil.
    let alias: Int?

    /// Floats per image.
    var countPerImage: Int { height * width * channels }
}

/// The packed signs of a value for a binary convolution: N×(H+2m)×(W+2m)×⌈C/64⌉ words whose zero
/// border of m pixels no step writes.
struct PackedValue {
    let value: Int
    let margin: Int
    let height: Int, width: Int, channels: Int

    /// Words per image, border included.
    var wordsPerImage: Int { (height + 2 * margin) * (width + 2 * margin) * binaryWordCount(channels: channels) }
}

/// The buffers of one run: a float pointer per value (values sharing a storage slot share it), a
/// packed pointer per packed value, the zero-padded scratch of the float convolutions.
struct EngineFrame {
    let batch: Int
    let values: [UnsafeMutablePointer<Float>]
    let packed: [UnsafeMutablePointer<UInt64>]
    let padded: UnsafeMutablePointer<Float>?
}

/// One operation of an engine program. Operations are classes prepared once (weights packed,
/// kernels chosen); `run` is called once per inference with the frame of the batch.
protocol EngineOperation: AnyObject {
    /// The layer path or a description, for profiles.
    var name: String { get }
    /// What the operation computes, for profiles.
    var kind: InferenceProfile.Kind { get }
    /// The values read.
    var inputs: [Int] { get }
    /// The values written.
    var outputs: [Int] { get }
    /// An input whose storage the output may take when the input is not read later.
    var inPlaceInput: Int? { get }
    /// Multiply-accumulates (bit-MACs for binary convolutions) for a batch.
    func macs(batch: Int) -> Int
    /// Floats of zero-padded input scratch the operation needs for a batch.
    func paddedScratch(batch: Int) -> Int
    /// Runs on the frame's buffers; returns how many values packed for a binary convolution were
    /// exactly 0 (or NaN), which the 1-bit code cannot represent.
    func run(_ frame: EngineFrame) -> Int
}

extension EngineOperation {
    var inPlaceInput: Int? { nil }
    func paddedScratch(batch: Int) -> Int { 0 }
}

/// A compiled plan: values, packed values, operations in order, and the storage slot of every value
/// (values whose lifetimes do not overlap share a slot).
struct EngineProgram {
    var values: [EngineValue] = []
    var packedValues: [PackedValue] = []
    var operations: [any EngineOperation] = []
    /// The input and output values.
    var input = 0, output = 0
    /// The input and the values that alias it (a flatten of the input): the engine points them at the
    /// caller's images.
    var inputValues: [Int] { values.indices.filter { root($0) == root(input) } }
    /// The storage slot of every value and the floats per image of every slot.
    private(set) var slotOfValue: [Int] = []
    private(set) var slotSizes: [Int] = []

    /// Bytes of the buffers of a run of `batch` images, `Int.max` when that does not fit an `Int`.
    func workspaceBytes(batch: Int) -> Int {
        func add(_ a: Int, _ b: Int) -> Int { let (r, o) = a.addingReportingOverflow(b); return o ? .max : r }
        func multiply(_ a: Int, _ b: Int) -> Int { let (r, o) = a.multipliedReportingOverflow(by: b); return o ? .max : r }
        let floats = slotSizes.reduce(0, add), words = packedValues.reduce(0) { add($0, $1.wordsPerImage) }
        let perImage = add(multiply(floats, 4), multiply(words, 8))
        let padded = operations.map { multiply($0.paddedScratch(batch: 1), 4) }.max() ?? 0
        return multiply(add(perImage, padded), batch)
    }

    /// Adds a value and returns its index.
    mutating func addValue(height: Int, width: Int, channels: Int, alias: Int? = nil) -> Int {
        values.append(EngineValue(height: height, width: width, channels: channels, alias: alias))
        return values.count - 1
    }

    /// The value a storage belongs to (following aliases).
    func root(_ value: Int) -> Int {
        var v = value
        while let next = values[v].alias { v = next }
        return v
    }

    /// Assigns storage slots by lifetime: a slot is free again after the last operation that reads
    /// any value stored in it; an operation's outputs never share its inputs' slots, except an
    /// output written in place of an input read for the last time (never the program input, which is
    /// the caller's memory).
    mutating func assignSlots() {
        var lastUse = [Int](repeating: -1, count: values.count)
        for (index, operation) in operations.enumerated() {
            for v in operation.inputs + operation.outputs { lastUse[root(v)] = max(lastUse[root(v)], index) }
        }
        lastUse[root(output)] = operations.count
        lastUse[root(input)] = max(lastUse[root(input)], 0)
        var slot = [Int](repeating: -1, count: values.count)
        var sizes: [Int] = []
        var free: [Int] = []
        func take(_ count: Int) -> Int {
            if let best = free.indices.filter({ sizes[free[$0]] >= count }).min(by: { sizes[free[$0]] < sizes[free[$1]] })
                ?? free.indices.max(by: { sizes[free[$0]] < sizes[free[$1]] }) {
                let s = free.remove(at: best)
                sizes[s] = max(sizes[s], count)
                return s
            }
            sizes.append(count)
            return sizes.count - 1
        }
        slot[root(input)] = take(values[root(input)].countPerImage)
        for (index, operation) in operations.enumerated() {
            for v in operation.outputs where slot[root(v)] < 0 {
                let r = root(v)
                if let reused = operation.inPlaceInput, root(reused) != root(input), lastUse[root(reused)] == index,
                   values[root(reused)].countPerImage >= values[r].countPerImage,
                   !operation.inputs.filter({ $0 != reused }).contains(where: { root($0) == root(reused) }) {
                    slot[r] = slot[root(reused)]
                    lastUse[root(reused)] = -1   // its slot now belongs to the output
                } else {
                    slot[r] = take(values[r].countPerImage)
                }
            }
            let ending = Set((operation.inputs + operation.outputs).map(root).filter { lastUse[$0] == index })
            for r in ending where slot[r] >= 0 && !free.contains(slot[r]) { free.append(slot[r]) }
        }
        slotOfValue = values.indices.map { slot[root($0)] }
        slotSizes = sizes
    }
}
