import Foundation
import Logging
import PostgresIndex
import SQLiteIndex
import TestServers
import Testing
@testable import WarrenCore

/// The SQLite index (the embedded default) against the index compliance suite.
@Suite struct SQLiteMetadataIndexTests {
    static let compliance = MetadataIndexCompliance(
        fresh: { FileManager.default.temporaryDirectory.path + "/warren-index-\(UUID().uuidString).sqlite" },
        open: { path in try await SQLiteMetadataIndex.open(path: path, logger: Logger(label: "test")) }
    )

    @Test(arguments: MetadataIndexCompliance.Check.allCases)
    func compliance(_ check: MetadataIndexCompliance.Check) async throws {
        try await Self.compliance.run(check)
    }
}

/// The PostgreSQL index against the same suite, on a real PostgreSQL 15 on loopback.
@Suite struct PostgresMetadataIndexTests {
    static let compliance = MetadataIndexCompliance(
        fresh: {
            let server = try await PostgresServer.shared()
            return server.url(try await server.createDatabase())
        },
        open: { url in try PostgresMetadataIndex(url: url, logger: Logger(label: "test")) }
    )

    @Test(arguments: MetadataIndexCompliance.Check.allCases)
    func compliance(_ check: MetadataIndexCompliance.Check) async throws {
        try await Self.compliance.run(check)
    }

    @Test func aStoppedDatabaseIsAPromptErrorAndRecoveryIsAutomatic() async throws {
        let server = try await PostgresServer.dedicated()
        let url = server.url(try await server.createDatabase())
        // A longer deadline than the default 5 s: this machine runs the whole suite at once,
        // and a query right after the server's restart may wait for a pooled connection.
        let index = try PostgresMetadataIndex(url: url, logger: Logger(label: "test"), deadline: .seconds(10))
        try await index.migrate()
        let disk = try LocalDiskStorage(root: FileManager.default.temporaryDirectory.path + "/warren-missed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: disk.root) }
        let storage = IndexingStorage(base: disk, index: index, logger: Logger(label: "test"))
        try server.stop()
        let started = ContinuousClock.now
        let problem = await index.readinessProblem()
        #expect(problem?.contains("postgres://warren@127.0.0.1:\(server.port)/") == true, "\(problem ?? "ready")")
        await #expect(throws: (any Error).self) { _ = try await index.versions(of: "example.com/a") }
        #expect(ContinuousClock.now - started < .seconds(25), "two operations, each within the 10 s deadline")
        // Storing still works while the database is down; the index's miss is kept.
        try await storage.writeSmall(.artifact(module: "example.com/b", version: "v1.2.0", kind: .mod), bytes: Array("module example.com/b\n".utf8),
                                     metadata: ArtifactMetadata(size: 21, hash: "h1:b", storedAt: 2))
        #expect(try await disk.readSmall(.artifact(module: "example.com/b", version: "v1.2.0", kind: .mod), limit: 100) != nil)
        #expect(storage.missedCount == 1)
        // Later ones queue behind it at once, without waiting out the database's deadline.
        let queued = ContinuousClock.now
        try await storage.writeSmall(.artifact(module: "example.com/b", version: "v1.2.0", kind: .info), bytes: Array("{}".utf8),
                                     metadata: ArtifactMetadata(size: 2, hash: "sha256-x", storedAt: 2))
        #expect(ContinuousClock.now - queued < .seconds(2))
        #expect(storage.missedCount == 2)
        #expect(await storage.replayMissed() == 0, "recorded while the database is down")
        #expect(storage.missedCount == 2)
        try server.start()
        // No manual step: the client reconnects by itself (its pool backs off while the
        // server is away, so this can take a few seconds on a loaded machine).
        var recovered = false
        let until = ContinuousClock.now + .seconds(60)
        while !recovered, ContinuousClock.now < until {
            recovered = await index.readinessProblem() == nil
            if !recovered { try await Task.sleep(for: .milliseconds(200)) }  // polling readiness
        }
        #expect(recovered, "the index did not come back within 60 s of the server")
        try await index.recordStored(module: "example.com/a", version: "v1.0.0", kind: .mod,
                                     metadata: ArtifactMetadata(size: 1, hash: "h1:m", storedAt: 1))
        #expect(try await index.versions(of: "example.com/a").count == 1)
        #expect(await index.readinessProblem() == nil)
        // What it missed is recorded now, without `warren index rebuild`.
        #expect(await storage.replayMissed() == 2)
        #expect(storage.missedCount == 0)
        #expect(try await index.versions(of: "example.com/b").map(\.version) == ["v1.2.0"])
        await index.close()
    }
}
