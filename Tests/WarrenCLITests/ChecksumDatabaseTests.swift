import AsyncHTTPClient
import Crypto
import Foundation
@testable import GoModule
import Testing
import WarrenCore

/// Warren's checksum-database client against x/mod's own sumdb server on loopback:
/// verified lookups, consistency across a growing log and across restarts, and a forked
/// log or a wrong key refused.
@Suite struct ChecksumDatabaseTests {
    let fixture = ModuleFixture.shared

    @Test func verifiedLookupsAcrossAGrowingLog() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let scratch = ScratchDirectory()
        let state = scratch.path + "/sum.test.head"
        let client = ChecksumDatabase(key: try VerifierKey(db.verifierKey), url: db.url, client: HTTPClient.shared, stateFile: state)
        // Each new module adds a record: every lookup after the first checks a
        // consistency proof from the previous tree head.
        for (path, version) in [("github.com/kr/text", "v0.2.0"), ("github.com/BurntSushi/toml", "v1.2.1"),
                                ("gopkg.in/yaml.v3", "v3.0.1"), ("github.com/google/go-cmp", "v0.5.9")] {
            let m = try #require(fixture.module(path, version))
            let lines = try await client.lookup(module: path, version: version)
            #expect(lines == ["\(path) \(version) \(m.zipHash)", "\(path) \(version)/go.mod \(m.modHash)"])
        }
        // The latest verified head survives a restart, and is checked against.
        #expect(FileManager.default.fileExists(atPath: state))
        let again = ChecksumDatabase(key: try VerifierKey(db.verifierKey), url: db.url, client: HTTPClient.shared, stateFile: state)
        _ = try await again.lookup(module: "github.com/kr/text", version: "v0.1.0")
    }

    @Test func aForkedLogIsRefused() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        let client = ChecksumDatabase(key: try VerifierKey(db.verifierKey), url: db.url, client: HTTPClient.shared, stateFile: nil)
        _ = try await client.lookup(module: "github.com/kr/text", version: "v0.2.0")
        _ = try await client.lookup(module: "gopkg.in/yaml.v3", version: "v3.0.1")
        try await db.fork()
        do {
            _ = try await client.lookup(module: "github.com/BurntSushi/toml", version: "v1.2.1")
            Issue.record("a forked log was accepted")
        } catch {
            #expect(error.isTampering)
            #expect(error.description.contains("forked"), "\(error)")
        }
    }

    /// Every way a database can send bad input is refused as tampering, and a lookup
    /// that failed is not remembered: once the database is honest again it succeeds.
    @Test(arguments: [("sig", "invalid signature"), ("note", "malformed note"), ("short", "bytes, want"), ("hash", "does not verify")])
    func badInputIsRefused(mode: String, words: String) async throws {
        let db = try SumDBServer(root: fixture.root, filler: 300)
        defer { db.stop() }
        let client = ChecksumDatabase(key: try VerifierKey(db.verifierKey), url: db.url, client: HTTPClient.shared, stateFile: nil)
        try await db.breakAnswers(mode)
        do {
            _ = try await client.lookup(module: "filler.example/m7", version: "v1.0.0")
            Issue.record("\(mode): a bad answer was accepted")
        } catch {
            #expect(error.isTampering)
            #expect(error.description.contains(words), "\(mode): \(error)")
        }
        try await db.breakAnswers("")
        let lines = try await client.lookup(module: "filler.example/m7", version: "v1.0.0")
        #expect(lines == ["filler.example/m7 v1.0.0 h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="])
    }

    @Test func aWrongKeyIsRefused() async throws {
        let db = try SumDBServer(root: fixture.root)
        defer { db.stop() }
        // A well-formed key of the same name that did not sign this log.
        let other = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation
        let keyBytes = [UInt8(1)] + Array(other)
        let hash = VerifierKey.keyHash(name: "sum.test", key: keyBytes)
        let wrong = try VerifierKey("sum.test+" + String(hash, radix: 16).leftPadded(to: 8) + "+" + Base64.encode(keyBytes))
        let client = ChecksumDatabase(key: wrong, url: db.url, client: HTTPClient.shared, stateFile: nil)
        do {
            _ = try await client.lookup(module: "github.com/kr/text", version: "v0.2.0")
            Issue.record("a tree head signed by another key was accepted")
        } catch {
            #expect(error.isTampering)
            #expect(error.description.contains("signature"), "\(error)")
        }
    }
}
