import Foundation
public import Crypto
import CryptoExtras

/// Passwords kept as scrypt (RFC 7914) digests with a random salt; the parameters travel with the digest so
/// they can be raised later without invalidating stored passwords.
///
///     let stored = try PasswordHash.make("correct horse")   // "scrypt$16384$8$1$<salt>$<digest>"
///     PasswordHash.verify("correct horse", against: stored) // true
public enum PasswordHash {
    /// N = 2^14, r = 8, p = 1: 16 MiB and some tens of milliseconds per guess (RFC 7914 §2's interactive-login figure).
    public static let defaultRounds = 16_384
    static let blockSize = 8, parallelism = 1, outputBytes = 32

    /// The shortest password accepted.
    public static let minimumLength = 10

    public static func make(_ password: String, rounds: Int = defaultRounds) throws -> String {
        let salt = randomBytes(16)
        let digest = try derive(password, salt: salt, rounds: rounds)
        return "scrypt$\(rounds)$\(blockSize)$\(parallelism)$\(hex(salt))$\(hex(digest))"
    }

    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              r == blockSize, p == parallelism, n >= 1024, n <= 1 << 20, let salt = unhex(parts[4]), let expected = unhex(parts[5]),
              let actual = try? derive(password, salt: salt, rounds: n) else { return false }
        return constantTimeEqual(actual, expected)
    }

    static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: outputBytes,
                                           rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// Tokens for scripts: `sht_<account>_<64 hex digits>`. Only a keyed digest (HMAC-SHA-256 with the audit key,
/// which lives outside the database) is stored: a token is 256 random bits, so it needs no slow KDF, and a
/// copy of the database alone does not let anyone check guesses.
public enum AccessToken {
    public static func make(accountID: Int64) -> String { "sht_\(accountID)_\(hex(randomBytes(32)))" }

    /// The account a token claims to belong to (checked against the stored digest afterwards).
    public static func accountID(of token: String) -> Int64? {
        let parts = token.split(separator: "_")
        guard parts.count == 3, parts[0] == "sht", parts[2].count == 64 else { return nil }
        return Int64(parts[1])
    }

    public static func digest(_ token: String, key: SymmetricKey) -> String {
        hex(Array(HMAC<SHA256>.authenticationCode(for: Array(token.utf8), using: key)))
    }

    public static func verify(_ token: String, against stored: String, key: SymmetricKey) -> Bool {
        constantTimeEqual(Array(digest(token, key: key).utf8), Array(stored.utf8))
    }
}

func randomBytes(_ n: Int) -> [UInt8] {
    var g = SystemRandomNumberGenerator()
    return (0..<n).map { _ in UInt8.random(in: .min ... .max, using: &g) }
}

private let hexDigits = Array("0123456789abcdef".utf8)

/// Lower-case hex of bytes.
package func hex<B: Sequence>(_ bytes: B) -> String where B.Element == UInt8 {
    var out = [UInt8]()
    for b in bytes { out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

package func unhex(_ text: String) -> [UInt8]? {
    let u = Array(text.utf8)
    guard u.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        default: return nil
        }
    }
    var out = [UInt8]()
    out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count {
        guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
        out.append(h << 4 | l)
        i += 2
    }
    return out
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var d: UInt8 = 0
    for i in a.indices { d |= a[i] ^ b[i] }
    return d == 0
}
