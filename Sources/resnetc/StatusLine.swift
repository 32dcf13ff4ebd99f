import Foundation

/// Progress on standard output: on a terminal one line redrawn in place (a final line stays);
/// in a pipe or file, final lines and one progress line every 10 s, each written at once.
enum StatusLine {
    static func show(_ line: String, final: Bool, interactive: Bool, lastPlain: inout Date) {
        if interactive {
            FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line + (final ? "\n" : "")).utf8))
        } else if final || Date().timeIntervalSince(lastPlain) > 10 {
            // Written straight away: print's buffer would hold them in a pipe or file until the run ends.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
            lastPlain = Date()
        }
    }
}
