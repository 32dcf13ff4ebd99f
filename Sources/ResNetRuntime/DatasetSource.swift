import Foundation
import ResNetSpec

/// Where a run's images come from, as given by `--dataset` or the spec's `data.dataset`:
/// `fashion-mnist[:DIR]` (Debian's dataset-fashion-mnist package by default), `cifar10:DIR`,
/// `cifar100:DIR[:coarse]`, `idx:DIR` (any MNIST-family IDX directory) or `folder:ROOT` (an
/// ImageFolder tree of PNG and JPEG files), and how to read it.
public struct DatasetSource: Sendable {
    /// The dataset formats resnetc reads.
    public enum Kind: Sendable, Equatable {
        case fashionMNIST, cifar10, cifar100(coarse: Bool), idx, folder

        /// The name in messages and in a checkpoint's recipe.
        public var name: String {
            switch self {
            case .fashionMNIST: return "fashion-mnist"
            case .cifar10: return "cifar10"
            case .cifar100(let coarse): return coarse ? "cifar100-coarse" : "cifar100"
            case .idx: return "idx"
            case .folder: return "folder"
            }
        }
    }

    /// How to read the data beyond its location.
    public struct Options: Sendable {
        /// A file of class names, one per line, replacing the dataset's own (`--classes`).
        public var classNamesFile: String?
        /// Image folders: skip files that do not decode instead of stopping (`--skip-bad`).
        public var skipBad = false
        /// Image folders: decoding threads (default: all cores).
        public var threads: Int?
        /// Image folders: where decoded splits are cached; nil decodes every time.
        public var cacheDirectory: String?

        public init(classNamesFile: String? = nil, skipBad: Bool = false, threads: Int? = nil, cacheDirectory: String? = nil) {
            (self.classNamesFile, self.skipBad, self.threads, self.cacheDirectory) = (classNamesFile, skipBad, threads, cacheDirectory)
        }
    }

    public var kind: Kind
    public var directory: String
    public var options: Options

    /// Where Debian's dataset-fashion-mnist package installs the IDX files.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
    static let fashionMNISTClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    static let usage = "use fashion-mnist[:DIR], cifar10:DIR, cifar100:DIR[:coarse], idx:DIR or folder:ROOT"

    public init(kind: Kind, directory: String, options: Options = Options()) {
        self.kind = kind
        self.directory = directory
        self.options = options
    }

    /// Parses a `--dataset` argument.
    public init(argument: String, options: Options = Options()) throws {
        let parts = argument.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var location = parts.count == 2 ? parts[1] : ""
        let kind: Kind
        switch parts[0] {
        case "fashion-mnist":
            kind = .fashionMNIST
            if parts.count == 1 { location = Self.fashionMNISTDirectory }
        case "cifar10": kind = .cifar10
        case "cifar100":
            let coarse = location.hasSuffix(":coarse")
            if coarse || location.hasSuffix(":fine") { location = String(location[..<location.lastIndex(of: ":")!]) }
            kind = .cifar100(coarse: coarse)
        case "idx": kind = .idx
        case "folder": kind = .folder
        default: throw RuntimeError("--dataset: unknown dataset '\(parts[0])'; \(Self.usage)")
        }
        guard !location.isEmpty else {
            throw RuntimeError("--dataset \(argument): names an empty directory; \(Self.usage)")
        }
        self.init(kind: kind, directory: location, options: options)
    }

    /// The `--dataset` argument if given, else the spec's `data.dataset` (CIFAR-10 then needs a directory).
    public static func resolve(argument: String?, spec: ModelSpec, options: Options = Options()) throws -> DatasetSource {
        if let argument { return try DatasetSource(argument: argument, options: options) }
        switch spec.data.dataset {
        case .fashionMNIST?: return DatasetSource(kind: .fashionMNIST, directory: fashionMNISTDirectory, options: options)
        case .cifar10?: throw RuntimeError("the spec reads cifar10; say where it is: --dataset cifar10:DIR")
        case nil: throw RuntimeError("the spec names no dataset (data.dataset); pass --dataset (\(Self.usage))")
        }
    }

    /// The per-channel mean and std of pixels in [0, 1] published for the dataset, where it has them.
    public var publishedNormalization: (mean: [Float], std: [Float])? {
        switch kind {
        case .fashionMNIST: return ([0.2860], [0.3530])
        case .cifar10: return ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])
        default: return nil
        }
    }

    /// The class names the format itself knows (nil: numbered, unless the data names them).
    public var builtInClassNames: [String]? {
        switch kind {
        case .fashionMNIST: return Self.fashionMNISTClasses
        case .cifar10: return CIFARBinary.cifar10.builtInNames
        default: return nil
        }
    }

    /// The normalisation a run uses: the spec's `data.mean`/`data.std` where given, else what
    /// the weights were trained with (their data description), else the dataset's published
    /// statistics, else those of its whole training split (read only then).
    public func normalization(for spec: ModelSpec, trainedWith description: DataDescription? = nil,
                              trainingSplit: () throws -> LabeledImages) throws -> (mean: [Float], std: [Float]) {
        let defaults = try description.map { ($0.mean, $0.std) } ?? publishedNormalization ?? trainingSplit().channelStatistics()
        let chosen = (spec.data.mean.map { $0.map(Float.init) } ?? defaults.0, spec.data.std.map { $0.map(Float.init) } ?? defaults.1)
        guard chosen.0.count == spec.input.channels, chosen.1.count == spec.input.channels else {
            throw RuntimeError("the normalisation (mean \(chosen.0), std \(chosen.1)) has \(chosen.0.count) channels; the spec's input has \(spec.input.channels)")
        }
        return chosen
    }

    /// A split of the data. Image folders are decoded to `input`'s channels and size; the other
    /// formats are read as stored and `check` compares them with the spec.
    public func load(training: Bool, input: InputShape, warn: (String) -> Void = DatasetSource.printWarning) throws -> LabeledImages {
        var split: LabeledImages
        switch kind {
        case .cifar10: split = try CIFARBinary.cifar10.read(directory: directory, training: training)
        case .cifar100(let coarse): split = try CIFARBinary.cifar100(coarse: coarse).read(directory: directory, training: training)
        case .idx: split = try IDXDirectory.read(directory: directory, training: training)
        case .fashionMNIST:
            let prefix = training ? "train" : "t10k"
            func file(_ kind: String) throws -> String {
                let base = (directory as NSString).appendingPathComponent("\(prefix)-\(kind)-idx\(kind == "images" ? 3 : 1)-ubyte")
                for candidate in [base + ".gz", base] where FileManager.default.fileExists(atPath: candidate) { return candidate }
                throw RuntimeError("Fashion-MNIST file \(base)[.gz] not found; install Debian's dataset-fashion-mnist package "
                                   + "(apt-get install dataset-fashion-mnist) or pass --dataset fashion-mnist:DIR")
            }
            split = try IDXFile.readSplit(images: try file("images"), labels: try file("labels"), classes: 10)
            split.classNames = Self.fashionMNISTClasses
        case .folder:
            guard input.channels == 1 || input.channels == 3 else {
                throw RuntimeError("--dataset folder:\(directory): the spec's input has \(input.channels) channels; image folders give 1 (grey) or 3 (RGB)")
            }
            let folder = try ImageFolder(root: directory)
            split = try folder.load(training: training, options: ImageFolder.LoadOptions(
                channels: input.channels, height: input.height, width: input.width,
                threads: options.threads ?? ProcessInfo.processInfo.activeProcessorCount, skipBad: options.skipBad,
                cacheDirectory: options.cacheDirectory), warn: warn)
        }
        if let file = options.classNamesFile { split.classNames = try ClassNames.read(file, classes: split.classes) }
        return split
    }

    /// Prints `resnetc: warning: …` on standard error.
    public static func printWarning(_ text: String) {
        FileHandle.standardError.write(Data("resnetc: warning: \(text)\n".utf8))
    }

    /// Checks that a split has images and that they fit the spec's input and classes.
    public func check(_ images: LabeledImages, training: Bool, input: InputShape, classes: Int) throws {
        guard images.count > 0 else {
            throw RuntimeError("the \(training ? "training" : "test") split of \(kind.name) in '\(directory)' holds no images")
        }
        guard images.channels == input.channels, images.height == input.height, images.width == input.width else {
            throw RuntimeError("\(kind.name) images are \(images.channels)×\(images.height)×\(images.width); "
                               + "the spec's input is \(input.channels)×\(input.height)×\(input.width)")
        }
        guard images.classes <= classes else {
            throw RuntimeError("\(kind.name) in '\(directory)' has \(images.classes) classes; the spec's classifier has \(classes) "
                               + "(set it with --set classes=\(images.classes))")
        }
    }
}
