import Foundation
import ResNetRuntime
import ResNetSpec
import Testing
import TestSupport

/// Image folders: classes and labels from the layout, the mistakes users make in it, bad files
/// with and without --skip-bad, and the decoded-image cache (reused, rebuilt when the folder
/// changes, never trusted when corrupt).
@Suite struct ImageFolderTests {
    static let input = InputShape(channels: 1, height: 2, width: 2)

    /// ROOT with train/ and test/ holding the given classes, each with `count` 2×2 grey PNGs
    /// whose pixels are all (10·class + image).
    func folder(classes: [String] = ["zebra", "ant", "Bee"], count: Int = 2, test: String = "test") throws -> String {
        let root = try Scratch.directory()
        for split in ["train", test] {
            for (c, name) in classes.enumerated() {
                try FileManager.default.createDirectory(atPath: "\(root)/\(split)/\(name)", withIntermediateDirectories: true)
                for i in 0..<count {
                    try PNGFiles.grey(width: 2, height: 2, [UInt8](repeating: UInt8(10 * c + i), count: 4)).write(to: URL(fileURLWithPath: "\(root)/\(split)/\(name)/\(i).png"))
                }
            }
        }
        return root
    }

    func load(_ root: String, training: Bool = true, options: DatasetSource.Options = DatasetSource.Options(), warnings: inout [String]) throws -> LabeledImages {
        var collected: [String] = []
        defer { warnings += collected }
        return try DatasetSource(argument: "folder:" + root, options: options).load(training: training, input: Self.input) { collected.append($0) }
    }

    @Test func classesAreTheSortedFolderNamesAndLabelThePixels() throws {
        let root = try folder()
        var warnings: [String] = []
        let split = try load(root, warnings: &warnings)
        // Code point order: "Bee" < "ant" < "zebra"; folder c's pixels are 10c + i.
        #expect(split.classNames == ["Bee", "ant", "zebra"])
        #expect(split.labels == [0, 0, 1, 1, 2, 2])
        #expect(split.pixels == [20, 21, 10, 11, 0, 1].flatMap { [UInt8](repeating: $0, count: 4) })
        #expect(warnings.isEmpty)
        let val = try folder(test: "val")
        #expect(try load(val, training: false, warnings: &warnings).count == 6, "val/ serves as the test split")
    }

    @Test func layoutMistakesAreClearErrors() throws {
        var warnings: [String] = []
        let noTest = try folder()
        try FileManager.default.removeItem(atPath: "\(noTest)/test")
        #expect(Scratch.errorText { _ = try load(noTest, warnings: &warnings) }.contains("has train/ but no test/ or val/"))
        let noTrain = try Scratch.directory()
        #expect(Scratch.errorText { _ = try load(noTrain, warnings: &warnings) }.contains("has no train/ folder"))
        #expect(Scratch.errorText { _ = try load(noTrain + "/missing", warnings: &warnings) }.contains("does not exist"))
        let missingClass = try folder()
        try FileManager.default.removeItem(atPath: "\(missingClass)/test/ant")
        let missing = Scratch.errorText { _ = try load(missingClass, warnings: &warnings) }
        #expect(missing.contains("class 'ant' has a training folder") && missing.contains("no \(missingClass)/test/ant"), "\(missing)")
        let extraClass = try folder()
        try FileManager.default.createDirectory(atPath: "\(extraClass)/test/wasp", withIntermediateDirectories: true)
        #expect(Scratch.errorText { _ = try load(extraClass, warnings: &warnings) }.contains("test/wasp is a class the training split does not have"))
        let empty = try folder()
        try FileManager.default.createDirectory(atPath: "\(empty)/train/ant/sub", withIntermediateDirectories: true)
        for name in ["0.png", "1.png"] { try FileManager.default.removeItem(atPath: "\(empty)/train/ant/\(name)") }
        #expect(Scratch.errorText { _ = try load(empty, warnings: &warnings) }.contains("train/ant holds no .png, .jpg or .jpeg images"))
        let noClasses = try Scratch.directory()
        for split in ["train", "test"] { try FileManager.default.createDirectory(atPath: "\(noClasses)/\(split)", withIntermediateDirectories: true) }
        #expect(Scratch.errorText { _ = try load(noClasses, warnings: &warnings) }.contains("holds no class folders"))
    }

    @Test func otherFilesAreSkippedOrNamedAndSubfoldersRead() throws {
        let root = try folder()
        try Data("notes".utf8).write(to: URL(fileURLWithPath: "\(root)/train/ant/notes.txt"))
        try Data().write(to: URL(fileURLWithPath: "\(root)/train/ant/.DS_Store"))
        try FileManager.default.createDirectory(atPath: "\(root)/train/ant/more", withIntermediateDirectories: true)
        try PNGFiles.grey(width: 2, height: 2, [99, 99, 99, 99]).write(to: URL(fileURLWithPath: "\(root)/train/ant/more/x.PNG"))
        var warnings: [String] = []
        let split = try load(root, warnings: &warnings)
        #expect(split.count == 7 && split.labels.filter { $0 == 1 }.count == 3)
        #expect(warnings.count == 1 && warnings[0].contains("ignored 1 file") && warnings[0].contains("notes.txt"), "\(warnings)")
    }

    @Test func badImagesStopTheRunOrAreSkippedAndCounted() throws {
        let root = try folder()
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(root)/train/ant/1.png"))
        var warnings: [String] = []
        let text = Scratch.errorText { _ = try load(root, warnings: &warnings) }
        #expect(text.contains("\(root)/train/ant/1.png is not a decodable image") && text.contains("--skip-bad"), "\(text)")
        let skipped = try load(root, options: DatasetSource.Options(skipBad: true), warnings: &warnings)
        #expect(skipped.count == 5)
        #expect(warnings.contains { $0.contains("skipped 1 file") && $0.contains("train/ant/1.png") }, "\(warnings)")
    }

    @Test func decodedSplitsAreCachedAndRebuiltWhenTheFolderOrTheCacheChanges() throws {
        let root = try folder(), cache = try Scratch.directory()
        let options = DatasetSource.Options(threads: 2, cacheDirectory: cache)
        var warnings: [String] = []
        let first = try load(root, options: options, warnings: &warnings)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache + "/images")
        #expect(files.count == 1)
        #expect(try load(root, options: options, warnings: &warnings).pixels == first.pixels)
        // A flipped byte in the cached pixels is detected, reported, and the folder decoded again.
        let cached = cache + "/images/" + files[0]
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cached)))
        bytes[bytes.count - 1] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: cached))
        #expect(try load(root, options: options, warnings: &warnings).pixels == first.pixels)
        #expect(warnings.contains { $0.contains("is unusable") && $0.contains("SHA-256") }, "\(warnings)")
        // A truncated cache file too.
        try Data(bytes.prefix(40)).write(to: URL(fileURLWithPath: cached))
        #expect(try load(root, options: options, warnings: &warnings).pixels == first.pixels)
        // A changed image (another size in bytes, whatever the clock's resolution) is a changed
        // folder: a new key and the new pixels.
        try PNGFiles.png(width: 2, height: 2, colour: .grey, rows: [[200, 200], [200, 200]], palette: [1, 2, 3]).write(to: URL(fileURLWithPath: "\(root)/train/ant/0.png"))
        let changed = try load(root, options: options, warnings: &warnings)
        #expect(changed.pixels[8..<12] == [200, 200, 200, 200])
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache + "/images").count == 2)
        // Without --skip-bad a cached split with skipped files still stops on the first of them.
        try Data("junk".utf8).write(to: URL(fileURLWithPath: "\(root)/train/ant/1.png"))
        _ = try load(root, options: DatasetSource.Options(skipBad: true, cacheDirectory: cache), warnings: &warnings)
        #expect(Scratch.errorText { _ = try load(root, options: options, warnings: &warnings) }.contains("1.png is not a decodable image"))
    }

    @Test func decodingGivesTheSameSplitOnAnyNumberOfThreads() throws {
        let root = try folder(count: 9)
        var warnings: [String] = []
        let one = try load(root, options: DatasetSource.Options(threads: 1), warnings: &warnings)
        for threads in [2, 5, 64] {
            let many = try load(root, options: DatasetSource.Options(threads: threads), warnings: &warnings)
            #expect(many.pixels == one.pixels && many.labels == one.labels)
        }
    }
}
