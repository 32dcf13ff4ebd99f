import Foundation
import ResNetIR

/// What `resnetc compile` writes: model.c, model.h, the shared library, the packed weights and a
/// manifest, all swapped into place at once so a reader never sees half an artifact.
public enum Artifact {
    public static let manifestName = "manifest.json"
    public static let libraryName = "libmodel.so"
    public static let weightsName = "weights.packed"

    /// The artifact's description: what was compiled, how, and the sizes a loader checks.
    public struct Manifest: Codable, Sendable {
        public var format = "resnetc-artifact"
        public var version = 1
        public var name: String
        /// SHA-256 of the lowered IR text: equal specs give equal hashes whatever their spelling.
        public var specHash: String
        public var specFile: String
        public var overrides: [String]
        public var compiler: String
        public var flags: [String]
        /// Seconds for passes, code generation and the C compiler (or the cache lookup, see below).
        public var compileSeconds: Double
        /// True when the library came from the compile cache instead of a fresh C compile.
        public var libraryCached: Bool
        public var kernels: Int
        public var arenaBytesPerImage: Int
        public var unplannedBytesPerImage: Int
        /// The training step's arena per image (activations kept for backward and their gradients).
        public var trainingArenaBytesPerImage: Int
        public var arena: String
        public var params: Int
        public var macs: Int
        public var input: [Int]
        public var outputs: Int
        public var packedFloats: Int
        public var weights: String
        public var rawParameters: [RawParameter]

        /// One raw parameter, in `rc_pack` order.
        public struct RawParameter: Codable, Sendable {
            public var name: String
            public var shape: [Int]
        }

        enum CodingKeys: String, CodingKey {
            case format, version, name, overrides, compiler, flags, kernels, arena, params, macs, input, outputs, weights
            case specHash = "spec_sha256", specFile = "spec_file", compileSeconds = "compile_seconds", libraryCached = "library_cached"
            case arenaBytesPerImage = "arena_bytes_per_image", unplannedBytesPerImage = "unplanned_bytes_per_image"
            case trainingArenaBytesPerImage = "training_arena_bytes_per_image"
            case packedFloats = "packed_floats", rawParameters = "raw_parameters"
        }
    }

    /// The manifest describing `build`, compiled from `graph` (the lowered forward graph).
    public static func manifest(for build: InferenceBuild, graph: Graph, trainingArenaBytesPerImage: Int, specFile: String,
                                overrides: [String], packedFloats: Int, weights: String) throws -> Manifest {
        let summary = ModelSummary(graph: graph)
        let plan = build.program.plan
        return Manifest(
            name: graph.name, specHash: SHA256.hex(GraphPrinter.print(graph)), specFile: specFile, overrides: overrides,
            compiler: try build.compiler.identity(), flags: build.compiler.flags,
            compileSeconds: (build.compileSeconds * 1000).rounded() / 1000, libraryCached: build.cached,
            kernels: build.source.kernelCount,
            arenaBytesPerImage: plan.arenaBytesPerImage, unplannedBytesPerImage: plan.unplannedBytesPerImage,
            trainingArenaBytesPerImage: trainingArenaBytesPerImage, arena: plan.report(batch: 1), params: summary.params, macs: summary.macs, input: build.source.inputDims,
            outputs: build.source.outputDims.reduce(1, *), packedFloats: packedFloats, weights: weights,
            rawParameters: build.source.rawParameters.map { Manifest.RawParameter(name: $0.name, shape: $0.dims) })
    }

    /// A directory name for a model: the name with anything but letters, digits, `-`, `_` and
    /// `.` replaced, and never empty, `.` or `..` (a spec's name must not point outside `out/`).
    public static func directoryName(for modelName: String) -> String {
        let cleaned = String(modelName.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
        return cleaned.allSatisfy({ $0 == "." }) ? "model" : cleaned
    }

    public static func isArtifact(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: "\(path)/\(manifestName)")
    }

    public static func write(to directory: String, build: InferenceBuild, packed: [Float], manifest: Manifest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let manifestData = try encoder.encode(manifest)
        try AtomicFile.writeDirectory(at: directory, replaceable: isArtifact) { staging in
            try build.source.c.write(toFile: "\(staging)/model.c", atomically: false, encoding: .utf8)
            try build.source.header.write(toFile: "\(staging)/model.h", atomically: false, encoding: .utf8)
            try FileManager.default.copyItem(atPath: build.library, toPath: "\(staging)/\(libraryName)")
            try packed.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: "\(staging)/\(weightsName)"))
            try manifestData.write(to: URL(fileURLWithPath: "\(staging)/\(manifestName)"))
        }
    }

    /// Loads an artifact directory: its manifest, its library, its packed weights.
    public static func load(_ directory: String, maxBatch: Int) throws -> (model: CompiledModel, manifest: Manifest) {
        let manifestPath = "\(directory)/\(manifestName)"
        guard let data = FileManager.default.contents(atPath: manifestPath) else { throw RuntimeError("cannot read \(manifestPath)") }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw RuntimeError("\(manifestPath) is not a resnetc manifest: \(error)")
        }
        let model = try CompiledModel(library: "\(directory)/\(libraryName)")
        let weightsPath = "\(directory)/\(weightsName)"
        guard let weights = FileManager.default.contents(atPath: weightsPath) else { throw RuntimeError("cannot read \(weightsPath)") }
        guard weights.count == model.packedFloatCount * 4 else {
            throw RuntimeError("\(weightsPath) holds \(weights.count) bytes; the library expects \(model.packedFloatCount * 4) (truncated?)")
        }
        var packed = [Float](repeating: 0, count: model.packedFloatCount)
        _ = packed.withUnsafeMutableBytes { weights.copyBytes(to: $0) }
        try model.load(packed: packed, maxBatch: maxBatch)
        return (model, manifest)
    }
}
