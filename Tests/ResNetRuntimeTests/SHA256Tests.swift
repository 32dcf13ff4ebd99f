import Foundation
import ResNetRuntime
import Testing

/// SHA-256 against the FIPS 180-2 examples, fed whole, in pieces, as bytes and through copies.
@Suite struct SHA256Tests {
    @Test func matchesTheFIPSExamples() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        for _ in 0..<1000 { million.update([UInt8](repeating: 0x61, count: 1000)) }
        #expect(million.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(SHA256.hex(Data("abc".utf8)) == SHA256.hex("abc"))
    }

    @Test func hashersAreValues() {
        var hasher = SHA256()
        hasher.update("ab")
        var copy = hasher
        hasher.update("c")
        copy.update([0x63])
        #expect(hasher.finalizeHex() == SHA256.hex("abc"))
        #expect(copy.finalizeHex() == SHA256.hex("abc"), "updating one copy leaves the other as it was")
        #expect(hasher.finalizeHex() == SHA256.hex(""), "a finalized hasher starts over")
    }
}
