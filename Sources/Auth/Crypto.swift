import CCrypto
import CLinux
import Foundation

/// The cryptography auth needs, all from libcrypto or the kernel — none of it by hand (spec 03):
/// PBKDF2-HMAC-SHA256 password hashes with a per-user salt, SHA-256 digests of tokens,
/// constant-time comparison, and random tokens from `getrandom`.
package enum Crypto {
    /// PBKDF2 iterations for new password hashes (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
    package static let passwordIterations = 600_000

    /// `count` random bytes from the kernel (getrandom(2)).
    package static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { clinux_getrandom($0.baseAddress, $0.count) }
        precondition(result == 0, "getrandom failed")
        return bytes
    }

    /// A new API token: `tb_` and 43 base64url characters of 256 random bits.
    package static func newToken() -> String {
        "tb_" + base64URL(randomBytes(32))
    }

    package static func sha256(_ data: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        data.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return digest
    }

    /// The stored form of a token: hex SHA-256 (enough for 256-bit random tokens).
    package static func tokenDigest(_ token: String) -> String { hex(sha256(Array(token.utf8))) }

    /// Compares two byte strings in time that depends only on their lengths (CRYPTO_memcmp).
    package static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    /// `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` for a new password.
    package static func hashPassword(_ password: String, iterations: Int = passwordIterations) -> String {
        let salt = randomBytes(16)
        let derived = pbkdf2(password, salt: salt, iterations: iterations)
        return "pbkdf2-sha256$\(iterations)$\(hex(salt))$\(hex(derived))"
    }

    /// Whether `password` matches a stored hash; malformed hashes never match.
    package static func verifyPassword(_ password: String, stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]), iterations > 0,
              let salt = unhex(parts[2]), let expected = unhex(parts[3]) else { return false }
        return constantTimeEqual(pbkdf2(password, salt: salt, iterations: iterations), expected)
    }

    private static func pbkdf2(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        let passwordBytes = Array(password.utf8)
        let ok = passwordBytes.withUnsafeBufferPointer { p in
            salt.withUnsafeBufferPointer { s in
                output.withUnsafeMutableBufferPointer { o in
                    PKCS5_PBKDF2_HMAC(p.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(p.count),
                                      s.baseAddress, Int32(s.count), Int32(iterations), EVP_sha256(), Int32(o.count), o.baseAddress)
                }
            }
        }
        precondition(ok == 1, "PKCS5_PBKDF2_HMAC failed")
        return output
    }

    package static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    package static func unhex(_ text: some StringProtocol) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        var i = 0
        while i < bytes.count {
            guard let hi = nibble(bytes[i]), let lo = nibble(bytes[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 97...102: b - 87
        default: nil
        }
    }

    package static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
