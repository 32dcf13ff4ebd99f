import CCrypto

/// SHA-256 digests as lowercase hex, for the compile cache's keys and records and for manifests.
/// The hashing is OpenSSL's (libcrypto's EVP digest interface); this type only gives it the
/// small value-typed API resnetc uses.
public struct SHA256 {
    /// An OpenSSL digest context. Copies of a `SHA256` share one until either is updated, which
    /// then takes a copy of its own, so hashers behave as values.
    private final class Context {
        let pointer: OpaquePointer

        init() {
            guard let pointer = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a SHA-256 context") }
            self.pointer = pointer
            precondition(EVP_DigestInit_ex(pointer, EVP_sha256(), nil) == 1, "OpenSSL could not start a SHA-256 digest")
        }

        init(copying other: Context) {
            guard let pointer = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a SHA-256 context") }
            self.pointer = pointer
            precondition(EVP_MD_CTX_copy_ex(pointer, other.pointer) == 1, "OpenSSL could not copy a SHA-256 context")
        }

        deinit { EVP_MD_CTX_free(pointer) }
    }

    private var context = Context()

    public init() {}

    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let pointer = ownContext()
        func feed(_ buffer: UnsafeBufferPointer<UInt8>) {
            guard buffer.count > 0 else { return }
            precondition(EVP_DigestUpdate(pointer, UnsafeRawPointer(buffer.baseAddress), buffer.count) == 1,
                         "OpenSSL could not update a SHA-256 digest")
        }
        if bytes.withContiguousStorageIfAvailable(feed) == nil { Array(bytes).withUnsafeBufferPointer(feed) }
    }

    public mutating func update(_ text: String) { update(text.utf8) }

    /// The digest of everything given so far, as 64 lowercase hex digits; the hasher then starts over.
    public mutating func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(ownContext(), &digest, &length) == 1 && length == 32,
                     "OpenSSL could not finish a SHA-256 digest")
        context = Context()
        let hexDigits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.prefix(Int(length)).flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// This hasher's context, first copied if another hasher shares it.
    private mutating func ownContext() -> OpaquePointer {
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        return context.pointer
    }

    public static func hex(_ text: String) -> String { hex(text.utf8) }

    /// The digest of raw bytes, such as a file's contents read into `Data`.
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }
}
