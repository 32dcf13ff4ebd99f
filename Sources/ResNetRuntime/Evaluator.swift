import Foundation

/// Top-1 and top-5 accuracy and mean cross-entropy of a compiled model on a labelled split.
public enum Evaluator {
    /// What `resnetc eval --json` prints (accuracies as fractions), and the confusion matrix.
    public struct Result: Codable, Sendable, Equatable {
        public var top1: Double
        public var top5: Double
        public var loss: Double
        public var images: Int
        /// confusion[label][predicted]: images of each class by their top-1 class (the label
        /// itself when it ties for the highest score, as top-1 counts it); empty past
        /// `confusionClassLimit` classes. Not in the JSON.
        public var confusion: [[Int]] = []

        enum CodingKeys: String, CodingKey { case top1, top5, loss, images }
    }

    /// The most classes a confusion matrix is kept for (a million counts).
    public static let confusionClassLimit = 1000

    public static func evaluate(_ model: CompiledModel, on data: LabeledImages, mean: [Float], std: [Float], batch: Int) throws -> Result {
        guard data.count > 0 else { throw RuntimeError("there are no images to evaluate") }
        let classes = model.outputFloats
        var top1 = 0, top5 = 0
        let keepsConfusion = classes <= confusionClassLimit
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: keepsConfusion ? classes : 0), count: keepsConfusion ? classes : 0)
        var loss = 0.0
        var start = 0
        while start < data.count {
            let indices = start..<min(start + batch, data.count)
            let logits = try model.forward(data.normalizedBatch(indices, mean: mean, std: std), count: indices.count)
            for (row, index) in indices.enumerated() {
                let scores = logits[(row * classes)..<((row + 1) * classes)]
                let label = Int(data.labels[index])
                let target = scores[scores.startIndex + label]
                let better = scores.filter { $0 > target }.count
                if better == 0 { top1 += 1 }
                if keepsConfusion {
                    let predicted = better == 0 ? label : scores.indices.max { scores[$0] < scores[$1] }! - scores.startIndex
                    confusion[label][predicted] += 1
                }
                if better < 5 { top5 += 1 }
                let top = Double(scores.max()!)
                loss += top + Foundation.log(scores.reduce(0.0) { $0 + exp(Double($1) - top) }) - Double(target)
            }
            start = indices.upperBound
        }
        let n = Double(data.count)
        return Result(top1: Double(top1) / n, top5: Double(top5) / n, loss: loss / n, images: data.count, confusion: confusion)
    }
}
