import Foundation
import ResNetRuntime
import ResNetSpec
import Testing
import TestSupport

/// Dataset readers on files the tests write (good, truncated, corrupt) and on the real data.
@Suite struct DatasetTests {

    func idx(_ dims: [Int], _ payload: [UInt8]) -> Data {
        var bytes: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return Data(bytes + payload)
    }

    func gzip(_ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-kf", path]
        try process.run()
        process.waitUntilExit()
    }

    @Test func readsIDXPlainAndGzipped() throws {
        let directory = try Scratch.directory()
        let pixels = (0..<(3 * 2 * 2)).map { UInt8($0) }
        try idx([3, 2, 2], pixels).write(to: URL(fileURLWithPath: "\(directory)/images"))
        try idx([3], [4, 0, 9]).write(to: URL(fileURLWithPath: "\(directory)/labels"))
        try gzip("\(directory)/images")
        for images in ["\(directory)/images", "\(directory)/images.gz"] {
            let split = try IDXFile.readSplit(images: images, labels: "\(directory)/labels", classes: 10)
            #expect(split.pixels == pixels && split.labels == [4, 0, 9] && split.height == 2 && split.count == 3)
        }
    }

    @Test func namesTheByteOfBrokenIDXFiles() throws {
        let directory = try Scratch.directory()
        try idx([3, 2, 2], Array(repeating: 1, count: 10)).write(to: URL(fileURLWithPath: "\(directory)/short"))
        #expect(Scratch.errorText { _ = try IDXFile.read("\(directory)/short", expectedDimensions: 3) }.contains("truncated"))
        try Data([0, 0, 9, 3, 0]).write(to: URL(fileURLWithPath: "\(directory)/magic"))
        #expect(Scratch.errorText { _ = try IDXFile.read("\(directory)/magic", expectedDimensions: 3) }.contains("bad IDX magic"))
        try idx([3, 1, 1], [0, 0, 0]).write(to: URL(fileURLWithPath: "\(directory)/images"))
        try idx([3], [1, 12, 2]).write(to: URL(fileURLWithPath: "\(directory)/labels"))
        let label = Scratch.errorText { _ = try IDXFile.readSplit(images: "\(directory)/images", labels: "\(directory)/labels", classes: 10) }
        #expect(label.contains("label 12 of record 1 (byte offset 9)"), "\(label)")
        #expect(Scratch.errorText { _ = try IDXFile.read("\(directory)/missing", expectedDimensions: 1) }.contains("\(directory)/missing"))
    }

    @Test func reportsTruncatedAndCorruptGzip() throws {
        let directory = try Scratch.directory()
        try idx([100, 10, 10], (0..<10_000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: "\(directory)/images"))
        try gzip("\(directory)/images")
        let full = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/images.gz"))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: "\(directory)/cut.gz"))
        #expect(Scratch.errorText { _ = try IDXFile.read("\(directory)/cut.gz", expectedDimensions: 3) }.contains("truncated gzip"))
        var corrupt = [UInt8](full)
        for i in 20..<60 { corrupt[i] ^= 0x5A }
        try Data(corrupt).write(to: URL(fileURLWithPath: "\(directory)/bad.gz"))
        let text = Scratch.errorText { _ = try IDXFile.read("\(directory)/bad.gz", expectedDimensions: 3) }
        #expect(text.contains("corrupt gzip") || text.contains("truncated gzip"), "\(text)")
    }

    @Test func namesTheRecordOfBrokenCIFARFiles() throws {
        let directory = try Scratch.directory()
        var record = [UInt8](repeating: 7, count: CIFARBinary.cifar10.recordSize)
        record[0] = 3
        try Data(record + record.prefix(100)).write(to: URL(fileURLWithPath: "\(directory)/test_batch.bin"))
        let truncated = Scratch.errorText { _ = try CIFARBinary.cifar10.read(directory: directory, training: false) }
        #expect(truncated.contains("record 1 starting at byte offset 3073 is truncated"), "\(truncated)")
        record[0] = 11
        try Data(record + record).write(to: URL(fileURLWithPath: "\(directory)/test_batch.bin"))
        #expect(Scratch.errorText { _ = try CIFARBinary.cifar10.read(directory: directory, training: false) }.contains("record 0 (byte offset 0) has label 11"))
        #expect(Scratch.errorText { _ = try CIFARBinary.cifar10.read(directory: directory, training: true) }.contains("no readable data_batch_1.bin"))
    }

    @Test func readsCIFAR100ByFineOrCoarseLabelWithItsNames() throws {
        let directory = try Scratch.directory()
        func record(coarse: UInt8, fine: UInt8, pixel: UInt8) -> [UInt8] { [coarse, fine] + [UInt8](repeating: pixel, count: 3072) }
        try Data(record(coarse: 3, fine: 42, pixel: 1) + record(coarse: 19, fine: 99, pixel: 2)).write(to: URL(fileURLWithPath: "\(directory)/train.bin"))
        try Data(record(coarse: 0, fine: 7, pixel: 3)).write(to: URL(fileURLWithPath: "\(directory)/test.bin"))
        let fine = try DatasetSource(argument: "cifar100:" + directory).load(training: true, input: InputShape(channels: 3, height: 32, width: 32))
        #expect(fine.labels == [42, 99] && fine.classes == 100 && fine.pixels.count == 2 * 3072 && fine.pixels[3072] == 2)
        try (0..<20).map { "super \($0)" }.joined(separator: "\n").write(toFile: "\(directory)/coarse_label_names.txt", atomically: true, encoding: .utf8)
        let coarse = try DatasetSource(argument: "cifar100:\(directory):coarse").load(training: false, input: InputShape(channels: 3, height: 32, width: 32))
        #expect(coarse.labels == [0] && coarse.classes == 20 && coarse.classNames[19] == "super 19")
        try Data(record(coarse: 20, fine: 7, pixel: 3)).write(to: URL(fileURLWithPath: "\(directory)/test.bin"))
        let bad = Scratch.errorText { _ = try CIFARBinary.cifar100(coarse: false).read(directory: directory, training: false) }
        #expect(bad.contains("record 0 (byte offset 0) has label 20") && bad.contains("in byte 0 are 0-19"), "\(bad)")
        try Data(record(coarse: 1, fine: 7, pixel: 3).dropLast()).write(to: URL(fileURLWithPath: "\(directory)/test.bin"))
        #expect(Scratch.errorText { _ = try CIFARBinary.cifar100(coarse: false).read(directory: directory, training: false) }.contains("3074-byte records"))
        try "a\nb\n".write(toFile: "\(directory)/fine_label_names.txt", atomically: true, encoding: .utf8)
        let names = Scratch.errorText { _ = try CIFARBinary.cifar100(coarse: false).read(directory: directory, training: true) }
        #expect(names.contains("fine_label_names.txt names 2 classes") && names.contains("has 100"), "\(names)")
    }

    @Test func readsAnyMNISTFamilyIDXDirectory() throws {
        // EMNIST letters: labels 1-26 in files named emnist-letters-{train,test}-….
        let directory = try Scratch.directory()
        try idx([2, 1, 1], [5, 6]).write(to: URL(fileURLWithPath: "\(directory)/emnist-letters-train-images-idx3-ubyte"))
        try idx([2], [1, 26]).write(to: URL(fileURLWithPath: "\(directory)/emnist-letters-train-labels-idx1-ubyte"))
        try idx([1, 1, 1], [7]).write(to: URL(fileURLWithPath: "\(directory)/emnist-letters-test-images-idx3-ubyte"))
        try idx([1], [3]).write(to: URL(fileURLWithPath: "\(directory)/emnist-letters-test-labels-idx1-ubyte"))
        try gzip("\(directory)/emnist-letters-test-labels-idx1-ubyte")
        let input = InputShape(channels: 1, height: 1, width: 1)
        let train = try DatasetSource(argument: "idx:" + directory).load(training: true, input: input)
        #expect(train.labels == [1, 26] && train.classes == 27 && train.pixels == [5, 6])
        let test = try DatasetSource(argument: "idx:" + directory).load(training: false, input: input)
        #expect(test.labels == [3] && test.classes == 27, "a split's classes cover both splits' labels")
        try idx([1], [3]).write(to: URL(fileURLWithPath: "\(directory)/other-test-labels-idx1-ubyte"))
        let ambiguous = Scratch.errorText { _ = try DatasetSource(argument: "idx:" + directory).load(training: false, input: input) }
        #expect(ambiguous.contains("several test labels files"), "\(ambiguous)")
        let empty = try Scratch.directory()
        let missing = Scratch.errorText { _ = try DatasetSource(argument: "idx:" + empty).load(training: true, input: input) }
        #expect(missing.contains("no training images file") && missing.contains("train-images-idx3-ubyte[.gz]"), "\(missing)")
    }

    @Test func classNamesFilesMustNameEveryClassOnce() throws {
        let directory = try Scratch.directory()
        let file = "\(directory)/classes.txt"
        try "  cat \n\ndog\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try ClassNames.read(file, classes: 2) == ["cat", "dog"])
        #expect(Scratch.errorText { _ = try ClassNames.read(file, classes: 3) }.contains("names 2 classes, one per line; the data has 3"))
        try "cat\ndog\ncat\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(Scratch.errorText { _ = try ClassNames.read(file) }.contains("class 'cat' is named twice (names 1 and 3)"))
        try Data([0xFF, 0xFE]).write(to: URL(fileURLWithPath: file))
        #expect(Scratch.errorText { _ = try ClassNames.read(file) }.contains("not UTF-8"))
    }

    @Test func datasetArgumentsAreParsedOrRefusedByName() throws {
        #expect(try DatasetSource(argument: "cifar100:/a:b:coarse").directory == "/a:b")
        #expect(try DatasetSource(argument: "cifar100:/d:fine").kind == .cifar100(coarse: false))
        #expect(try DatasetSource(argument: "folder:x").kind == .folder)
        #expect(Scratch.errorText { _ = try DatasetSource(argument: "imagenet:/x") }.contains("unknown dataset 'imagenet'"))
        #expect(Scratch.errorText { _ = try DatasetSource(argument: "folder:") }.contains("names an empty directory"))
    }

    @Test func normalisesPerChannel() {
        let images = LabeledImages(channels: 2, height: 1, width: 2, classes: 2, pixels: [0, 255, 51, 102], labels: [1])
        let batch = images.normalizedBatch([0], mean: [0.5, 0.2], std: [0.5, 0.1])
        #expect(zip(batch, [-1, 1, 0, 2]).allSatisfy { abs($0 - $1) < 1e-5 }, "\(batch)")
    }

    static let cifar = Fixtures.path("../shared/data/cifar10")

    @Test(.enabled(if: FileManager.default.fileExists(atPath: cifar + "/test_batch.bin")))
    func readsTheRealCIFAR10() throws {
        let test = try CIFARBinary.cifar10.read(directory: Self.cifar, training: false)
        #expect(test.count == 10_000)
        #expect(Set(test.labels).count == 10)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: DatasetSource.fashionMNISTDirectory + "/t10k-labels-idx1-ubyte.gz")))
    func readsTheRealFashionMNIST() throws {
        let test = try DatasetSource(argument: "fashion-mnist").load(training: false, input: InputShape(channels: 1, height: 28, width: 28))
        #expect(test.count == 10_000 && test.height == 28 && test.width == 28 && test.channels == 1)
        #expect(test.labels.filter { $0 == 0 }.count == 1000, "Fashion-MNIST's test set is balanced")
    }
}
