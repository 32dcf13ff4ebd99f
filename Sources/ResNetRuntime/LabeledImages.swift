/// A dataset split in memory: 8-bit images (N×C×H×W, channels first) and their labels, as the
/// readers produce them and the loaders batch them.
public struct LabeledImages: Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var classes: Int
    /// Pixels 0…255, image after image, each C×H×W.
    public var pixels: [UInt8]
    public var labels: [UInt8]

    public init(channels: Int, height: Int, width: Int, classes: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(pixels.count == labels.count * channels * height * width)
        self.channels = channels
        self.height = height
        self.width = width
        self.classes = classes
        self.pixels = pixels
        self.labels = labels
    }

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }

    /// The first `n` images (all if n is nil or larger).
    public func prefix(_ n: Int?) -> LabeledImages {
        guard let n, n < count else { return self }
        return LabeledImages(channels: channels, height: height, width: width, classes: classes,
                             pixels: Array(pixels[0..<(n * imageSize)]), labels: Array(labels[0..<n]))
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
