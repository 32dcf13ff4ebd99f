/// A dataset split in memory: 8-bit images (N×C×H×W, channels first), their labels and the
/// classes' names, as the readers produce them and the loaders batch them.
public struct LabeledImages: Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var classes: Int
    /// Pixels 0…255, image after image, each C×H×W.
    public var pixels: [UInt8]
    /// Each image's class, 0 ..< classes.
    public var labels: [Int32]
    /// One name per class, in label order ("0", "1", … where the data names none).
    public var classNames: [String]

    public init(channels: Int, height: Int, width: Int, classes: Int, pixels: [UInt8], labels: [Int32], classNames: [String]? = nil) {
        precondition(pixels.count == labels.count * channels * height * width)
        precondition(classNames == nil || classNames!.count == classes)
        self.channels = channels
        self.height = height
        self.width = width
        self.classes = classes
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames ?? (0..<classes).map(String.init)
    }

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }

    /// The first `n` images (all if n is nil or larger).
    public func prefix(_ n: Int?) -> LabeledImages {
        guard let n, n < count else { return self }
        return LabeledImages(channels: channels, height: height, width: width, classes: classes,
                             pixels: Array(pixels[0..<(n * imageSize)]), labels: Array(labels[0..<n]), classNames: classNames)
    }

    /// Per-channel mean and standard deviation of the pixels scaled to [0, 1]: the normalisation
    /// of a dataset that comes with none of its own, computed from its training split.
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        let plane = height * width
        var sums = [Double](repeating: 0, count: channels), squares = sums
        for image in 0..<count {
            for c in 0..<channels {
                var sum = 0, square = 0
                let base = image * imageSize + c * plane
                for p in base..<(base + plane) {
                    let value = Int(pixels[p])
                    sum += value
                    square += value * value
                }
                sums[c] += Double(sum)
                squares[c] += Double(square)
            }
        }
        let n = Double(max(count * plane, 1))
        let mean = sums.map { $0 / n / 255 }
        let std = zip(squares, mean).map { square, m in max((square / n / (255 * 255) - m * m).squareRoot(), 1e-3) }
        return (mean.map { Float($0) }, std.map { Float($0) })
    }

    /// Images `indices` as float32 NCHW, scaled to [0, 1] and normalised per channel.
    public func normalizedBatch(_ indices: some Collection<Int>, mean: [Float], std: [Float]) -> [Float] {
        let plane = height * width
        var out = [Float](repeating: 0, count: indices.count * imageSize)
        var o = 0
        for index in indices {
            let base = index * imageSize
            for c in 0..<channels {
                let scale = 1 / (255 * std[c]), shift = mean[c] / std[c]
                for p in 0..<plane {
                    out[o] = Float(pixels[base + c * plane + p]) * scale - shift
                    o += 1
                }
            }
        }
        return out
    }
}
