import Foundation
import ResNetRuntime
import Testing
import TestSupport

/// The hand-written kernels compiled and tested on their own, outside any generated model: each
/// C test in Tests/KernelTests includes Sources/ResNetKernels and compares a kernel with a naive
/// loop. Every vector width compiles warning-free for its machine on any host (AVX-512 code on
/// an AVX2-only CPU too) and runs where the CPU can execute it; once more under ASan and UBSan.
@Suite struct KernelStandaloneTests {
    static let tests = Fixtures.files(in: "Tests/KernelTests", withExtension: "c")

    @Test(arguments: tests, TestMachines.all)
    func kernelMatchesItsNaiveLoopAtEveryWidth(_ file: String, _ machine: TargetMachine) throws {
        let compiler = try CCompiler(machine: machine)
        let lanes = compiler.target.vectorLanes
        let binary = try build(file, flags: machine.applied(to: ["-O3", "-DRC_LANES=\(lanes)"]))
        guard TestMachines.runnable.contains(machine) else {
            print("\(file): \(lanes) lanes (\(machine.rawValue)) compiled warning-free; this CPU cannot run it")
            return
        }
        try expectPasses(binary, lanes: lanes)
    }

    @Test(arguments: tests)
    func kernelIsCleanUnderSanitizers(_ file: String) throws {
        let lanes = try CCompiler().target.vectorLanes
        let binary = try build(file, flags: ["-O1", "-g", "-march=native", "-DRC_LANES=\(lanes)", "-fsanitize=address,undefined",
                                             "-fno-sanitize-recover=all"])
        try expectPasses(binary, lanes: lanes)
    }

    /// Compiles one kernel test with `flags` (warnings are errors) and returns the binary.
    func build(_ file: String, flags: [String]) throws -> String {
        let directory = try Scratch.directory()
        let compiler = try CCompiler()
        let binary = "\(directory)/test"
        let result = try compiler.run(compiler.executable, flags + ["-fopenmp", "-Wall", "-Wextra", "-Werror",
                                                                    "-I", Fixtures.path("Sources/ResNetKernels"),
                                                                    "-o", binary, Fixtures.path("Tests/KernelTests/\(file)"), "-lm"])
        try #require(result.status == 0, "\(result.output)")
        return binary
    }

    func expectPasses(_ binary: String, lanes: Int) throws {
        defer { try? FileManager.default.removeItem(atPath: (binary as NSString).deletingLastPathComponent) }
        let run = try CCompiler().run(binary, [])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains(" passed, 0 failed at \(lanes) lanes"), "\(run.output)")
    }
}
