import Foundation
import ResNetDiagnostics

/// The CIFAR binary formats: records of label bytes and 3072 pixel bytes (1024 red, 1024 green,
/// 1024 blue, each 32×32 row-major). CIFAR-10 has one label byte, `data_batch_1..5.bin` and
/// `test_batch.bin`, and its class names in `batches.meta.txt`; CIFAR-100 has a coarse (20
/// superclasses) then a fine (100 classes) label byte, `train.bin` and `test.bin`, and
/// `coarse_label_names.txt` and `fine_label_names.txt`.
public struct CIFARBinary: Sendable {
    public static let imageBytes = 3072
    /// How the dataset is named in messages.
    public let name: String
    /// Each label byte's number of classes, in record order.
    public let labelLimits: [Int]
    /// Which of the label bytes is the label used.
    public let labelIndex: Int
    public let trainingFiles: [String]
    public let testFiles: [String]
    /// The file of class names, one per line, read when the directory has it.
    public let namesFile: String
    /// The names used when the directory has no names file.
    public let builtInNames: [String]?

    public var labelBytes: Int { labelLimits.count }
    public var classes: Int { labelLimits[labelIndex] }
    public var recordSize: Int { labelBytes + Self.imageBytes }

    public static let cifar10 = CIFARBinary(
        name: "CIFAR-10", labelLimits: [10], labelIndex: 0, trainingFiles: (1...5).map { "data_batch_\($0).bin" },
        testFiles: ["test_batch.bin"], namesFile: "batches.meta.txt",
        builtInNames: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])

    /// CIFAR-100 labelled by its 100 fine classes, or by its 20 coarse superclasses.
    public static func cifar100(coarse: Bool) -> CIFARBinary {
        CIFARBinary(name: coarse ? "CIFAR-100 (coarse)" : "CIFAR-100", labelLimits: [20, 100], labelIndex: coarse ? 0 : 1,
                    trainingFiles: ["train.bin"], testFiles: ["test.bin"],
                    namesFile: coarse ? "coarse_label_names.txt" : "fine_label_names.txt", builtInNames: nil)
    }

    public func read(directory: String, training: Bool) throws -> LabeledImages {
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        for file in training ? trainingFiles : testFiles {
            let path = (directory as NSString).appendingPathComponent(file)
            let bytes: [UInt8]
            do { bytes = [UInt8](try FileBytes.read(path, what: "\(name) batch")) } catch let error as FileBytes.ReadError {
                throw RuntimeError("\(name) directory '\(directory)' has no readable \(file): \(error.reason)")
            }
            guard !bytes.isEmpty else { throw RuntimeError("\(path) is empty; a \(name) batch holds \(recordSize)-byte records") }
            guard bytes.count % recordSize == 0 else {
                let whole = bytes.count / recordSize
                throw RuntimeError("\(path): \(bytes.count) bytes is not a whole number of \(recordSize)-byte records: "
                                   + "record \(whole) starting at byte offset \(whole * recordSize) is truncated")
            }
            pixels.reserveCapacity(pixels.count + bytes.count)
            for record in 0..<(bytes.count / recordSize) {
                let offset = record * recordSize
                for (index, limit) in labelLimits.enumerated() where Int(bytes[offset + index]) >= limit {
                    throw RuntimeError("\(path): record \(record) (byte offset \(offset + index)) has label \(bytes[offset + index]); "
                                       + "\(name) labels\(labelBytes > 1 ? " in byte \(index)" : "") are 0-\(limit - 1)")
                }
                labels.append(Int32(bytes[offset + labelIndex]))
                pixels.append(contentsOf: bytes[(offset + labelBytes)..<(offset + recordSize)])
            }
        }
        return LabeledImages(channels: 3, height: 32, width: 32, classes: classes, pixels: pixels, labels: labels,
                             classNames: try classNames(directory: directory))
    }

    /// The names in the directory's names file, else the built-in ones, else nil (numbers).
    func classNames(directory: String) throws -> [String]? {
        let path = (directory as NSString).appendingPathComponent(namesFile)
        guard FileManager.default.fileExists(atPath: path) else { return builtInNames }
        return try ClassNames.read(path, classes: classes)
    }
}
