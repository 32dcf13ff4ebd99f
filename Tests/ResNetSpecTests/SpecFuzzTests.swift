import Foundation
import ResNetDiagnostics
@testable import ResNetSpec
import Testing
import TestSupport

/// Throws arbitrary input at the spec reader: mutated valid specs, random bytes, deep nesting,
/// huge numbers and alias bombs. Every input must end in a spec or in located errors, never a
/// crash or a hang. The generator is seeded, so a failure reproduces.
@Suite struct SpecFuzzTests {
    /// SplitMix64: a small, seedable generator so every run sees the same inputs.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds = Fixtures.files(in: "specs", withExtension: "yaml")
        .map { try! String(contentsOfFile: Fixtures.path("specs/\($0)"), encoding: .utf8) }
        .filter { !$0.contains("extends:") }

    static let tokens = ["{", "}", "[", "]", ":", "- ", "&a ", "*a", "\n", "  ", "'", "\"", "#", "null", "-1",
                         "99999999999999999999999", "1e400", ".nan", "0", "filters", "stride: 0", "\t", "\u{0}", "é", "---"]

    /// Loads from bytes exactly as a file would be, and checks the outcome's shape.
    func expectWellFormedOutcome(_ bytes: [UInt8], _ label: String) {
        let outcome: (spec: ModelSpec?, diagnostics: [Diagnostic])
        do {
            let tree = try YAMLReader(file: "fuzz.yaml").read(bytes: bytes)
            outcome = SpecLoader().decode(tree, defaultName: "fuzz")
        } catch {
            outcome = (nil, error.diagnostics)
        }
        if outcome.spec == nil {
            #expect(!outcome.diagnostics.isEmpty, "\(label): rejected without a diagnostic")
            #expect(outcome.diagnostics.allSatisfy { $0.location != nil }, "\(label): unlocated diagnostic")
        }
    }

    @Test func mutatedValidSpecs() {
        var rng = SplitMix(state: 0x5EED)
        for round in 0..<2000 {
            var bytes = Array(Self.seeds[round % Self.seeds.count].utf8)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0...bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes.insert(contentsOf: Array(Self.tokens.randomElement(using: &rng)!.utf8), at: at)
                case 1: if at < bytes.count { bytes.remove(at: at) }
                default: if at < bytes.count { bytes[at] = UInt8.random(in: 0...255, using: &rng) }
                }
            }
            expectWellFormedOutcome(bytes, "mutation round \(round)")
        }
    }

    @Test func randomBytes() {
        var rng = SplitMix(state: 0xB17E5)
        for round in 0..<500 {
            let bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            expectWellFormedOutcome(bytes, "random round \(round)")
        }
    }

    @Test func pathologicalShapes() {
        let cases = [
            String(repeating: "- ", count: 5000) + "x",
            String(repeating: "{a: ", count: 3000) + "1" + String(repeating: "}", count: 3000),
            "classes: " + String(repeating: "9", count: 10_000),
            "stages: [" + Array(repeating: "{filters: 1, blocks: 100000}", count: 64).joined(separator: ", ") + "]",
            "a: &a [" + Array(repeating: "x", count: 400).joined(separator: ",") + "]\nb: &b [" + Array(repeating: "*a", count: 400).joined(separator: ",") + "]",
            String(repeating: "k: v\n", count: 20_000),
        ]
        for (i, text) in cases.enumerated() { expectWellFormedOutcome(Array(text.utf8), "case \(i)") }
    }
}
