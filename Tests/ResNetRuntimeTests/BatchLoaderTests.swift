import ResNetRuntime
import Testing

/// Shuffling, augmentation and prefetching of training batches.
@Suite struct BatchLoaderTests {
    /// Ten 1×3×4 images whose pixel values encode (image, row, column), labels 0…9.
    static let data = LabeledImages(
        channels: 1, height: 3, width: 4, classes: 10,
        pixels: (0..<10).flatMap { i in (0..<12).map { UInt8(i * 20 + $0 + 1) } }, labels: (0..<10).map(Int32.init))

    func loader(pad: Int = 0, flip: Bool = false, seed: UInt64 = 7) -> BatchLoader {
        BatchLoader(data: Self.data, batchSize: 3, mean: [0], std: [1.0 / 255], pad: pad, flip: flip, seed: seed)
    }

    @Test func eachEpochIsASeededPermutation() {
        let l = loader()
        #expect(l.permutation(epoch: 0).sorted() == Array(0..<10))
        #expect(l.permutation(epoch: 0) == loader().permutation(epoch: 0), "same seed, same order")
        #expect(l.permutation(epoch: 0) != l.permutation(epoch: 1), "epochs reshuffle")
        #expect(l.permutation(epoch: 0) != loader(seed: 8).permutation(epoch: 0))
        #expect(l.batchesPerEpoch == 3, "the partial last batch is dropped")
    }

    @Test func withoutAugmentationBatchesAreTheImages() {
        let l = loader()
        let order = l.permutation(epoch: 2)
        let batch = l.batch(epoch: 2, index: 1, order: order)
        let expectedLabels: [Int32] = order[3..<6].map { Int32($0) }
        // std 1/255 and mean 0 make normalised values equal the raw pixel values.
        var expectedImages: [Float] = []
        for i in order[3..<6] { for p in 0..<12 { expectedImages.append(Float(i * 20 + p + 1)) } }
        #expect(batch.labels == expectedLabels)
        #expect(batch.images == expectedImages)
    }

    @Test func augmentationCropsAndFlipsWithinBounds() {
        let l = loader(pad: 1, flip: true)
        let order = l.permutation(epoch: 0)
        for index in 0..<l.batchesPerEpoch {
            let batch = l.batch(epoch: index, index: index, order: l.permutation(epoch: index))
            for (slot, label) in batch.labels.enumerated() {
                let image = Array(batch.images[(slot * 12)..<((slot + 1) * 12)])
                let first = Float(Int(label) * 20 + 1)
                let foreign = image.filter { $0 != 0 && ($0 < first || $0 > first + 11) }
                let padding = image.filter { $0 == 0 }.count
                #expect(foreign.isEmpty, "only this image's pixels or zero padding")
                #expect(padding <= 6, "a shift of at most one pixel each way")
            }
        }
        #expect(order.count == 10)
    }

    @Test func flipsMirrorRowsAndHappenSometimes() {
        let l = loader(pad: 0, flip: true)
        var mirrored = 0, kept = 0
        for epoch in 0..<8 {
            let order = l.permutation(epoch: epoch)
            for index in 0..<l.batchesPerEpoch {
                let batch = l.batch(epoch: epoch, index: index, order: order)
                for (slot, label) in batch.labels.enumerated() {
                    let image = Array(batch.images[(slot * 12)..<((slot + 1) * 12)])
                    let original: [Float] = (0..<12).map { Float(Int(label) * 20 + $0 + 1) }
                    var flipped: [Float] = []
                    for row in 0..<3 { flipped += original[(row * 4)..<(row * 4 + 4)].reversed() }
                    if image == original { kept += 1 } else if image == flipped { mirrored += 1 }
                }
            }
        }
        #expect(mirrored + kept == 8 * 9, "every image is itself or its mirror")
        #expect(mirrored > 10 && kept > 10, "mirrored \(mirrored), kept \(kept)")
    }

    @Test func prefetchingGivesTheSameBatchesAndResumesAnywhere() {
        let l = loader(pad: 1, flip: true)
        let order = l.permutation(epoch: 4)
        var prefetched: [BatchLoader.Batch] = []
        let batches = l.batches(epoch: 4)
        while let (_, batch) = batches.next() { prefetched.append(batch) }
        let direct: [BatchLoader.Batch] = (0..<3).map { l.batch(epoch: 4, index: $0, order: order) }
        #expect(prefetched == direct)
        let resumed = l.batches(epoch: 4, from: 2)
        let first = resumed.next()
        #expect(first?.index == 2 && first?.batch == prefetched[2])
        #expect(resumed.next() == nil)
    }
}
