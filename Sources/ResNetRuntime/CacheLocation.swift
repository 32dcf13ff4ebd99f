import Foundation

/// Where resnetc keeps what it can rebuild (compiled libraries, decoded image folders):
/// `$RESNETC_CACHE`, else `$XDG_CACHE_HOME/resnetc`, else `~/.cache/resnetc`.
public enum CacheLocation {
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let home = nonEmpty("HOME") ?? NSTemporaryDirectory()
        return nonEmpty("RESNETC_CACHE") ?? (nonEmpty("XDG_CACHE_HOME") ?? home + "/.cache") + "/resnetc"
    }
}
