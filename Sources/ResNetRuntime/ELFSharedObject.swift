import Foundation

/// The check a freshly compiled library must pass before it enters the compile cache: a complete
/// ELF shared object for this machine. dlopen maps a library's segments straight from the file,
/// so a truncated one loads and then dies with SIGBUS when a missing page is touched; checking
/// every table and loadable segment against the file's size turns that into an error message.
enum ELFSharedObject {
    /// Nil if `contents` is a well-formed shared object for this machine; else why not, in words.
    static func problem(in contents: Data) -> String? {
        let bytes = [UInt8](contents)
        guard bytes.count >= 16 else { return bytes.isEmpty ? "it is empty" : "it is only \(bytes.count) bytes long" }
        guard bytes[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46]) else {
            return "it is not an ELF file (it starts with \(bytes[0..<4].map { String(format: "%02x", $0) }.joined(separator: " ")))"
        }
        let is64 = MemoryLayout<Int>.size == 8
        guard bytes[4] == (is64 ? 2 : 1) else {
            let classes: [UInt8: String] = [1: "a 32-bit ELF file", 2: "a 64-bit ELF file"]
            let kind = classes[bytes[4]] ?? "an ELF file of unknown class \(bytes[4])"
            return "it is \(kind); this machine loads \(is64 ? 64 : 32)-bit ones"
        }
        let littleEndian = 1.littleEndian == 1
        guard bytes[5] == (littleEndian ? 1 : 2) else { return "its byte order is not this machine's" }
        let layout = is64 ? Layout.elf64 : Layout.elf32
        guard bytes.count >= layout.headerSize else { return "it is truncated inside its ELF header (\(bytes.count) bytes)" }
        let file = Reader(bytes: bytes, littleEndian: littleEndian, wordSize: layout.wordSize)

        let type = file.half(at: 16)
        guard type == 3 else {
            let kinds: [UInt64: String] = [1: "a relocatable object file", 2: "an executable", 4: "a core dump"]
            return "it is \(kinds[type] ?? "ELF type \(type)"), not a shared object"
        }
        if let machine = hostMachine, file.half(at: 18) != machine {
            return "it is built for ELF machine \(file.half(at: 18)), not this one (\(machine))"
        }

        let segments = (offset: file.word(at: 24 + layout.wordSize), entrySize: file.half(at: layout.headerSize - 10),
                        count: file.half(at: layout.headerSize - 8))
        guard segments.count > 0 else { return "it has no program headers, so it cannot be loaded" }
        guard segments.entrySize == UInt64(layout.segmentEntrySize) else { return "its program headers are \(segments.entrySize) bytes each, not \(layout.segmentEntrySize)" }
        if let problem = outside(file.count, "its program header table", segments.offset, segments.count * segments.entrySize) { return problem }
        var loadable = 0, dynamic = false
        for index in 0..<Int(segments.count) {
            let entry = Int(segments.offset) + index * layout.segmentEntrySize
            switch file.unsigned(at: entry, size: 4) {
            case 1:
                loadable += 1
                let start = file.word(at: entry + layout.segmentFileOffset), length = file.word(at: entry + layout.segmentFileSize)
                if let problem = outside(file.count, "its loadable segment \(index)", start, length) { return problem }
            case 2: dynamic = true
            default: break
            }
        }
        guard loadable > 0 else { return "it has no loadable segment" }
        guard dynamic else { return "it has no dynamic segment, so it cannot be loaded as a library" }

        let sections = (offset: file.word(at: 24 + 2 * layout.wordSize), entrySize: file.half(at: layout.headerSize - 6),
                        count: file.half(at: layout.headerSize - 4))
        guard sections.offset != 0 || sections.count != 0 else { return nil }
        guard sections.entrySize == UInt64(layout.sectionEntrySize) else { return "its section headers are \(sections.entrySize) bytes each, not \(layout.sectionEntrySize)" }
        // A count of 0 with a table present means the count is too large for the header and
        // sits in section 0; a library from a C compiler never has that many sections.
        if let problem = outside(file.count, "its section header table", sections.offset, max(sections.count, 1) * sections.entrySize) { return problem }
        for index in 0..<Int(sections.count) {
            let entry = Int(sections.offset) + index * layout.sectionEntrySize
            let kind = file.unsigned(at: entry + 4, size: 4)
            guard kind != 0, kind != 8 else { continue } // SHT_NULL and SHT_NOBITS occupy no file bytes
            let start = file.word(at: entry + layout.sectionFileOffset), length = file.word(at: entry + layout.sectionFileSize)
            if let problem = outside(file.count, "its section \(index)", start, length) { return problem }
        }
        return nil
    }

    /// Nil if `length` bytes from `start` lie inside a file of `size` bytes, else a sentence saying
    /// they do not (the usual sign of a truncated file).
    private static func outside(_ size: Int, _ what: String, _ start: UInt64, _ length: UInt64) -> String? {
        if start <= UInt64(size), length <= UInt64(size) - start { return nil }
        let (end, overflow) = start.addingReportingOverflow(length)
        return "\(what) (file bytes \(start)..<\(overflow ? "beyond 2^64" : String(end))) lies past the end of the file (\(size) bytes); it is truncated or corrupt"
    }

    /// This machine's ELF `e_machine`, where resnetc knows it.
    private static var hostMachine: UInt64? {
        #if arch(x86_64)
        return 62
        #elseif arch(arm64)
        return 183
        #elseif arch(i386)
        return 3
        #elseif arch(arm)
        return 40
        #else
        return nil
        #endif
    }

    /// Where the fields checked here sit in 32-bit and 64-bit ELF files (the ELF specification's
    /// Elf32_/Elf64_ Ehdr, Phdr and Shdr); the header's size fields are its last 12 bytes.
    private struct Layout {
        let wordSize: Int
        let headerSize: Int
        let segmentEntrySize: Int, segmentFileOffset: Int, segmentFileSize: Int
        let sectionEntrySize: Int, sectionFileOffset: Int, sectionFileSize: Int

        static let elf64 = Layout(wordSize: 8, headerSize: 64, segmentEntrySize: 56, segmentFileOffset: 8, segmentFileSize: 32,
                                  sectionEntrySize: 64, sectionFileOffset: 24, sectionFileSize: 32)
        static let elf32 = Layout(wordSize: 4, headerSize: 52, segmentEntrySize: 32, segmentFileOffset: 4, segmentFileSize: 16,
                                  sectionEntrySize: 40, sectionFileOffset: 16, sectionFileSize: 20)
    }

    /// Unsigned integers of the file's byte order; reads past the end yield 0, which the range
    /// checks above then report, so a hostile file cannot make the check itself trap.
    private struct Reader {
        let bytes: [UInt8]
        let littleEndian: Bool
        let wordSize: Int

        var count: Int { bytes.count }

        func unsigned(at offset: Int, size: Int) -> UInt64 {
            guard offset >= 0, offset <= bytes.count - size else { return 0 }
            var value: UInt64 = 0
            for i in 0..<size { value = value << 8 | UInt64(bytes[offset + (littleEndian ? size - 1 - i : i)]) }
            return value
        }

        func half(at offset: Int) -> UInt64 { unsigned(at: offset, size: 2) }
        func word(at offset: Int) -> UInt64 { unsigned(at: offset, size: wordSize) }
    }
}
