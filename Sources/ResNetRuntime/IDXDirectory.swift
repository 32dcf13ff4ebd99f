import Foundation

/// A directory of MNIST-family IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST share the
/// layout): for each split an images file (`…idx3-ubyte`) and a labels file (`…idx1-ubyte`),
/// gzipped or not, told apart by `train` or `t10k`/`test` in their names, as in
/// `train-images-idx3-ubyte.gz` or `emnist-letters-test-labels-idx1-ubyte`. Labels need not
/// start at 0 (EMNIST letters are 1-26): the classes are 0 … the largest label in either split.
public enum IDXDirectory {
    public static func read(directory: String, training: Bool, classNames: [String]? = nil) throws -> LabeledImages {
        let train = try files(in: directory, training: true), test = try files(in: directory, training: false)
        var classes = 0
        for labels in [train.labels, test.labels] {
            let (_, bytes) = try IDXFile.read(labels, expectedDimensions: 1)
            classes = max(classes, Int(bytes.max() ?? 0) + 1)
        }
        let chosen = training ? train : test
        var split = try IDXFile.readSplit(images: chosen.images, labels: chosen.labels, classes: classes)
        if let classNames {
            guard classNames.count == classes else {
                throw RuntimeError("the IDX labels in '\(directory)' run 0-\(classes - 1) (\(classes) classes) but \(classNames.count) class names are given")
            }
            split.classNames = classNames
        }
        return split
    }

    /// The images and labels files of one split, or an error naming what is missing or ambiguous.
    static func files(in directory: String, training: Bool) throws -> (images: String, labels: String) {
        let names = try DirectoryListing.names(in: directory, what: "--dataset idx:\(directory)")
        let split = training ? "training" : "test"
        func find(_ kind: String, _ marker: String) throws -> String {
            let matching = names.filter { name in
                let lower = name.lowercased()
                let splitMatches = training ? lower.contains("train") : (lower.contains("t10k") || lower.contains("test"))
                return splitMatches && (lower.hasSuffix(marker) || lower.hasSuffix(marker + ".gz"))
            }
            // A file and its gzipped copy are one file; the plain one is read.
            let distinct = Set(matching.map { $0.hasSuffix(".gz") ? String($0.dropLast(3)) : $0 })
            guard distinct.count == 1, let stem = distinct.first else {
                let what = distinct.isEmpty ? "no \(split) \(kind) file" : "several \(split) \(kind) files (\(distinct.sorted().joined(separator: ", ")))"
                throw RuntimeError("--dataset idx:\(directory): found \(what); expected one named like "
                                   + "\(training ? "train" : "t10k")-\(kind)-\(marker)[.gz]")
            }
            let plain = (directory as NSString).appendingPathComponent(stem)
            return matching.contains(stem) ? plain : plain + ".gz"
        }
        return (try find("images", "idx3-ubyte"), try find("labels", "idx1-ubyte"))
    }
}
