import Foundation

/// Top-1 and top-5 accuracy and mean cross-entropy of a compiled model on a labelled split.
public enum Evaluator {
    /// What `resnetc eval --json` prints; accuracies are fractions.
    public struct Result: Codable, Sendable, Equatable {
        public var top1: Double
        public var top5: Double
        public var loss: Double
        public var images: Int
    }

    public static func evaluate(_ model: CompiledModel, on data: LabeledImages, mean: [Float], std: [Float], batch: Int) throws -> Result {
        guard data.count > 0 else { throw RuntimeError("there are no images to evaluate") }
        let classes = model.outputFloats
        var top1 = 0, top5 = 0
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
                if better < 5 { top5 += 1 }
                let top = Double(scores.max()!)
                loss += top + Foundation.log(scores.reduce(0.0) { $0 + exp(Double($1) - top) }) - Double(target)
            }
            start = indices.upperBound
        }
        let n = Double(data.count)
        return Result(top1: Double(top1) / n, top5: Double(top5) / n, loss: loss / n, images: data.count)
    }
}
