import Foundation
import Testing
@testable import GoModule

/// Signed notes and verifier keys, with the keys and signatures of x/mod's note tests
/// (facts from golang.org/x/mod/sumdb/note, as Debian ships it).
@Suite struct SignedNoteTests {
    static let peterKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let enochKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    static let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let peterSig = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    static let enochSig = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

    @Test func verifierKeys() throws {
        let key = try VerifierKey(Self.peterKey)
        #expect(key.name == "PeterNeumann")
        #expect(key.keyHash == 0xc74f20a3)
        #expect(key.description == Self.peterKey)
        // sum.golang.org's published key parses.
        #expect(try VerifierKey("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8").name == "sum.golang.org")
        for bad in ["", "PeterNeumann", "PeterNeumann+c74f20a3", "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // wrong hash
                    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  // truncated
                    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  // wrong length
                    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"] {  // unknown algorithm
            #expect(throws: VerifierKey.ParseError.self, "\(bad)") { try VerifierKey(bad) }
        }
    }

    @Test func openChecksKnownSignatures() throws {
        let peter = try VerifierKey(Self.peterKey), enoch = try VerifierKey(Self.enochKey)
        let message = Array((Self.text + "\n" + Self.peterSig + Self.enochSig).utf8)
        let one = try SignedNote.open(message, keys: [peter])
        #expect(one.text == Self.text)
        #expect(one.verifiedBy == [Self.peterKey])
        #expect(try SignedNote.open(message, keys: [peter, enoch]).verifiedBy == [Self.peterKey, Self.enochKey])
        #expect(throws: SignedNote.OpenError.unverified) { try SignedNote.open(message, keys: []) }
        // A repeated signature is ignored, not an error.
        #expect(try SignedNote.open(Array((Self.text + "\n" + Self.peterSig + Self.peterSig).utf8), keys: [peter]).verifiedBy.count == 1)
    }

    @Test func tamperingIsRefused() throws {
        let peter = try VerifierKey(Self.peterKey)
        // Changed text under a good signature.
        let altered = Self.text.replacingOccurrences(of: "problem,", with: "problem;")
        #expect(throws: SignedNote.OpenError.invalidSignature(Self.peterKey)) {
            try SignedNote.open(Array((altered + "\n" + Self.peterSig).utf8), keys: [peter])
        }
        // Malformed: no blank line, no final newline, bad prefix, bad base64, control characters.
        for bad in [Self.text + Self.peterSig,
                    Self.text + "\n" + Self.peterSig.dropLast(),
                    Self.text + "\n" + "- PeterNeumann x08go/ZJku=\n",
                    Self.text + "\n" + "— PeterNeumann !!!!\n",
                    "bell\u{07}\n\n" + Self.peterSig] {
            #expect(throws: SignedNote.OpenError.malformed, "\(bad)") { try SignedNote.open(Array(bad.utf8), keys: [peter]) }
        }
    }

    /// GOSUMDB's syntax, as the go command reads it.
    @Test func sumdbSettings() throws {
        #expect(try SumDBSetting("off") == .off)
        let golang = try VerifierKey(SumDBSetting.sumGolangOrgKey)
        #expect(try SumDBSetting("sum.golang.org") == .database(key: golang, url: "https://sum.golang.org"))
        #expect(try SumDBSetting("sum.golang.google.cn") == .database(key: golang, url: "https://sum.golang.google.cn"))
        #expect(try SumDBSetting("sum.golang.org https://goproxy.example/sumdb/sum.golang.org/")
            == .database(key: golang, url: "https://goproxy.example/sumdb/sum.golang.org"))
        let own = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        #expect(try SumDBSetting(own) == .database(key: try VerifierKey(own), url: "https://PeterNeumann"))
        #expect(try SumDBSetting(own + " sum.example.com") == .database(key: try VerifierKey(own), url: "https://sum.example.com"))
        for bad in ["", "sum.golang.org a b", "nonsense", "sum.golang.org+033de0ae+AAAA", own + " https://", "off https://x"] {
            #expect(throws: SumDBSetting.ParseError.self, "\(bad)") { try SumDBSetting(bad) }
        }
    }

    @Test func treeHeads() throws {
        let head = try TreeHead(text: "go.sum database tree\n1234\nOzZ9bbe8UXJtkYsY6aeeD85T+Gf744Zx9gnmu1nUYDU=\n")
        #expect(head.size == 1234)
        #expect(head.text == "go.sum database tree\n1234\nOzZ9bbe8UXJtkYsY6aeeD85T+Gf744Zx9gnmu1nUYDU=\n")
        for bad in ["go.sum database tree\n12x\nOzZ9bbe8UXJtkYsY6aeeD85T+Gf744Zx9gnmu1nUYDU=\n",
                    "go.sum database tree\n1234\nshort=\n", "other tree\n1\nOzZ9bbe8UXJtkYsY6aeeD85T+Gf744Zx9gnmu1nUYDU=\n",
                    "go.sum database tree\n-1\nOzZ9bbe8UXJtkYsY6aeeD85T+Gf744Zx9gnmu1nUYDU=\n"] {
            #expect(throws: TransparencyLog.ProofError.self) { try TreeHead(text: bad) }
        }
    }

    @Test func base64RoundTrips() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString())
            #expect(Base64.decode(Substring(text)) == bytes)
        }
        #expect(Base64.decode("QQ") == nil)       // no padding
        #expect(Base64.decode("QR==") == nil)     // non-zero bits under the padding
        #expect(Base64.decode("Q===") == nil)
        #expect(Base64.decode("QQ==QQ==") == nil)  // padding in the middle
    }
}
