import Foundation
import ResNetRuntime
import Testing
import TestSupport

/// The hand-written kernels compiled and tested on their own, outside any generated model: each
/// C test in Tests/KernelTests includes Sources/ResNetKernels and compares a kernel with a naive
/// loop, at the flags resnetc compiles models with, and once more under ASan and UBSan.
@Suite struct KernelStandaloneTests {
    static let tests = Fixtures.files(in: "Tests/KernelTests", withExtension: "c")

    @Test(arguments: tests, [["-O3", "-march=native"], ["-O1", "-g", "-march=native", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]])
    func kernelMatchesItsNaiveLoop(_ file: String, _ flags: [String]) throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let compiler = try CCompiler()
        let build = try compiler.run(compiler.executable, flags + ["-fopenmp", "-Wall", "-Wextra", "-Werror",
                                                                   "-I", Fixtures.path("Sources/ResNetKernels"),
                                                                   "-o", "\(directory)/test", Fixtures.path("Tests/KernelTests/\(file)"), "-lm"])
        try #require(build.status == 0, "\(build.output)")
        let run = try compiler.run("\(directory)/test", [])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains(" passed, 0 failed"), "\(run.output)")
    }
}
