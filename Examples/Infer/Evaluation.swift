import BNN
import BNNData
import BNNProgramSupport
import Foundation

/// Top-1 / top-5 accuracy and throughput over an image-folder validation set, and how a second model
/// classifies the same images (`--compare`).
struct Evaluation: Encodable {
    var images = 0
    var top1Correct = 0
    var top5Correct = 0
    /// Seconds in the network alone (decoding and the second model excluded).
    var modelSeconds = 0.0
    /// Wall-clock seconds of the whole evaluation, decoding and the second model included.
    var wallSeconds = 0.0
    /// Unreadable images left out of the figures (without `--strict`).
    var skippedImages = 0
    /// Each image's label and top-1 class, in folder order, when asked for (`--predictions`).
    var predictions: [Prediction] = []
    /// How the second model classifies the same images, when there is one.
    var comparison: Agreement?

    /// One image's label and the class with the largest logit (of each model).
    struct Prediction: Encodable {
        var label: Int
        var predicted: Int
        /// The second model's top-1 class, when there is one.
        var compared: Int?
    }

    /// Images per second in the network alone (0 when no image was evaluated).
    var modelImagesPerSecond: Double { modelSeconds > 0 ? Double(images) / modelSeconds : 0 }
    /// Images per second of the whole evaluation, decoding included (0 when nothing ran).
    var wallImagesPerSecond: Double { wallSeconds > 0 ? Double(images) / wallSeconds : 0 }

    var top1: Double { Double(top1Correct) / Double(max(1, images)) }
    var top5: Double { Double(top5Correct) / Double(max(1, images)) }

    /// Evaluates `model` on `folder` (`DIR/val/<class>/…` when `DIR/val` exists, else `DIR/<class>/…`),
    /// its images prepared with the model's evaluation settings (``InferenceModel/transform``).
    /// Class folders are matched to the model's class names when the model has names for all of them,
    /// else labelled in sorted folder order.
    ///
    /// Unreadable images are left out and counted in ``skippedImages``; with `strict` the first one stops.
    /// With `recordsPredictions`, ``predictions`` lists every image. With `compared` (a model of as many
    /// classes, and its file), every batch also runs through that model, timed apart from `model`,
    /// and ``comparison`` counts its answers.
    ///
    /// - Throws: `BNNDataError` for a missing or empty folder (or an undecodable image with `strict`),
    ///   `ProgramExit` when the folder has more classes than the model, and the models' errors.
    static func run(_ model: InferenceModel, comparedWith compared: (model: InferenceModel, path: String)? = nil,
                    folder: String, batchSize: Int, loaderThreads: Int, strict: Bool,
                    recordsPredictions: Bool = false, progress: (Evaluation) -> Void) throws -> Evaluation {
        var isDirectory: ObjCBool = false
        let val = (folder as NSString).appendingPathComponent("val")
        let (root, split) = FileManager.default.fileExists(atPath: val, isDirectory: &isDirectory) && isDirectory.boolValue
            ? (folder, "val")
            : ((folder as NSString).deletingLastPathComponent, (folder as NSString).lastPathComponent)
        var source = try ImageFolder(root: root.isEmpty ? "." : root, split: split)
        if Set(source.classes).isSubset(of: Set(model.classNames)) {
            source = try ImageFolder(root: root.isEmpty ? "." : root, split: split, classes: model.classNames)
        } else if source.classCount > model.classNames.count {
            throw ProgramExit(.failure, "--evaluate \(folder): the folder has \(source.classCount) classes but the model has "
                              + "\(model.classNames.count); evaluate it with a model trained on these classes")
        }
        let loader = try DataLoader(source: source, transform: model.transform,
                                    configuration: DataLoaderConfiguration(batchSize: batchSize, shuffle: false, dropLast: false,
                                                                           threadCount: loaderThreads, strict: strict,
                                                                           dropsBadFiles: true))
        var result = Evaluation(comparison: compared.map { Agreement(path: $0.path) })
        let start = DispatchTime.now().uptimeNanoseconds
        func seconds(since t0: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 }
        try loader.forEachBatch(epoch: 0) { batch in
            let t0 = DispatchTime.now().uptimeNanoseconds
            let logits = try model.logits(batch.images)
            result.modelSeconds += seconds(since: t0)
            result.top1Correct += Accuracy.correctCount(logits, labels: batch.labels, topK: 1)
            result.top5Correct += Accuracy.correctCount(logits, labels: batch.labels, topK: 5)
            result.images += batch.labels.count
            let classes = recordsPredictions || compared != nil ? topClasses(logits) : []
            var comparedClasses: [Int]?
            if let compared {
                let t1 = DispatchTime.now().uptimeNanoseconds
                let comparedLogits = try compared.model.logits(batch.images)
                result.comparison?.modelSeconds += seconds(since: t1)
                comparedClasses = result.comparison?.add(classes: classes, logits: comparedLogits, labels: batch.labels)
            }
            if recordsPredictions {
                result.predictions += batch.labels.indices.map {
                    Prediction(label: batch.labels[$0], predicted: classes[$0], compared: comparedClasses?[$0])
                }
            }
            result.wallSeconds = seconds(since: start)
            progress(result)
        }
        result.skippedImages = loader.skippedFileCount(epoch: 0)
        return result
    }

    /// The class with the largest logit in each row of N×classes `logits`, the lowest on a tie.
    static func topClasses(_ logits: Tensor) -> [Int] {
        let classes = logits.shape[1]
        let values = logits.scalars  // one copy: `scalars` copies the whole tensor on every read
        return (0..<logits.shape[0]).map { row in
            let scores = values[row * classes..<(row + 1) * classes]
            return (scores.indices.max { scores[$0] < scores[$1] } ?? row * classes) - row * classes
        }
    }
}
