import Foundation

/// Training batches: a seeded shuffle per epoch, the paper's augmentation (zero-pad, random crop
/// back to size, random horizontal flip) and per-channel normalisation, with the next batch
/// prepared on another thread while the current one trains.
///
/// Every random choice comes from a generator seeded by (seed, epoch, batch), so a batch depends
/// on nothing but its position: prefetching cannot change results, and a run resumed at any
/// iteration sees exactly the batches it would have seen.
public struct BatchLoader: Sendable {
    /// One batch: images N×C×H×W (normalised) and labels.
    public struct Batch: Sendable, Equatable {
        public var images: [Float]
        public var labels: [Int32]
        public var count: Int { labels.count }
    }

    public let data: LabeledImages
    public let batchSize: Int
    public let mean: [Float]
    public let std: [Float]
    public let pad: Int
    public let flip: Bool
    public let seed: UInt64

    public init(data: LabeledImages, batchSize: Int, mean: [Float], std: [Float], pad: Int, flip: Bool, seed: UInt64) {
        self.data = data
        self.batchSize = batchSize
        self.mean = mean
        self.std = std
        self.pad = pad
        self.flip = flip
        self.seed = seed
    }

    /// Full batches per epoch (the last partial batch is dropped, so batch norm never sees a tiny one).
    public var batchesPerEpoch: Int { max(1, data.count / batchSize) }

    /// The epoch's order of images: a Fisher–Yates shuffle seeded by (seed, epoch).
    public func permutation(epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: mix(seed, UInt64(epoch), 0x5155_4646))
        var order = Array(0..<data.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return order
    }

    /// Batch `index` of `epoch`, given that epoch's permutation.
    public func batch(epoch: Int, index: Int, order: [Int]) -> Batch {
        var rng = SplitMix64(seed: mix(seed, UInt64(epoch), UInt64(index)))
        let members = order[(index * batchSize)..<min((index + 1) * batchSize, order.count)]
        let (c, h, w) = (data.channels, data.height, data.width)
        let plane = h * w
        var images = [Float](repeating: 0, count: members.count * data.imageSize)
        for (slot, image) in members.enumerated() {
            // Crop offset in the padded image, and whether to mirror.
            let dy = pad > 0 ? Int(rng.next() % UInt64(2 * pad + 1)) - pad : 0
            let dx = pad > 0 ? Int(rng.next() % UInt64(2 * pad + 1)) - pad : 0
            let mirror = flip && rng.next() & 1 == 1
            let source = image * data.imageSize
            for ch in 0..<c {
                let scale = 1 / (255 * std[ch]), shift = mean[ch] / std[ch]
                let outBase = slot * data.imageSize + ch * plane
                for y in 0..<h {
                    let sy = y + dy
                    for x in 0..<w {
                        let sx = (mirror ? w - 1 - x : x) + dx
                        // Padding is zero pixels, which normalise to −mean/std like any black pixel.
                        let pixel: UInt8 = sy >= 0 && sy < h && sx >= 0 && sx < w ? data.pixels[source + ch * plane + sy * w + sx] : 0
                        images[outBase + y * w + x] = Float(pixel) * scale - shift
                    }
                }
            }
        }
        return Batch(images: images, labels: members.map { data.labels[$0] })
    }

    /// The batches of one epoch from `start`, each prepared on a background thread one step ahead.
    public func batches(epoch: Int, from start: Int = 0) -> Prefetcher {
        Prefetcher(loader: self, epoch: epoch, order: permutation(epoch: epoch), next: start)
    }

    /// An iterator that keeps the following batch in preparation while the caller works.
    public final class Prefetcher: IteratorProtocol, @unchecked Sendable {
        public typealias Element = (index: Int, batch: Batch)
        private let loader: BatchLoader
        private let epoch: Int
        private let order: [Int]
        private var upcoming: Int
        private var pending: (index: Int, done: DispatchSemaphore, box: Box)?

        /// Holds a batch handed from the worker thread to the caller after the semaphore signals.
        private final class Box: @unchecked Sendable { var batch: Batch? }

        init(loader: BatchLoader, epoch: Int, order: [Int], next: Int) {
            self.loader = loader
            self.epoch = epoch
            self.order = order
            upcoming = next
            schedule()
        }

        private func schedule() {
            guard upcoming < loader.batchesPerEpoch else { pending = nil; return }
            let (index, done, box) = (upcoming, DispatchSemaphore(value: 0), Box())
            let (loader, epoch, order) = (self.loader, self.epoch, self.order)
            DispatchQueue.global(qos: .userInitiated).async {
                box.batch = loader.batch(epoch: epoch, index: index, order: order)
                done.signal()
            }
            pending = (index, done, box)
            upcoming += 1
        }

        /// The next batch and its index within the epoch.
        public func next() -> (index: Int, batch: Batch)? {
            guard let current = pending else { return nil }
            current.done.wait()
            schedule()
            return (current.index, current.box.batch!)
        }
    }

    private func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var g = SplitMix64(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ (c &* 0xC2B2_AE3D_27D4_EB4F))
        return g.next()
    }
}
