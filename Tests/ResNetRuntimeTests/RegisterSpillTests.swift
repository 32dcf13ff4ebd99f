import Foundation
import ResNetCodegen
import ResNetPasses
import ResNetRuntime
import Testing
import TestSupport

/// The register tiles are sized so their accumulators stay in registers: compiled for this
/// machine's target, with the flags resnetc uses, no packed-float FMA of a generated model reads an
/// operand from the stack. A tile too large for the register file (or a loop GCC unrolls into
/// spills) shows up here as `vfmadd…ps (%rsp)` in the assembly, long before a benchmark notices.
/// Scalar double FMAs (`…sd`) are one-time weight transforms at load time, whose constant
/// tables GCC may keep on the stack; they are not kernels and are not checked. The Winograd
/// weight packing, float vectors since it runs every training step, is checked like a kernel.
@Suite struct RegisterSpillTests {
    @Test(arguments: ["specs/cifar-resnet20.yaml", "specs/resnet50.yaml"])
    func noFMAReadsASpilledAccumulator(_ spec: String) throws {
        let compiler = try CCompiler()
        let target = compiler.target
        try #require(target.instructionSets.contains("fma"), "the host compiler does not target FMA; nothing to check")
        let graph = try #require(Pipeline.frontEnd(file: Fixtures.path(spec)).graph)
        let program = try Pipeline.inferenceProgram(graph, layout: target.codegen.layout)
        let source = try CodeGenerator.generate(graph: program.graph, plan: program.plan, target: target.codegen)
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try source.c.write(toFile: "\(directory)/model.c", atomically: true, encoding: .utf8)
        try source.header.write(toFile: "\(directory)/model.h", atomically: true, encoding: .utf8)
        let build = try compiler.run(compiler.executable, compiler.flags + ["-S", "-o", "\(directory)/model.s", "\(directory)/model.c"])
        try #require(build.status == 0, "\(build.output)")
        let assembly = try String(contentsOfFile: "\(directory)/model.s", encoding: .utf8).split(separator: "\n")
        let fmas = assembly.filter { $0.contains("vfmadd") && $0.contains("ps\t") }
        let spilled = fmas.filter { $0.contains("(%rsp)") || $0.contains("(%rbp)") }
        #expect(fmas.count > 100, "\(spec): the kernels compiled to FMAs")
        #expect(spilled.isEmpty, "\(spec): \(spilled.count) of \(fmas.count) FMAs read the stack, e.g. \(spilled.prefix(3))")
    }
}
