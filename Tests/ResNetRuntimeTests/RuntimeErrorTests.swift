import Foundation
import ResNetCodegen
import ResNetIR
import ResNetPasses
import ResNetRuntime
import Testing
import TestSupport

/// Every failure a user can cause names the file, tensor or command, and leaves nothing behind.
@Suite struct RuntimeErrorTests {
    func smallGraph() throws -> Graph {
        try #require(Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small())).graph)
    }


    @Test func missingCompilerIsNamed() {
        let text = Scratch.errorText { _ = try CCompiler(environment: ["CC": "/nonexistent/bin/cc", "PATH": "/usr/bin"]) }
        #expect(text.contains("/nonexistent/bin/cc") && text.contains("not found"), "\(text)")
    }

    @Test func failingCompilerShowsCommandAndStderr() throws {
        let compiler = try CCompiler(flags: ["-O0"], environment: ProcessInfo.processInfo.environment.merging(
            ["RESNETC_CACHE": try Scratch.directory()]) { _, new in new })
        let text = Scratch.errorText { _ = try compiler.compileSharedLibrary(source: "int broken( {", header: "") }
        #expect(text.contains("the C compiler failed"), "\(text)")
        #expect(text.contains("-shared") && text.contains("model.c"), "the command is shown: \(text)")
        #expect(text.contains("error"), "its stderr is shown: \(text)")
    }

    @Test func weightFileProblemsAreAllNamedWithShapes() throws {
        let graph = try smallGraph()
        var tensors = graph.parameters.map { (name: graph[$0].name, shape: graph[$0].type.dims, values: [Float](repeating: 0, count: graph[$0].type.elementCount)) }
        tensors.removeAll { $0.name == "fc.bias" }
        let conv = try #require(tensors.firstIndex { $0.name == "conv1.weight" })
        tensors[conv] = (name: "conv1.weight", shape: [8, 1, 3, 3], values: [Float](repeating: 0, count: 72))
        tensors.append((name: "fc.weigth", shape: [1], values: [0]))
        let path = try Scratch.directory() + "/w.safetensors"
        try SafeTensors.serialize(tensors).write(to: URL(fileURLWithPath: path))
        let text = Scratch.errorText { _ = try ParameterValues.load(safetensors: path, for: graph) }
        #expect(text.contains("missing tensor 'fc.bias' (expected shape [5])"), "\(text)")
        #expect(text.contains("tensor 'conv1.weight' has shape [8, 1, 3, 3]; the model expects [8, 3, 3, 3]"), "\(text)")
        #expect(text.contains("unknown tensor 'fc.weigth'; did you mean 'fc.weight'?"), "\(text)")
    }

    @Test func truncatedWeightFileIsReported() throws {
        let graph = try smallGraph()
        let values = WeightInitializer.initialize(graph, spec: try #require(Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small())).spec), seed: 0)
        let path = try Scratch.directory() + "/w.safetensors"
        try values.write(safetensors: path, for: graph)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: path))
        let text = Scratch.errorText { _ = try SafeTensors.read(path) }
        #expect(text.contains("truncated"), "\(text)")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(Scratch.errorText { _ = try SafeTensors.read(path) }.contains("too short"))
    }

    @Test func safetensorsRoundTrip() throws {
        let data = try SafeTensors.serialize([(name: "a", shape: [2, 2], values: [1, 2, 3, 4]), (name: "b", shape: [1], values: [-0.5])])
        let entries = try SafeTensors.parse(data, file: "mem")
        #expect(entries["a"]?.shape == [2, 2] && entries["a"]?.values == [1, 2, 3, 4])
        #expect(entries["b"]?.values == [-0.5])
    }

    @Test func numpyArraysRoundTripAndWrongOnesAreNamed() throws {
        let directory = try Scratch.directory()
        let array = NumPyArray(shape: [2, 1, 2, 3], values: (0..<12).map(Float.init))
        try array.serialized().write(to: URL(fileURLWithPath: "\(directory)/x.npy"))
        #expect(try NumPyArray.readImages("\(directory)/x.npy", imageDims: [1, 2, 3]) == array)
        let wrongShape = Scratch.errorText { _ = try NumPyArray.readImages("\(directory)/x.npy", imageDims: [3, 32, 32]) }
        #expect(wrongShape.contains("[2, 1, 2, 3]") && wrongShape.contains("(N, 3, 32, 32)"), "\(wrongShape)")
        var float64 = array.serialized()
        float64.replaceSubrange(float64.range(of: Data("<f4".utf8))!, with: Data("<f8".utf8))
        try float64.write(to: URL(fileURLWithPath: "\(directory)/d.npy"))
        #expect(Scratch.errorText { _ = try NumPyArray.read("\(directory)/d.npy") }.contains("'<f8'"))
        try Data("not numpy".utf8).write(to: URL(fileURLWithPath: "\(directory)/n.npy"))
        #expect(Scratch.errorText { _ = try NumPyArray.read("\(directory)/n.npy") }.contains("not a .npy file"))
    }

    @Test func hostileSpecNamesNeverReachCUnescaped() throws {
        // A comment terminator, a directive, a quote, a backslash, a trigraph, a control byte, non-ASCII.
        let spec = TestSpecs.small() + "\nname: \"evil */ #error \\\" \\\\ ??= \\x01 é\"\n"
        let graph = try #require(Pipeline.frontEnd(file: try TestSpecs.file(spec)).graph)
        let program = try Pipeline.inferenceProgram(graph, layout: Target.generic.layout)
        let source = try CodeGenerator.generate(graph: program.graph, plan: program.plan, target: .generic)
        let compiler = try CCompiler(flags: ["-O0", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas"], machine: .generic,
                                     environment: ProcessInfo.processInfo.environment.merging(["RESNETC_CACHE": try Scratch.directory()]) { _, new in new })
        let library = try compiler.compileSharedLibrary(source: source.c, header: source.header)
        let model = try CompiledModel(library: library.path)
        #expect(model.name == "evil */ #error \" \\ ??= \u{1} é", "the name survives, escaped, as a C string")
        #expect(model.outputFloats == 5)
    }

    @Test func artifactsReplaceAtomically() throws {
        let directory = try Scratch.directory() + "/artifact"
        try AtomicFile.writeDirectory(at: directory) { try "one".write(toFile: "\($0)/file", atomically: false, encoding: .utf8) }
        try AtomicFile.writeDirectory(at: directory, refusal: { _ in nil }) {
            try "two".write(toFile: "\($0)/file", atomically: false, encoding: .utf8)
        }
        #expect(try String(contentsOfFile: "\(directory)/file", encoding: .utf8) == "two")
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try AtomicFile.writeDirectory(at: directory, refusal: { _ in nil }) { staging in
                try "three".write(toFile: "\(staging)/file", atomically: false, encoding: .utf8)
                throw Interrupted()
            }
        }
        #expect(try String(contentsOfFile: "\(directory)/file", encoding: .utf8) == "two")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (directory as NSString).deletingLastPathComponent)
        #expect(leftovers == ["artifact"], "no temporary directories are left: \(leftovers)")
    }

    @Test func neverReplacesWhatIsNotAnArtifact() throws {
        let project = try Scratch.directory()
        try "precious".write(toFile: "\(project)/notes.txt", atomically: true, encoding: .utf8)
        let text = Scratch.errorText { try AtomicFile.writeDirectory(at: project, refusal: Artifact.notReplaceableReason) { _ in } }
        #expect(text.contains("refusing to replace"), "\(text)")
        #expect(try String(contentsOfFile: "\(project)/notes.txt", encoding: .utf8) == "precious")
        #expect(Artifact.directoryName(for: "..") == "model" && Artifact.directoryName(for: "a/../b") == "a_.._b")
        #expect(Artifact.directoryName(for: "cifar-resnet20") == "cifar-resnet20")
    }
}
