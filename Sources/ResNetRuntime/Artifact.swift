import Foundation
import ResNetDiagnostics
import ResNetIR

/// What `resnetc compile` writes: model.c, model.h, the shared library, the packed weights and a
/// manifest (with `--train` also the training step's train.c, train.h, libtrain.so and initial
/// parameter region), all swapped into place at once so a reader never sees half an artifact.
public enum Artifact {
    public static let manifestName = "manifest.json"
    public static let libraryName = "libmodel.so"
    public static let weightsName = "weights.packed"
    public static let trainingLibraryName = "libtrain.so"
    public static let parameterRegionName = "parameters.f32"

    /// The artifact's description: what was compiled, how, and the sizes a loader checks.
    public struct Manifest: Codable, Sendable {
        /// What `format` and `version` must say for a directory to be recognised as an artifact.
        public static let format = "resnetc-artifact", version = 2
        public var format = Manifest.format
        public var version = Manifest.version
        /// The C ABI of libmodel.so (`rc_abi_version`).
        public var abi = CompiledModel.abiVersion
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
        /// The instruction-set extensions libmodel.so may use (`CompilerTarget`); loading it on a
        /// CPU without one of them is refused.
        public var instructionSets: [String]
        /// SHA-256 of libmodel.so and weights.packed, checked before either is used.
        public var librarySHA256 = ""
        public var weightsSHA256 = ""
        /// The training step, when compiled with `--train`.
        public var training: Training?
        /// The inputs' normalisation and the class names, when known (`predict --image` needs them).
        public var data: DataDescription?

        /// One raw parameter, in `rc_pack` order.
        public struct RawParameter: Codable, Sendable {
            public var name: String
            public var shape: [Int]
        }

        /// The training step of a `--train` artifact: libtrain.so (the ABI in train.h) and its
        /// flat parameter region, whose gradient and momentum regions have the same layout.
        public struct Training: Codable, Sendable {
            /// Floats in the parameter region (`rc_param_floats`).
            public var parameterFloats: Int
            /// Each parameter tensor's place in the region, in state-dict order.
            public var parameters: [RegionParameter]
            /// SHA-256 of libtrain.so and of parameters.f32 (the initial region, float32 in the
            /// machine's byte order, as weights.packed).
            public var librarySHA256 = ""
            public var parametersSHA256 = ""

            enum CodingKeys: String, CodingKey {
                case parameters
                case parameterFloats = "parameter_floats"
                case librarySHA256 = "library_sha256", parametersSHA256 = "parameters_sha256"
            }
        }

        /// One tensor of the training parameter region: its state-dict name, shape and offset in floats.
        public struct RegionParameter: Codable, Sendable {
            public var name: String
            public var shape: [Int]
            public var offset: Int
        }

        enum CodingKeys: String, CodingKey {
            case format, version, abi, name, overrides, compiler, flags, kernels, arena, params, macs, input, outputs, weights
            case specHash = "spec_sha256", specFile = "spec_file", compileSeconds = "compile_seconds", libraryCached = "library_cached"
            case arenaBytesPerImage = "arena_bytes_per_image", unplannedBytesPerImage = "unplanned_bytes_per_image"
            case trainingArenaBytesPerImage = "training_arena_bytes_per_image"
            case packedFloats = "packed_floats", rawParameters = "raw_parameters", instructionSets = "instruction_sets"
            case librarySHA256 = "library_sha256", weightsSHA256 = "weights_sha256", training, data
        }
    }

    /// The training step a `--train` artifact carries: its build and initial parameter region.
    public struct TrainingPart {
        public let build: TrainingBuild
        public let region: [Float]

        public init(build: TrainingBuild, region: [Float]) {
            self.build = build
            self.region = region
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
            rawParameters: build.source.rawParameters.map { Manifest.RawParameter(name: $0.name, shape: $0.dims) },
            instructionSets: build.compiler.target.instructionSets)
    }

    /// A directory name for a model: the name with anything but letters, digits, `-`, `_` and
    /// `.` replaced, and never empty, `.` or `..` (a spec's name must not point outside `out/`).
    public static func directoryName(for modelName: String) -> String {
        let cleaned = String(modelName.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
        return cleaned.allSatisfy({ $0 == "." }) ? "model" : cleaned
    }

    /// Every file `write` puts in an artifact; a directory holding anything else is not one.
    public static let fileNames: Set<String> = ["model.c", "model.h", libraryName, weightsName, manifestName,
                                                 "train.c", "train.h", trainingLibraryName, parameterRegionName]

    /// Why `path` is not an artifact resnetc may replace, or nil if it is one: a directory whose
    /// manifest decodes with this format and version and which holds only the files resnetc
    /// writes. Recognised by content, never by a file name alone, so a project folder that
    /// happens to hold a `manifest.json` (or a real artifact a user added files to) is refused.
    public static func notReplaceableReason(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "it does not exist" }
        guard isDirectory.boolValue else { return "it is a file, not a directory" }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            return "its contents cannot be listed"
        }
        if names.isEmpty { return nil }  // an empty directory: replacing it loses nothing
        let foreign = names.filter { !fileNames.contains($0) }.sorted()
        if !foreign.isEmpty {
            let shown = foreign.prefix(5).joined(separator: ", ") + (foreign.count > 5 ? ", …" : "")
            return "it holds files resnetc did not write (\(shown))"
        }
        for name in names {
            var info = stat()
            guard lstat("\(path)/\(name)", &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                return "its '\(name)' is not a regular file, so resnetc did not write it"
            }
        }
        guard let data = try? FileBytes.read("\(path)/\(manifestName)", what: "manifest"),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data),
              manifest.format == Manifest.format, manifest.version == Manifest.version else {
            return "it has no resnetc manifest (\(manifestName) with format \"\(Manifest.format)\", version \(Manifest.version))"
        }
        return nil
    }

    public static func write(to directory: String, build: InferenceBuild, packed: [Float], manifest: Manifest, training: TrainingPart? = nil) throws {
        let library = try FileBytes.read(build.library, what: "compiled library")
        let weights = packed.withUnsafeBytes { Data($0) }
        var manifest = manifest
        manifest.librarySHA256 = SHA256.hex(library)
        manifest.weightsSHA256 = SHA256.hex(weights)
        var files: [(String, Data)] = [
            ("model.c", Data(build.source.c.utf8)), ("model.h", Data(build.source.header.utf8)), (libraryName, library), (weightsName, weights),
        ]
        if let training {
            let source = training.build.source
            let trainingLibrary = try FileBytes.read(training.build.library, what: "compiled training library")
            let region = training.region.withUnsafeBytes { Data($0) }
            manifest.training = Manifest.Training(
                parameterFloats: source.parameterFloats,
                parameters: source.parameters.map { Manifest.RegionParameter(name: $0.name, shape: $0.dims, offset: $0.offset) },
                librarySHA256: SHA256.hex(trainingLibrary), parametersSHA256: SHA256.hex(region))
            files += [("train.c", Data(source.c.utf8)), ("train.h", Data(source.header.utf8)), (trainingLibraryName, trainingLibrary),
                      (parameterRegionName, region)]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        files.append((manifestName, try encoder.encode(manifest)))
        try AtomicFile.writeDirectory(at: directory, refusal: notReplaceableReason) { staging in
            for (name, data) in files {
                try AtomicFile.writeNew(data, to: "\(staging)/\(name)", reportingAs: "\(directory)/\(name)")
            }
        }
    }

    /// A decoding error as a sentence: which key is missing or has the wrong type.
    static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return "it is not valid JSON" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "key '\((path(context).isEmpty ? "" : path(context) + ".") + key.stringValue)' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "key '\(path(context))' has the wrong type"
        case .dataCorrupted(let context): return path(context).isEmpty ? "it is not valid JSON" : "key '\(path(context))' is malformed"
        @unknown default: return "it cannot be decoded"
        }
    }

    /// Loads an artifact directory, checking every file against its manifest before any is used.
    public static func load(_ directory: String, maxBatch: Int) throws -> (model: CompiledModel, manifest: Manifest) {
        let manifestPath = "\(directory)/\(manifestName)"
        let data = try FileBytes.read(manifestPath, what: "manifest")
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw RuntimeError("\(manifestPath) is not a resnetc manifest: \(describe(error))")
        }
        guard manifest.format == Manifest.format, manifest.version == Manifest.version, manifest.abi == CompiledModel.abiVersion else {
            throw RuntimeError("\(manifestPath) describes a \(manifest.format) version \(manifest.version), ABI \(manifest.abi); this resnetc reads "
                               + "\(Manifest.format) version \(Manifest.version), ABI \(CompiledModel.abiVersion): compile the spec again")
        }
        if let data = manifest.data {
            try data.validate(file: manifestPath)
            guard data.classes.count == manifest.outputs, data.mean.count == manifest.input.first else {
                throw RuntimeError("\(manifestPath): its data description has \(data.classes.count) classes and \(data.mean.count) channels; "
                                   + "the model has \(manifest.outputs) outputs and input \(manifest.input)")
            }
        }
        let missing = CompilerTarget.missingOnThisCPU(manifest.instructionSets)
        guard missing.isEmpty else {
            throw RuntimeError("\(directory) was compiled for \(missing.joined(separator: ", ")), which this CPU lacks; compile the spec again on this machine")
        }
        // Both files are checked against the manifest before the library is handed to dlopen:
        // a truncated or replaced library would otherwise crash the process (SIGBUS, SIGSEGV).
        let libraryPath = "\(directory)/\(libraryName)", weightsPath = "\(directory)/\(weightsName)"
        let library = try FileBytes.read(libraryPath, what: "compiled library")
        if let problem = ELFSharedObject.problem(in: library) { throw RuntimeError("\(libraryPath) is not a usable library: \(problem); compile the spec again") }
        let weights = try FileBytes.read(weightsPath, what: "packed weights")
        for (path, bytes, expected) in [(libraryPath, library, manifest.librarySHA256), (weightsPath, weights, manifest.weightsSHA256)]
        where SHA256.hex(bytes) != expected {
            throw RuntimeError("\(path) does not match the SHA-256 its manifest records: it is corrupt or was replaced; compile the spec again")
        }
        let model = try CompiledModel(library: libraryPath)
        guard model.inputFloats == manifest.input.reduce(1, { $0 &* $1 }), model.outputFloats == manifest.outputs else {
            throw RuntimeError("\(manifestPath) says input \(manifest.input) and \(manifest.outputs) outputs; the library takes "
                               + "\(model.inputFloats) input floats and gives \(model.outputFloats): compile the spec again")
        }
        guard weights.count == model.packedFloatCount * 4 else {
            throw RuntimeError("\(weightsPath) holds \(weights.count) bytes; the library expects \(model.packedFloatCount * 4) (truncated?)")
        }
        var packed = [Float](repeating: 0, count: model.packedFloatCount)
        _ = packed.withUnsafeMutableBytes { weights.copyBytes(to: $0) }
        if let bad = packed.firstIndex(where: { !$0.isFinite }) {
            throw RuntimeError("\(weightsPath): packed weight \(bad) is \(packed[bad]); the artifact is corrupt, compile it again")
        }
        try model.load(packed: packed, maxBatch: maxBatch)
        return (model, manifest)
    }
}
