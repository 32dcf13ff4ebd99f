import Foundation
import ResNetDiagnostics

/// CIFAR-10's binary format: records of one label byte and 3072 pixel bytes (1024 red, 1024
/// green, 1024 blue, each 32×32 row-major), `data_batch_1..5.bin` for training and
/// `test_batch.bin` for testing.
public enum CIFAR10 {
    public static let recordSize = 3073
    public static let trainingFiles = (1...5).map { "data_batch_\($0).bin" }
    public static let testFiles = ["test_batch.bin"]

    public static func read(directory: String, training: Bool) throws -> LabeledImages {
        var pixels: [UInt8] = []
        var labels: [UInt8] = []
        for name in training ? trainingFiles : testFiles {
            let path = (directory as NSString).appendingPathComponent(name)
            let bytes: [UInt8]
            do { bytes = [UInt8](try FileBytes.read(path, what: "CIFAR-10 batch")) } catch let error as FileBytes.ReadError {
                throw RuntimeError("CIFAR-10 directory '\(directory)' has no readable \(name): \(error.reason)")
            }
            guard !bytes.isEmpty else { throw RuntimeError("\(path) is empty; a CIFAR-10 batch holds \(recordSize)-byte records") }
            guard bytes.count % recordSize == 0 else {
                let whole = bytes.count / recordSize
                throw RuntimeError("\(path): \(bytes.count) bytes is not a whole number of \(recordSize)-byte records: "
                                   + "record \(whole) starting at byte offset \(whole * recordSize) is truncated")
            }
            pixels.reserveCapacity(pixels.count + bytes.count)
            for record in 0..<(bytes.count / recordSize) {
                let offset = record * recordSize
                guard bytes[offset] < 10 else {
                    throw RuntimeError("\(path): record \(record) (byte offset \(offset)) has label \(bytes[offset]); CIFAR-10 labels are 0-9")
                }
                labels.append(bytes[offset])
                pixels.append(contentsOf: bytes[(offset + 1)..<(offset + recordSize)])
            }
        }
        return LabeledImages(channels: 3, height: 32, width: 32, classes: 10, pixels: pixels, labels: labels)
    }
}
