import Foundation
import ResNetCodegen
import ResNetPasses
import ResNetRuntime
import Testing
import TestSupport

/// Compiles the generated C of a small spec with AddressSanitizer and UBSan into a standalone
/// program that packs weights, runs batches of several sizes on two OpenMP threads and rejects a
/// too-large one. ThreadSanitizer is not used: Debian's libgomp is not built with it, so TSan
/// reports libgomp's own barrier and task hand-offs as races (false positives on every kernel).
@Suite struct SanitizerTests {
    static let driver = """
        #include <stdio.h>
        #include <stdlib.h>
        #include "model.h"

        int main(void)
        {
            float *raw = malloc(RC_RAW_PARAM_FLOATS * sizeof(float));
            float *packed = malloc(RC_PACKED_PARAM_FLOATS * sizeof(float));
            float *input = malloc(4 * RC_INPUT_FLOATS * sizeof(float));
            float *output = malloc(4 * RC_OUTPUT_FLOATS * sizeof(float));
            if (!raw || !packed || !input || !output) return 2;
            unsigned state = 12345;
            for (long i = 0; i < RC_RAW_PARAM_FLOATS; i++) { state = state * 1103515245u + 12345u; raw[i] = (float)(state >> 8) / 16777216.0f + 0.5f; }
            for (long i = 0; i < 4 * RC_INPUT_FLOATS; i++) { state = state * 1103515245u + 12345u; input[i] = (float)(state >> 8) / 16777216.0f - 0.5f; }
            rc_set_threads(2);
            if (rc_pack(raw, packed) != 0) return 3;
            rc_model *m = rc_create(packed, 4);
            if (!m) return 4;
            for (int n = 1; n <= 4; n++) if (rc_forward(m, n, input, output) != 0) return 5;
            if (rc_forward(m, 5, input, output) != -1) return 6;
            double sum = 0;
            for (long i = 0; i < 4 * RC_OUTPUT_FLOATS; i++) sum += output[i];
            printf("checksum %f\\n", sum);
            rc_destroy(m);
            free(raw); free(packed); free(input); free(output);
            return sum == sum ? 0 : 7;
        }
        """

    static let trainingDriver = """
        #include <stdio.h>
        #include <stdlib.h>
        #include "train.h"

        int main(void)
        {
            rc_set_threads(2);
            rc_trainer *t = rc_trainer_create(4);
            if (!t) return 2;
            float *p = rc_trainer_params(t);
            unsigned state = 99;
            for (long i = 0; i < RC_PARAM_FLOATS; i++) { state = state * 1103515245u + 12345u; p[i] = (float)(state >> 8) / 16777216.0f * 0.2f + 0.1f; }
            float *input = malloc(4 * RC_INPUT_FLOATS * sizeof(float));
            float logits[4 * RC_OUTPUT_FLOATS];
            int32_t labels[4] = {0, 1, 2, 3 % RC_OUTPUT_FLOATS};
            if (!input) return 3;
            for (long i = 0; i < 4 * RC_INPUT_FLOATS; i++) { state = state * 1103515245u + 12345u; input[i] = (float)(state >> 8) / 16777216.0f - 0.5f; }
            float loss = 0;
            for (int n = 2; n <= 4; n++) {
                if (rc_train_step(t, n, input, labels, &loss, logits) != 0) return 4;
                rc_sgd_step(t, 0.1f, 0.9f, 1e-4f, 1e-4f, n == 3);
            }
            if (rc_train_step(t, 5, input, labels, &loss, logits) != -1) return 5;
            labels[0] = RC_OUTPUT_FLOATS;
            if (rc_train_step(t, 2, input, labels, &loss, logits) != -2) return 6;
            printf("loss %f\\n", loss);
            rc_trainer_destroy(t);
            free(input);
            return loss == loss ? 0 : 7;
        }
        """

    @Test(arguments: ["shortcut: A", "block: bottleneck\nshortcut: C\nstem:\n  conv: {filters: 8, kernel: 7, stride: 2, padding: 3}\n  pool: {kernel: 3, stride: 2, padding: 1}"])
    func generatedTrainingCIsCleanUnderSanitizers(_ extra: String) throws {
        let result = Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small(input: "{channels: 3, height: 13, width: 11}"), overriding: extra), withLoss: true)
        let training = try Differentiate.run(try #require(result.graph))
        let source = try TrainingCodeGenerator.generate(training, plan: PlanMemory.run(training.graph, layout: Target.host.layout), target: .host)
        try compileAndRun(source.c, header: source.header, headerName: "train.h", driver: Self.trainingDriver, expecting: "loss")
    }

    func compileAndRun(_ c: String, header: String, headerName: String, driver: String, expecting prefix: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resnetc-asan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try c.write(toFile: "\(directory)/model.c", atomically: true, encoding: .utf8)
        try header.write(toFile: "\(directory)/\(headerName)", atomically: true, encoding: .utf8)
        try driver.write(toFile: "\(directory)/main.c", atomically: true, encoding: .utf8)
        let compiler = try CCompiler()
        let flags = ["-O1", "-g", "-march=native", "-fopenmp", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-Wall", "-Wextra", "-Werror",
                     "-Wno-unknown-pragmas", "-o", "\(directory)/model", "\(directory)/model.c", "\(directory)/main.c", "-lm"]
        let build = try compiler.run(compiler.executable, flags)
        #expect(build.status == 0, "\(build.output)")
        guard build.status == 0 else { return }
        let run = try compiler.run("\(directory)/model", [])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.hasPrefix(prefix), "\(run.output)")
    }

    @Test(arguments: ["shortcut: A", "block: bottleneck\nshortcut: C\nstem:\n  conv: {filters: 8, kernel: 7, stride: 2, padding: 3}\n  pool: {kernel: 3, stride: 2, padding: 1}"])
    func generatedCIsCleanUnderSanitizers(_ extra: String) throws {
        let result = Pipeline.frontEnd(file: try TestSpecs.file(TestSpecs.small(input: "{channels: 3, height: 13, width: 11}"), overriding: extra))
        let graph = try #require(result.graph)
        let program = try Pipeline.inferenceProgram(graph, layout: Target.host.layout)
        let source = try CodeGenerator.generate(graph: program.graph, plan: program.plan, target: .host)
        try compileAndRun(source.c, header: source.header, headerName: "model.h", driver: Self.driver, expecting: "checksum")
    }
}
