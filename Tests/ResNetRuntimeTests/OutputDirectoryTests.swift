import Foundation
import ResNetRuntime
import Testing
import TestSupport

/// What resnetc may do to directories it writes into: replace only its own artifacts, never a
/// folder that merely looks like one, and never share or overwrite a run directory.
@Suite struct OutputDirectoryTests {

    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func aFolderWithAManifestIsNotAnArtifact() throws {
        let app = try Scratch.directory()
        try write("{}", "\(app)/manifest.json")
        try write("x", "\(app)/src/a.js")
        let text = Scratch.errorText { try AtomicFile.writeDirectory(at: app, refusal: Artifact.notReplaceableReason) { _ in } }
        #expect(text.contains("refusing to replace") && text.contains("src"), "\(text)")
        #expect(FileManager.default.fileExists(atPath: "\(app)/src/a.js"))
    }

    @Test func anArtifactAUserAddedFilesToIsNotReplaced() throws {
        let artifact = try Scratch.directory() + "/model"
        try AtomicFile.writeDirectory(at: artifact) { staging in
            let manifest = "{\"format\": \"resnetc-artifact\", \"version\": \(Artifact.Manifest.version)}"
            try AtomicFile.writeNew(Data(manifest.utf8), to: "\(staging)/manifest.json")
        }
        try write("my notes", "\(artifact)/notes.txt")
        let text = Scratch.errorText { try AtomicFile.writeDirectory(at: artifact, refusal: Artifact.notReplaceableReason) { _ in } }
        #expect(text.contains("notes.txt"), "\(text)")
        #expect(try String(contentsOfFile: "\(artifact)/notes.txt", encoding: .utf8) == "my notes")
    }

    @Test func aFileInTheWayIsNamed() throws {
        let file = try Scratch.directory() + "/plain"
        try write("x", file)
        let artifact = Scratch.errorText { try AtomicFile.writeDirectory(at: file, refusal: Artifact.notReplaceableReason) { _ in } }
        #expect(artifact.contains("it is a file"), "\(artifact)")
        let run = Scratch.errorText { _ = try RunDirectory(file, mode: .start) }
        #expect(run.contains("'\(file)'") && run.contains("in the way"), "\(run)")
    }

    @Test func aRunDirectoryWithARunIsResumedRestartedOrRefused() throws {
        let directory = try Scratch.directory() + "/run"
        do {
            let run = try RunDirectory(directory, mode: .start)
            try MetricsLog().write(to: run.metricsPath)
            try SafeTensors.serialize([], metadata: ["format": Checkpoint.format]).write(to: URL(fileURLWithPath: run.checkpointPath))
        }
        try write("keep me", "\(directory)/notes.txt")
        let again = Scratch.errorText { _ = try RunDirectory(directory, mode: .start) }
        #expect(again.contains("already holds a run") && again.contains("--resume") && again.contains("--restart"), "\(again)")
        #expect(Scratch.errorText { _ = try RunDirectory(directory, mode: .resume) } == "")
        _ = try RunDirectory(directory, mode: .restart)
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/metrics.csv"))
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/checkpoint.safetensors"))
        #expect(try String(contentsOfFile: "\(directory)/notes.txt", encoding: .utf8) == "keep me", "--restart removes only resnetc's files")
        let nothing = Scratch.errorText { _ = try RunDirectory(directory, mode: .resume) }
        #expect(nothing.contains("nothing to resume"), "\(nothing)")
        let mistyped = Scratch.errorText { _ = try RunDirectory(directory + "-typo", mode: .resume) }
        #expect(mistyped.contains("does not exist") && !FileManager.default.fileExists(atPath: directory + "-typo"), "\(mistyped)")
    }

    @Test func restartLeavesAUsersFileOfTheSameNameAlone() throws {
        let directory = try Scratch.directory()
        try write("my pretrained weights", "\(directory)/weights.safetensors")
        let text = Scratch.errorText { _ = try RunDirectory(directory, mode: .restart) }
        #expect(text.contains("leaves '\(directory)/weights.safetensors' alone"), "\(text)")
        #expect(try String(contentsOfFile: "\(directory)/weights.safetensors", encoding: .utf8) == "my pretrained weights")
    }

    @Test func anEmptyDirectoryIsReplaceableAndAFIFONamedLikeAnArtifactFileIsNot() throws {
        let empty = try Scratch.directory()
        #expect(Artifact.notReplaceableReason(empty) == nil)
        let fifo = try Scratch.directory()
        #expect(mkfifo("\(fifo)/manifest.json", 0o644) == 0)
        #expect(Artifact.notReplaceableReason(fifo)?.contains("not a regular file") == true, "checked without opening it")
    }

    @Test func twoRunsNeverShareADirectory() throws {
        let directory = try Scratch.directory() + "/run"
        var first: RunDirectory? = try RunDirectory(directory, mode: .start)
        let second = Scratch.errorText { _ = try RunDirectory(directory, mode: .start) }
        #expect(second.contains("in use by another resnetc run (process \(getpid()))"), "\(second)")
        _ = first
        first = nil
        #expect(Scratch.errorText { _ = try RunDirectory(directory, mode: .start) } == "", "the lock goes with its holder")
    }
}
