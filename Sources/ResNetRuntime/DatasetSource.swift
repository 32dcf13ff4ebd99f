import Foundation
import ResNetSpec

/// Where a run's images come from: `fashion-mnist` (Debian's dataset-fashion-mnist package, or a
/// directory) or `cifar10:DIR`, as given on the command line or by the spec's `data.dataset`.
public struct DatasetSource: Sendable, Equatable {
    public var dataset: DataSettings.Dataset
    public var directory: String

    /// Where Debian's dataset-fashion-mnist package installs the IDX files.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    public init(dataset: DataSettings.Dataset, directory: String) {
        self.dataset = dataset
        self.directory = directory
    }

    /// Parses `fashion-mnist`, `fashion-mnist:DIR` or `cifar10:DIR`.
    public init(argument: String) throws {
        let parts = argument.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let dataset = DataSettings.Dataset(rawValue: parts[0]) else {
            throw RuntimeError("--dataset: unknown dataset '\(parts[0])'; use fashion-mnist[:DIR] or cifar10:DIR")
        }
        switch (dataset, parts.count) {
        case (.fashionMNIST, 1): self.init(dataset: dataset, directory: Self.fashionMNISTDirectory)
        case (_, 2) where !parts[1].isEmpty: self.init(dataset: dataset, directory: parts[1])
        case (.fashionMNIST, _): throw RuntimeError("--dataset fashion-mnist: names an empty directory; give fashion-mnist or fashion-mnist:DIR")
        default: throw RuntimeError("cifar10 needs its directory: --dataset cifar10:DIR (the one holding data_batch_1.bin)")
        }
    }

    /// The `--dataset` argument if given, else the spec's `data.dataset` (CIFAR-10 then needs a directory).
    public static func resolve(argument: String?, spec: ModelSpec) throws -> DatasetSource {
        if let argument { return try DatasetSource(argument: argument) }
        switch spec.data.dataset {
        case .fashionMNIST?: return DatasetSource(dataset: .fashionMNIST, directory: fashionMNISTDirectory)
        case .cifar10?: throw RuntimeError("the spec reads cifar10; say where it is: --dataset cifar10:DIR")
        case nil: throw RuntimeError("the spec names no dataset (data.dataset); pass --dataset fashion-mnist or --dataset cifar10:DIR")
        }
    }

    /// The spec's `data.mean`/`data.std` where given, else the dataset's own statistics.
    public func normalization(for spec: ModelSpec) -> (mean: [Float], std: [Float]) {
        let defaults = defaultNormalization
        return (spec.data.mean.map { $0.map(Float.init) } ?? defaults.mean, spec.data.std.map { $0.map(Float.init) } ?? defaults.std)
    }

    /// Per-channel mean and std of pixels in [0, 1] for the dataset's training set.
    public var defaultNormalization: (mean: [Float], std: [Float]) {
        switch dataset {
        case .fashionMNIST: return ([0.2860], [0.3530])
        case .cifar10: return ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])
        }
    }

    public func load(training: Bool) throws -> LabeledImages {
        switch dataset {
        case .cifar10:
            return try CIFAR10.read(directory: directory, training: training)
        case .fashionMNIST:
            let prefix = training ? "train" : "t10k"
            func file(_ kind: String) throws -> String {
                let base = (directory as NSString).appendingPathComponent("\(prefix)-\(kind)-idx\(kind == "images" ? 3 : 1)-ubyte")
                for candidate in [base + ".gz", base] where FileManager.default.fileExists(atPath: candidate) { return candidate }
                throw RuntimeError("Fashion-MNIST file \(base)[.gz] not found; install Debian's dataset-fashion-mnist package "
                                   + "(apt-get install dataset-fashion-mnist) or pass --dataset fashion-mnist:DIR")
            }
            return try IDXFile.readSplit(images: try file("images"), labels: try file("labels"), classes: 10)
        }
    }

    /// Checks that a split has images and that they fit the spec's input and classes.
    public func check(_ images: LabeledImages, training: Bool, input: InputShape, classes: Int) throws {
        guard images.count > 0 else {
            throw RuntimeError("the \(training ? "training" : "test") split of \(dataset.rawValue) in '\(directory)' holds no images")
        }
        guard images.channels == input.channels, images.height == input.height, images.width == input.width else {
            throw RuntimeError("\(dataset.rawValue) images are \(images.channels)×\(images.height)×\(images.width); "
                               + "the spec's input is \(input.channels)×\(input.height)×\(input.width)")
        }
        guard images.classes <= classes else {
            throw RuntimeError("\(dataset.rawValue) has \(images.classes) classes; the spec's classifier has \(classes)")
        }
    }
}
