import Foundation
import ResNetDiagnostics
import ResNetRuntime

/// The JSON files an ablation keeps beside its runs (ablation.json, variant.json): read with a
/// size cap and checked by StrictJSON (no key twice, bounded nesting) before decoding, written
/// pretty-printed with sorted keys, atomically.
enum RecordFile {
    /// The value at `path`, nil if there is no such file; a file that does not decode, or that
    /// `validate` rejects, is an error `failure` words from the reason.
    static func read<Value: Decodable>(_ type: Value.Type, path: String, what: String, limit: Int, validate: (Value) throws -> Void = { _ in },
                                       failure: (String) -> String) throws -> Value? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let data = try FileBytes.read(path, what: what, limit: limit)
            if let problem = StrictJSON.problem(in: data) { throw RuntimeError(problem) }
            let value = try JSONDecoder().decode(Value.self, from: data)
            try validate(value)
            return value
        } catch {
            throw RuntimeError(failure((error as? RuntimeError)?.message ?? "\(error)"))
        }
    }

    static func write(_ value: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(value) + Data("\n".utf8), to: path)
    }
}
