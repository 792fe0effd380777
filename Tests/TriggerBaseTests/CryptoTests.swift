import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

struct CryptoTests {
    @Test func sha256MatchesTheKnownVector() {
        #expect(Crypto.hex(Crypto.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func passwordHashesVerifyAndAreSaltedPerCall() {
        let a = Crypto.hashPassword("correct horse", iterations: 1000)
        let b = Crypto.hashPassword("correct horse", iterations: 1000)
        #expect(a != b, "a new salt each time")
        #expect(a.hasPrefix("pbkdf2-sha256$1000$"))
        #expect(!a.contains("correct horse"))
        #expect(Crypto.verifyPassword("correct horse", stored: a))
        #expect(!Crypto.verifyPassword("correct horsf", stored: a))
        #expect(!Crypto.verifyPassword("x", stored: "plain"))
        #expect(!Crypto.verifyPassword("x", stored: "pbkdf2-sha256$0$00$00"))
    }

    @Test func pbkdf2MatchesRFC7914Vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64); we keep the first 32 bytes.
        let stored = "pbkdf2-sha256$1$" + Crypto.hex(Array("salt".utf8)) + "$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        #expect(Crypto.verifyPassword("passwd", stored: stored))
    }

    @Test func tokensAreLongRandomAndDistinct() {
        let tokens = Set((0..<100).map { _ in Crypto.newToken() })
        #expect(tokens.count == 100)
        #expect(tokens.allSatisfy { $0.hasPrefix("tb_") && $0.count == 46 })
        #expect(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Crypto.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Crypto.constantTimeEqual([1, 2], [1, 2, 3]))
    }
}
