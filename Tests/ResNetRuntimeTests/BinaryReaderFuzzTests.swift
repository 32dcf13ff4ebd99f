import Foundation
import ResNetDiagnostics
import ResNetIR
import ResNetPasses
import ResNetRuntime
import Testing
import TestSupport
import Glibc

/// Throws damaged and hostile files at every binary reader (safetensors, .npy, IDX plain and
/// gzipped, CIFAR-10 batches, checkpoints): seeded truncations, bit flips and huge numbers written
/// over header fields. Every read must end in a value or in an error naming the file; a trap would
/// kill the test process. Explicit cases pin the messages for overflowing shapes, non-finite
/// weights, non-regular files and unreadable paths. The generator is seeded, so a failure reproduces.
@Suite struct BinaryReaderFuzzTests {
    /// Where a header states its own length, so a mutation that changes the header's text can keep
    /// the length true and reach the checks behind it: `width` little-endian bytes at `offset`,
    /// counting the header from byte `base`.
    struct LengthField {
        var offset: Int
        var width: Int
        var base: Int
    }

    /// Edges of 32- and 64-bit fields, signed and unsigned, for binary headers.
    static let hugeNumbers: [UInt64] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 32, 1 << 62, UInt64(Int64.max), 1 << 63, .max]
    /// The same in text for JSON and Python headers, with negatives, fractions and numbers no integer type holds.
    static let hugeTexts = ["-1", "0", "4611686018427387904", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                            "18446744073709551616", "99999999999999999999999999", "1e308", "2.5", "true", "null", "[]", "\"7\""]


    func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// One seeded damage to `bytes`, aimed mostly at the header (the bytes before `headerEnd`).
    static func damage(_ bytes: [UInt8], headerEnd: Int, rng: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        let header = max(1, min(headerEnd, bytes.count))
        switch Int.random(in: 0..<6, using: &rng) {
        case 0:
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
        case 1, 2:
            let span = bytes.count == header || Bool.random(using: &rng) ? header : bytes.count
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                bytes[Int.random(in: 0..<span, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            }
        case 3:
            let value = hugeNumbers.randomElement(using: &rng)!
            let at = Int.random(in: 0..<header, using: &rng)
            for k in 0..<8 where at + k < bytes.count { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        case 4:
            let value = hugeNumbers.randomElement(using: &rng)!
            let at = Int.random(in: 0..<header, using: &rng) & ~3
            for k in 0..<4 where at + k < bytes.count { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(3 - k))) }
        default:
            let at = Int.random(in: 0..<header, using: &rng)
            if Bool.random(using: &rng) { bytes.remove(at: at) } else { bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at) }
        }
        return bytes
    }

    /// Replaces one number in a text header with a hostile one and keeps the length field true.
    static func replaceNumber(_ bytes: [UInt8], headerEnd: Int, length: LengthField, rng: inout SplitMix64) -> [UInt8] {
        let isNumber = { (b: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-") }
        var runs: [Range<Int>] = []
        var i = length.base
        while i < headerEnd {
            guard isNumber(bytes[i]) else { i += 1; continue }
            let start = i
            while i < headerEnd, isNumber(bytes[i]) { i += 1 }
            runs.append(start..<i)
        }
        guard let run = runs.randomElement(using: &rng) else { return bytes }
        var result = bytes
        let replacement = Array(hugeTexts.randomElement(using: &rng)!.utf8)
        result.replaceSubrange(run, with: replacement)
        let headerLength = UInt64(headerEnd - length.base + replacement.count - run.count)
        for k in 0..<length.width { result[length.offset + k] = UInt8(truncatingIfNeeded: headerLength >> (8 * UInt64(k))) }
        return result
    }

    /// Reads `valid` (which must succeed), then `rounds` seeded damages of it; each must read or
    /// throw an error containing `named`.
    func fuzz(_ valid: [UInt8], headerEnd: Int, length: LengthField? = nil, rounds: Int = 300, seed: UInt64,
              path: String, named: String? = nil, read: (String) throws -> Void) throws {
        try write(valid, to: path)
        try read(path)
        var rng = SplitMix64(seed: seed)
        for round in 0..<rounds {
            let damaged: [UInt8]
            if let length, round % 3 == 0 {
                damaged = Self.replaceNumber(valid, headerEnd: headerEnd, length: length, rng: &rng)
            } else {
                damaged = Self.damage(valid, headerEnd: headerEnd, rng: &rng)
            }
            try write(damaged, to: path)
            do { try read(path) } catch {
                #expect("\(error)".contains(named ?? path), "round \(round): the error does not name the file: \(error)")
            }
        }
    }

    /// Where the data of a safetensors file starts: after the 8-byte length and the header it gives.
    func safetensorsHeaderEnd(_ bytes: [UInt8]) -> Int {
        8 + (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
    }

    /// `json` as a safetensors header, padded to 8 bytes, followed by `data`.
    func safetensors(_ json: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        let length = length ?? UInt64(header.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + header + data
    }

    /// `header` as a version 1.0 .npy header, followed by `data`.
    func npy(_ header: String, data: [UInt8] = []) -> [UInt8] {
        let text = Array((header + "\n").utf8)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text + data
    }

    /// An IDX file of unsigned bytes with dimensions `dims` (each written as 32 bits) and `payload`.
    func idx(_ dims: [UInt32], _ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + payload
    }

    /// `bytes` compressed by the system's gzip.
    func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
        let path = try Scratch.directory() + "/data"
        try write(bytes, to: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-kf", path]
        try process.run()
        process.waitUntilExit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".gz")))
    }

    // MARK: Fuzzing each reader

    @Test func safetensorsSurvivesDamage() throws {
        let valid = [UInt8](try SafeTensors.serialize([(name: "a", shape: [2, 3], values: (0..<6).map(Float.init)),
                                                       (name: "b", shape: [4], values: [1, -2, 3, -4]),
                                                       (name: "scalar", shape: [], values: [7])], metadata: ["note": "fuzz"]))
        try fuzz(valid, headerEnd: safetensorsHeaderEnd(valid), length: LengthField(offset: 0, width: 8, base: 8), seed: 0x5AFE,
                 path: try Scratch.directory() + "/w.safetensors") { _ = try SafeTensors.read($0) }
    }

    @Test func numpySurvivesDamage() throws {
        let valid = [UInt8](NumPyArray(shape: [2, 3, 4], values: (0..<24).map(Float.init)).serialized())
        let headerEnd = 10 + Int(valid[8]) + Int(valid[9]) << 8
        try fuzz(valid, headerEnd: headerEnd, length: LengthField(offset: 8, width: 2, base: 10), seed: 0x9E,
                 path: try Scratch.directory() + "/x.npy") { _ = try NumPyArray.read($0) }
    }

    @Test func idxSurvivesDamage() throws {
        let directory = try Scratch.directory()
        try fuzz(idx([3, 4, 5], (0..<60).map { UInt8($0) }), headerEnd: 16, seed: 0x1D8, path: directory + "/images") {
            _ = try IDXFile.read($0, expectedDimensions: 3)
        }
        try fuzz(idx([7], [0, 1, 2, 3, 4, 5, 6]), headerEnd: 8, seed: 0x1D1, path: directory + "/labels") {
            _ = try IDXFile.read($0, expectedDimensions: 1)
        }
    }

    @Test func gzippedIDXSurvivesDamage() throws {
        let valid = try gzipped(idx([6, 8, 8], (0..<384).map { UInt8($0 % 7) }))
        try fuzz(valid, headerEnd: valid.count, rounds: 200, seed: 0x62, path: try Scratch.directory() + "/images.gz") {
            _ = try IDXFile.read($0, expectedDimensions: 3)
        }
    }

    @Test func cifarSurvivesDamage() throws {
        let directory = try Scratch.directory()
        var valid: [UInt8] = []
        for label in [3, 0, 9] as [UInt8] { valid += [label] + (0..<3072).map { UInt8(truncatingIfNeeded: $0 &* 31) } }
        try fuzz(valid, headerEnd: 1, rounds: 100, seed: 0xC1FA, path: directory + "/test_batch.bin", named: directory) { _ in
            _ = try CIFARBinary.cifar10.read(directory: directory, training: false)
        }
    }

    @Test func checkpointSurvivesDamage() throws {
        let result = Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small()))
        let graph = try #require(result.graph), spec = try #require(result.spec)
        let values = WeightInitializer.initialize(graph, spec: spec, seed: 1)
        let momentum = values.tensors.mapValues { $0.map { 0.5 * $0 } }
        let path = try Scratch.directory() + "/checkpoint.safetensors"
        try Checkpoint(parameters: values, momentum: momentum, iteration: 9, recipe: TrainingRecipe(values: ["seed": "1"]),
                       graphHash: "abc", metrics: MetricsLog()).write(to: path, graph: graph)
        let valid = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try fuzz(valid, headerEnd: safetensorsHeaderEnd(valid), length: LengthField(offset: 0, width: 8, base: 8), rounds: 150, seed: 0xC4EC, path: path) {
            _ = try Checkpoint.read($0, graph: graph, graphHash: "abc")
        }
    }

    // MARK: Hostile headers, one by one

    @Test func overflowingShapesAreErrorsNamingTheFile() throws {
        let directory = try Scratch.directory()
        func read(_ bytes: [UInt8], as name: String, _ reader: (String) throws -> Void) throws -> String {
            let path = "\(directory)/\(name)"
            try write(bytes, to: path)
            let text = Scratch.errorText { try reader(path) }
            #expect(text.contains(path), "\(name): \(text)")
            return text
        }
        let npyOverflow = try read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }"),
                                   as: "overflow.npy") { _ = try NumPyArray.read($0) }
        #expect(npyOverflow.contains("too large") && npyOverflow.contains("overflow"), "\(npyOverflow)")
        let npyZeroOverflow = try read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904), }"),
                                       as: "zero.npy") { _ = try NumPyArray.read($0) }
        #expect(npyZeroOverflow.contains("too large"), "a zero dimension does not excuse the others: \(npyZeroOverflow)")
        let npyNegative = try read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }"), as: "negative.npy") { _ = try NumPyArray.read($0) }
        #expect(npyNegative.contains("negative"), "\(npyNegative)")
        let npyWord = try read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }"), as: "word.npy") { _ = try NumPyArray.read($0) }
        #expect(npyWord.contains("'x'"), "a shape element that is not a number is named, not dropped: \(npyWord)")
        let npyHuge = try read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"), as: "huge.npy") { _ = try NumPyArray.read($0) }
        #expect(npyHuge.contains("64 bits"), "\(npyHuge)")
        let npyTwice = try read(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (2,), }", data: [0, 0, 0, 0]),
                                as: "twice.npy") { _ = try NumPyArray.read($0) }
        #expect(npyTwice.contains("twice"), "\(npyTwice)")
        var longHeader: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        longHeader += Array("{'descr': '<f4'}".utf8)
        let npyLength = try read(longHeader, as: "long.npy") { _ = try NumPyArray.read($0) }
        #expect(npyLength.contains("truncated"), "\(npyLength)")

        let stOverflow = try read(safetensors(#"{"a": {"dtype": "F32", "shape": [4611686018427387904, 4611686018427387904], "data_offsets": [0, 0]}}"#),
                                  as: "overflow.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stOverflow.contains("too large") && stOverflow.contains("overflow") && stOverflow.contains("'a'"), "\(stOverflow)")
        let stWidth = try read(safetensors(#"{"a": {"dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 0]}}"#),
                               as: "width.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stWidth.contains("too large"), "the count fits but count × 8 bytes does not: \(stWidth)")
        let stNegative = try read(safetensors(#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]),
                                  as: "negative.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stNegative.contains("negative"), "\(stNegative)")
        let stBeyondInt = try read(safetensors(#"{"a": {"dtype": "F32", "shape": [18446744073709551616], "data_offsets": [0, 4]}}"#),
                                   as: "beyond.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stBeyondInt.contains("'a'"), "\(stBeyondInt)")
        let stLength = try read(safetensors("{}", length: 1 << 63), as: "length.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stLength.contains("truncated"), "\(stLength)")
        let stPast = try read(safetensors(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [9223372036854775800, 9223372036854775804]}}"#,
                                          data: [0, 0, 0, 0]), as: "past.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stPast.contains("truncated"), "\(stPast)")
        let stOverlap = try read(safetensors(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#,
                                             data: [0, 0, 0, 0]), as: "overlap.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stOverlap.contains("overlap"), "\(stOverlap)")
        let stTwice = try read(safetensors(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#,
                                           data: [0, 0, 0, 0]), as: "twice.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stTwice.contains("twice"), "\(stTwice)")
        let stMetadata = try read(safetensors(#"{"__metadata__": {"format": 1}}"#), as: "metadata.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stMetadata.contains("__metadata__"), "\(stMetadata)")
        let stArray = try read(safetensors("[]"), as: "array.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stArray.contains("not an object"), "\(stArray)")
        let stDeep = try read(safetensors(String(repeating: "[", count: 100_000)), as: "deep.safetensors") { _ = try SafeTensors.read($0) }
        #expect(stDeep.contains("deeper"), "\(stDeep)")

        let idxOverflow = idx([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], [1, 2, 3])
        let idxOverflowGzipped = try gzipped(idxOverflow)
        for (name, bytes) in [("overflow.idx", idxOverflow), ("overflow.idx.gz", idxOverflowGzipped)] {
            let text = try read(bytes, as: name) { _ = try IDXFile.read($0, expectedDimensions: 3) }
            #expect(text.contains("too large") && text.contains("overflow"), "\(name): \(text)")
        }
    }

    @Test func gzipInflatesOnlyWhatTheHeaderPromises() throws {
        let directory = try Scratch.directory()
        // 8 promised bytes, then 32 MiB of zeros that compress to a few kilobytes.
        let bomb = try gzipped(idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]) + [UInt8](repeating: 0, count: 32 << 20))
        try write(bomb, to: "\(directory)/bomb.gz")
        let (dims, bytes) = try IDXFile.read("\(directory)/bomb.gz", expectedDimensions: 3)
        #expect(dims == [2, 2, 2] && bytes == [1, 2, 3, 4, 5, 6, 7, 8])
        // A promise of 280 TB is refused before inflating anything.
        try write(try gzipped(idx([0xFFFF_FFFF, 0xFFFF, 1], [0])), to: "\(directory)/promise.gz")
        let text = Scratch.errorText { _ = try IDXFile.read("\(directory)/promise.gz", expectedDimensions: 3) }
        #expect(text.contains("\(directory)/promise.gz") && text.contains("inflates"), "\(text)")
    }

    @Test func nonFiniteWeightsNameTheTensor() throws {
        let result = Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small()))
        let graph = try #require(result.graph), spec = try #require(result.spec)
        var values = WeightInitializer.initialize(graph, spec: spec, seed: 0)
        values.tensors["conv1.weight"]![5] = .nan
        values.tensors["fc.bias"]![2] = -.infinity
        let path = try Scratch.directory() + "/w.safetensors"
        try values.write(safetensors: path, for: graph)
        let text = Scratch.errorText { _ = try ParameterValues.load(safetensors: path, for: graph) }
        #expect(text.contains(path), "\(text)")
        #expect(text.contains("'conv1.weight' holds nan at index 5"), "\(text)")
        #expect(text.contains("'fc.bias' holds -inf at index 2"), "\(text)")
    }

    // MARK: Files that are not regular files, and files that cannot be read

    @Test func readsPipesAndFIFOs() throws {
        let array = NumPyArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        // A pipe reached by name, as /dev/stdin (a link to /proc/self/fd/0) is: the data is in the
        // pipe and the writer has closed.
        var ends: [Int32] = [0, 0]
        let piped = pipe(&ends)
        try #require(piped == 0)
        let bytes = [UInt8](array.serialized())
        let written = bytes.withUnsafeBytes { Glibc.write(ends[1], $0.baseAddress, $0.count) }
        #expect(written == bytes.count)
        close(ends[1])
        #expect(try NumPyArray.read("/proc/self/fd/\(ends[0])") == array)
        close(ends[0])

        // A FIFO fed by another thread, larger than the pipe's buffer so the reader must grow its own.
        let fifo = try Scratch.directory() + "/weights.fifo"
        try #require(mkfifo(fifo, 0o600) == 0)
        let big = (0..<200_000).map { Float($0) }
        let data = try SafeTensors.serialize([(name: "w", shape: [200_000], values: big)])
        let writer = Thread {
            let descriptor = open(fifo, O_WRONLY)
            data.withUnsafeBytes { buffer in
                var sent = 0
                while sent < buffer.count {
                    let n = Glibc.write(descriptor, buffer.baseAddress! + sent, buffer.count - sent)
                    if n <= 0 { break }
                    sent += n
                }
            }
            close(descriptor)
        }
        writer.start()
        #expect(try SafeTensors.read(fifo)["w"]?.values == big)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status")))
    func readsProcFilesThatReportNoSize() throws {
        let text = String(decoding: try FileBytes.read("/proc/self/status", what: "status"), as: UTF8.self)
        #expect(text.contains("Pid:"), "\(text.prefix(200))")
    }

    @Test func unreadablePathsAreNamedWithTheReason() throws {
        let directory = try Scratch.directory()
        let asDirectory = Scratch.errorText { _ = try SafeTensors.read(directory) }
        #expect(asDirectory == "cannot read weights '\(directory)': is a directory", "\(asDirectory)")
        let missing = Scratch.errorText { _ = try NumPyArray.read("\(directory)/missing.npy") }
        #expect(missing == "cannot read array '\(directory)/missing.npy': no such file or directory", "\(missing)")
        try write([1], to: "\(directory)/file")
        let underFile = Scratch.errorText { _ = try IDXFile.read("\(directory)/file/x", expectedDimensions: 1) }
        #expect(underFile.contains("'\(directory)/file/x'") && underFile.contains("not a directory"), "\(underFile)")
        let long = "\(directory)/" + String(repeating: "n", count: 5000)
        let tooLong = Scratch.errorText { _ = try NumPyArray.read(long) }
        #expect(tooLong.contains(long) && tooLong.contains("too long"), "\(tooLong.suffix(80))")
        let cifar = Scratch.errorText { _ = try CIFARBinary.cifar10.read(directory: directory, training: true) }
        #expect(cifar.contains("'\(directory)' has no readable data_batch_1.bin: no such file or directory"), "\(cifar)")
        let endless = Scratch.errorText { _ = try FileBytes.read("/dev/zero", what: "weights", limit: 1 << 20) }
        #expect(endless.contains("'/dev/zero'") && endless.contains("1.0 MiB"), "\(endless)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/mem")))
    func readErrorsNameTheFile() {
        // Byte 0 of a process's memory is never mapped: opening works, reading fails (EIO on Linux).
        let text = Scratch.errorText { _ = try NumPyArray.read("/proc/self/mem") }
        #expect(text.contains("/proc/self/mem"), "\(text)")
    }

    @Test(.enabled(if: geteuid() != 0, "root reads files whatever their permissions"))
    func unreadableFilesSayPermissionDenied() throws {
        let path = try Scratch.directory() + "/secret.safetensors"
        try write([0], to: path)
        try #require(chmod(path, 0) == 0)
        let text = Scratch.errorText { _ = try SafeTensors.read(path) }
        #expect(text == "cannot read weights '\(path)': permission denied", "\(text)")
    }
}
