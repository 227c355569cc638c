import Foundation
import GoModule
import Testing
@testable import WarrenCore

/// What every metadata index backend must do, written once: SQLite and PostgreSQL run the
/// same checks, each on a fresh database.
struct MetadataIndexCompliance: Sendable {
    /// A new, empty database: its file path or URL.
    let fresh: @Sendable () async throws -> String
    /// The index on a database `fresh` made (called again for a second process).
    let open: @Sendable (String) async throws -> any MetadataIndex

    enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case recordsMergeIntoOneRowPerVersion, versionsComeInSemVerOrder, theFeedPagesByTime, theCatalogPagesByModuleAndVersion,
             migratingTwiceOrConcurrentlyIsHarmless, downloadsAddUpAndRankVersions, auditEventsAreKeptInOrder,
             aRemovedVersionIsForgotten, theChecksumLogAppendsInTurnAndProvesItself, modulesAreSearchedAndPagedByPath
        var testDescription: String { rawValue }
    }

    func run(_ check: Check) async throws {
        let location = try await fresh()
        let index = try await open(location)
        try await index.migrate()
        switch check {
        case .recordsMergeIntoOneRowPerVersion: try await recordsMerge(index)
        case .versionsComeInSemVerOrder: try await semVerOrder(index)
        case .theFeedPagesByTime: try await feed(index)
        case .theCatalogPagesByModuleAndVersion: try await catalog(index)
        case .migratingTwiceOrConcurrentlyIsHarmless: try await migrations(index, location)
        case .downloadsAddUpAndRankVersions: try await downloads(index)
        case .auditEventsAreKeptInOrder: try await audit(index)
        case .aRemovedVersionIsForgotten: try await removal(index)
        case .theChecksumLogAppendsInTurnAndProvesItself: try await checksumLog(index, location)
        case .modulesAreSearchedAndPagedByPath: try await modules(index)
        }
        await index.close()
    }

    static func meta(_ hash: String, size: Int64 = 10, at time: Double, origin: String? = "https://proxy.example") -> ArtifactMetadata {
        ArtifactMetadata(size: size, hash: hash, storedAt: time, origin: origin)
    }

    func recordsMerge(_ index: any MetadataIndex) async throws {
        try await index.recordStored(module: "example.com/a", version: "v1.0.0", kind: .info, metadata: Self.meta("sha256-x", at: 100.25))
        try await index.recordStored(module: "example.com/a", version: "v1.0.0", kind: .mod, metadata: Self.meta("h1:mod=", at: 101))
        try await index.recordStored(module: "example.com/a", version: "v1.0.0", kind: .zip, metadata: Self.meta("h1:zip=", size: 4096, at: 102))
        // Stored again later (another replica): the first time stays.
        try await index.recordStored(module: "example.com/a", version: "v1.0.0", kind: .zip, metadata: Self.meta("h1:zip=", size: 4096, at: 500))
        let versions = try await index.versions(of: "example.com/a")
        #expect(versions == [IndexedVersion(module: "example.com/a", version: "v1.0.0", origin: "https://proxy.example",
                                            zipHash: "h1:zip=", modHash: "h1:mod=", zipSize: 4096, storedAt: 100.25)])
        #expect(try await index.versions(of: "example.com/other").isEmpty)
    }

    /// A deleted hosted version leaves no row (it is no longer listed), and the others stay.
    func removal(_ index: any MetadataIndex) async throws {
        for v in ["v1.0.0", "v1.1.0"] {
            try await index.recordStored(module: "example.com/h", version: v, kind: .zip, metadata: Self.meta("h1:z" + v, at: 1))
        }
        try await index.recordStored(module: "example.com/h", version: "v1.1.0", kind: .mod, metadata: Self.meta("h1:m", at: 1))
        // The zip gone: no longer a cached zip, still known by its go.mod.
        try await index.recordRemoved(module: "example.com/h", version: "v1.1.0", kind: .zip)
        try await index.recordRemoved(module: "example.com/h", version: "v9.9.9", kind: .zip)
        #expect(try await index.cachedZips().map(\.version) == ["v1.0.0"])
        #expect(try await index.versions(of: "example.com/h").map { "\($0.version) \($0.zipHash ?? "-")" } == ["v1.0.0 h1:zv1.0.0", "v1.1.0 -"])
        // Its go.mod gone too: forgotten.
        try await index.recordRemoved(module: "example.com/h", version: "v1.1.0", kind: .mod)
        #expect(try await index.versions(of: "example.com/h").map(\.version) == ["v1.0.0"])
        #expect(try await index.feed(since: 0, limit: 10).map(\.version) == ["v1.0.0"])
    }

    func downloads(_ index: any MetadataIndex) async throws {
        for v in ["v1.0.0", "v1.1.0", "v1.2.0"] {
            try await index.recordStored(module: "example.com/pop", version: v, kind: .zip, metadata: Self.meta("h1:z", at: 1))
        }
        #expect(try await index.mostDownloaded(limit: 10).isEmpty)
        try await index.recordDownloads([
            DownloadCount(module: "example.com/pop", version: "v1.1.0", count: 3, lastAccess: 2000),
            DownloadCount(module: "example.com/pop", version: "v1.0.0", count: 1, lastAccess: 1500),
            // Not recorded as stored: ignored.
            DownloadCount(module: "example.com/never", version: "v1.0.0", count: 9, lastAccess: 1500),
        ])
        // Another replica's flush adds up; an older last access does not move it back.
        try await index.recordDownloads([DownloadCount(module: "example.com/pop", version: "v1.1.0", count: 2, lastAccess: 1800)])
        try await index.recordDownloads([])
        let top = try await index.mostDownloaded(limit: 10)
        #expect(top.map(\.version) == ["v1.1.0", "v1.0.0"])
        #expect(top.map(\.downloads) == [5, 1])
        #expect(top.map(\.lastAccess) == [2000, 1500])
        #expect(try await index.mostDownloaded(limit: 1).map(\.version) == ["v1.1.0"])
        let all = try await index.versions(of: "example.com/pop")
        #expect(all.map(\.downloads) == [1, 5, 0])
        #expect(all.last?.lastAccess == nil)
        #expect(try await index.versions(of: "example.com/never").isEmpty)
    }

    func audit(_ index: any MetadataIndex) async throws {
        let store = try #require(index as? any AuditStore)
        let events = [
            AuditRecord(time: 300, action: "login", user: "alice", token: "t1", address: "10.0.0.1", target: "https://gitlab", result: "allowed",
                        detail: "subject 42"),
            AuditRecord(time: 100, action: "zip", user: "anonymous", token: nil, address: nil, target: "corp.example.com/x", result: "denied",
                        detail: nil),
            AuditRecord(time: 200, action: "token.create", user: "root", token: nil, address: nil, target: "token t2 for bob", result: "done",
                        detail: nil),
        ]
        try await store.recordAudit(events)
        try await store.recordAudit([])
        #expect(try await store.auditEvents(since: 0, limit: 10) == [events[1], events[2], events[0]])
        #expect(try await store.auditEvents(since: 150, limit: 1) == [events[2]])
        // Newest first; a prefix is compared as bytes (no LIKE wildcards).
        #expect(try await store.latestAuditEvents(targetPrefix: nil, limit: 2) == [events[0], events[2]])
        #expect(try await store.latestAuditEvents(targetPrefix: "corp.example.com/", limit: 5) == [events[1]])
        #expect(try await store.latestAuditEvents(targetPrefix: "corp_example", limit: 5).isEmpty)
    }

    func semVerOrder(_ index: any MetadataIndex) async throws {
        for v in ["v1.10.0", "v1.2.0", "v1.2.0-rc.1", "v0.9.0", "v2.0.0+incompatible"] {
            try await index.recordStored(module: "example.com/b", version: v, kind: .mod, metadata: Self.meta("h1:m", at: 1))
        }
        #expect(try await index.versions(of: "example.com/b").map(\.version) == ["v0.9.0", "v1.2.0-rc.1", "v1.2.0", "v1.10.0", "v2.0.0+incompatible"])
    }

    func feed(_ index: any MetadataIndex) async throws {
        for i in 0..<25 {
            try await index.recordStored(module: "example.com/m\(i % 5)", version: "v1.0.\(i)", kind: .mod,
                                         metadata: Self.meta("h1:m", at: 1_700_000_000 + Double(i) * 0.5))
        }
        var seen: [String] = []
        var since = 0.0
        while true {
            let page = try await index.feed(since: since, limit: 10)
            // The next page starts just after the last timestamp given.
            seen += page.map { "\($0.module)@\($0.version)" }
            guard page.count == 10, let last = page.last else { break }
            since = last.storedAt + 0.000_001
        }
        #expect(seen == (0..<25).map { "example.com/m\($0 % 5)@v1.0.\($0)" })
        #expect(try await index.feed(since: 1_700_000_012.0, limit: 100).count == 1)
    }

    func catalog(_ index: any MetadataIndex) async throws {
        let pairs = [("example.com/z", "v1.0.0"), ("example.com/a", "v1.1.0"), ("example.com/a", "v1.0.0"), ("example.com/B", "v0.1.0")]
        for (m, v) in pairs { try await index.recordStored(module: m, version: v, kind: .mod, metadata: Self.meta("h1:m", at: 5)) }
        var all: [String] = []
        var after: (module: String, version: String)?
        repeat {
            let page = try await index.catalog(after: after, limit: 3)
            all += page.map { "\($0.module)@\($0.version)" }
            after = page.count == 3 ? page.last.map { ($0.module, $0.version) } : nil
        } while after != nil
        // Byte order, as module paths compare: upper case first.
        #expect(all == ["example.com/B@v0.1.0", "example.com/a@v1.0.0", "example.com/a@v1.1.0", "example.com/z@v1.0.0"])
    }

    /// One row per module with its totals; the search ignores case and takes `%` and `_`
    /// literally; pages follow byte order.
    func modules(_ index: any MetadataIndex) async throws {
        for (m, v, size, at) in [("example.com/z", "v1.0.0", Int64(5), 10.0), ("example.com/Big_lib", "v1.0.0", 7, 20), ("example.com/Big_lib", "v1.1.0", 8, 30),
                                 ("other.org/biglib", "v0.1.0", 1, 40)] {
            try await index.recordStored(module: m, version: v, kind: .zip, metadata: Self.meta("h1:z", size: size, at: at))
        }
        try await index.recordDownloads([DownloadCount(module: "example.com/Big_lib", version: "v1.0.0", count: 3, lastAccess: 50),
                                         DownloadCount(module: "example.com/Big_lib", version: "v1.1.0", count: 2, lastAccess: 51)])
        let all = try await index.modules(containing: "", after: nil, limit: 10)
        #expect(all.map(\.module) == ["example.com/Big_lib", "example.com/z", "other.org/biglib"])
        #expect(all.first == IndexedModule(module: "example.com/Big_lib", versions: 2, downloads: 5, zipBytes: 15, lastStored: 30))
        #expect(try await index.modules(containing: "BIG_", after: nil, limit: 10).map(\.module) == ["example.com/Big_lib"])
        #expect(try await index.modules(containing: "big", after: nil, limit: 10).map(\.module) == ["example.com/Big_lib", "other.org/biglib"])
        #expect(try await index.modules(containing: "%", after: nil, limit: 10).isEmpty)
        let second = try await index.modules(containing: "", after: "example.com/Big_lib", limit: 1)
        #expect(second.map(\.module) == ["example.com/z"])
    }

    /// Two processes on one database append 300 records between them; every record gets
    /// its own ID, the log audits clean, and its tiles prove a record against its head.
    func checksumLog(_ index: any MetadataIndex, _ location: String) async throws {
        let store = try #require(index as? any ChecksumLogStore)
        let signer = try NoteSigner(generatingFor: "sum.test")
        try await ChecksumLog.create(in: store, signer: signer)
        await #expect(throws: ChecksumLogExists.self) { try await ChecksumLog.create(in: store, signer: signer) }
        let other = try await open(location)
        // The second process's index is closed whatever happens (SQLite insists).
        let outcome: Result<Void, any Error>
        do {
            try await checksumLogRaces(store: store, other: other, signer: signer)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await other.close()
        try outcome.get()
    }

    func checksumLogRaces(store: any ChecksumLogStore, other: any MetadataIndex, signer: NoteSigner) async throws {
        let logs = [try await ChecksumLog(store: store, signer: signer, logger: .init(label: "a")),
                    try await ChecksumLog(store: try #require(other as? any ChecksumLogStore), signer: signer, logger: .init(label: "b"))]
        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (side, log) in logs.enumerated() {
                group.addTask {
                    var ids: [Int64] = []
                    for i in 0..<150 {
                        ids.append(try await log.append(module: "example.com/m\(side)x\(i)", version: "v1.0.0", zipHash: "h1:zip\(i)=",
                                                        modHash: "h1:mod\(i)="))
                    }
                    return ids
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        #expect(ids.sorted() == Array(0..<300))
        // The same lines again: the same ID; other hashes: refused.
        #expect(try await logs[1].append(module: "example.com/m0x7", version: "v1.0.0", zipHash: "h1:zip7=", modHash: "h1:mod7=")
                == (try await logs[0].lookup(module: "example.com/m0x7", version: "v1.0.0"))?.id)
        await #expect(throws: ProxyError.self) {
            try await logs[0].append(module: "example.com/m0x7", version: "v1.0.0", zipHash: "h1:other=", modHash: "h1:mod7=")
        }
        let report = try await logs[0].audit(trusting: try VerifierKey(signer.verifierKey))
        #expect(report.size == 300)
        await #expect(throws: ChecksumLog.Mismatch.self) {
            try await logs[0].audit(trusting: try VerifierKey(try NoteSigner(generatingFor: "sum.test").verifierKey))
        }
        // A client's check: record 200's inclusion, from the tiles served, against the head.
        let head = try TreeHead(text: try SignedNote.open(try await Self.body(logs[1].serve(.latest)), keys: [VerifierKey(signer.verifierKey)]).text)
        #expect(head.size == 300)
        let record = try #require(try await logs[0].lookup(module: "example.com/m1x60", version: "v1.0.0"))
        var tiles: [LogTile: [UInt8]] = [:]
        for tile in [LogTile(height: 8, level: 0, index: 0, width: 256), LogTile(height: 8, level: 0, index: 1, width: 44),
                     LogTile(height: 8, level: 1, index: 0, width: 1)] {
            tiles[tile] = try await Self.body(logs[0].serve(.tile(tile)))
        }
        let read = { (indexes: [Int64]) throws -> [TransparencyLog.Hash] in
            try TransparencyLog.hashes(at: indexes, size: 300, height: 8) { tile in
                guard let data = tiles[tile] else { throw ChecksumLog.Mismatch(description: "tile \(tile.path) not fetched") }
                return data
            }
        }
        let proof = try TransparencyLog.recordProof(index: record.id, size: 300, read: read)
        try TransparencyLog.checkRecord(proof: proof, size: 300, treeHash: head.hash, index: record.id,
                                        recordHash: TransparencyLog.recordHash(record.text))
        let lookup = String(decoding: try await Self.body(logs[1].serve(.lookup(module: "example.com/m1x60", version: "v1.0.0"))), as: UTF8.self)
        #expect(lookup.hasPrefix("\(record.id)\nexample.com/m1x60 v1.0.0 h1:zip60=\nexample.com/m1x60 v1.0.0/go.mod h1:mod60=\n\ngo.sum database tree\n300\n"))
        let data = String(decoding: try await Self.body(logs[0].serve(.tile(LogTile(height: 8, level: -1, index: 1, width: 44)))), as: UTF8.self)
        #expect(data.hasPrefix("256\n") && data.hasSuffix("\n\n"))
        await #expect(throws: ProxyError.self) { try await logs[0].serve(.tile(LogTile(height: 8, level: 0, index: 1, width: 45))) }
    }

    static func body(_ served: ServedArtifact) throws -> [UInt8] {
        guard case .bytes(let buffer) = served.body else { throw ChecksumLog.Mismatch(description: "not bytes") }
        return Array(buffer.readableBytesView)
    }

    func migrations(_ index: any MetadataIndex, _ location: String) async throws {
        try await index.recordStored(module: "example.com/c", version: "v1.0.0", kind: .mod, metadata: Self.meta("h1:m", at: 1))
        try await index.migrate()
        // Four more processes' worth, all starting at once.
        let others = try await (0..<4).asyncMap { _ in try await open(location) }
        // Closed whatever happens: an index dropped open is a crash in debug builds, not a failure.
        var failure: (any Error)?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for other in others { group.addTask { try await other.migrate() } }
                try await group.waitForAll()
            }
        } catch {
            failure = error
        }
        for other in others { await other.close() }
        if let failure { throw failure }
        #expect(try await index.versions(of: "example.com/c").count == 1)
        #expect(await index.readinessProblem() == nil)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
