import Foundation
import GoModule
import Logging
import NIOCore
import Synchronization
import Testing
@testable import WarrenCore

/// A verified zip goes out in full before storage has made it durable, and a request
/// that arrives while the commit runs is served from storage once it has ended.
@Suite struct ReleaseBeforeCommitTests {
    /// Local disk whose zip commits wait until the test fires `commitGate`.
    final class GatedCommitStorage: ArtifactStorage {
        let disk: LocalDiskStorage
        init(disk: LocalDiskStorage) { self.disk = disk }
        let commitGate = OneTimeSignal()
        let commitStarted = OneTimeSignal()
        let events = Mutex<[String]>([])

        func note(_ event: String) { events.withLock { $0.append(event) } }

        func open(_ key: StorageKey) async throws -> StoredArtifact? { try await disk.open(key) }
        func readSmall(_ key: StorageKey, limit: Int) async throws -> (bytes: [UInt8], metadata: ArtifactMetadata)? {
            try await disk.readSmall(key, limit: limit)
        }
        func writeSmall(_ key: StorageKey, bytes: [UInt8], metadata: ArtifactMetadata) async throws {
            try await disk.writeSmall(key, bytes: bytes, metadata: metadata)
        }
        func makeStaging(_ key: StorageKey) async throws -> StagingFile { try await disk.makeStaging(key) }
        func commit(_ staging: StagingFile, metadata: ArtifactMetadata) async throws {
            commitStarted.fire()
            await commitGate.wait()
            try await disk.commit(staging, metadata: metadata)
            note("committed")
        }
        func discard(_ staging: StagingFile) async { await disk.discard(staging) }
        func remove(_ key: StorageKey) async throws { try await disk.remove(key) }
        func checkWritable() async -> Bool { await disk.checkWritable() }
        func forEachArtifact(_ body: @escaping @Sendable (StorageKey, ArtifactMetadata) async throws -> Void) async throws {
            try await disk.forEachArtifact(body)
        }
    }

    /// A GOPROXY tree with one module version whose zip is larger than the held-back tail.
    func makeTree() throws -> (root: String, zip: [UInt8]) {
        let root = FileManager.default.temporaryDirectory.path + "/warren-release-\(UUID().uuidString)"
        let dir = root + "/example.com/big/@v"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let goMod = Array("module example.com/big\n\ngo 1.21\n".utf8)
        var noise = SystemRandomNumberGenerator()
        let data = (0..<(400 * 1024)).map { _ in UInt8.random(in: 0...255, using: &noise) }
        let sink = try WritableFile(creating: dir + "/v1.0.0.zip")
        _ = try ModuleZipWriter.create(module: "example.com/big", version: "v1.0.0",
                                       files: [.memory("go.mod", goMod), .memory("data.bin", data)], to: sink)
        try Data(goMod).write(to: URL(fileURLWithPath: dir + "/v1.0.0.mod"))
        try Data(#"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/v1.0.0.info"))
        return (root, try ReadableFile.readAll(path: dir + "/v1.0.0.zip", limit: 1 << 24))
    }

    @Test func theWholeVerifiedZipGoesOutBeforeTheCommitAndLaterRequestsWaitForIt() async throws {
        let (tree, zip) = try makeTree()
        defer { try? FileManager.default.removeItem(atPath: tree) }
        let data = tree + "-data"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let storage = GatedCommitStorage(disk: try LocalDiskStorage(root: data))
        let logger = Logger(label: "release-before-commit")
        let chain = UpstreamChain(entries: [.init(upstream: FileTreeUpstream(url: "file://" + tree), fallBackOnError: false)],
                                  logger: logger)
        let proxy = ModuleProxy(configuration: ProxyConfiguration(upstreams: try ProxyList("file://" + tree), dataDirectory: data),
                                storage: storage, chain: chain, logger: logger)
        let request = ProxyRequest.artifact(module: "example.com/big", version: "v1.0.0", kind: .zip)

        let first = try await proxy.serve(request)
        guard case .download(let download) = first.body else {
            Issue.record("a cold zip was not streamed: \(first.body)")
            return
        }
        // Should the tail wait for the commit after all, the watchdog ends the wait (and
        // the test fails below) rather than letting the test hang.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            storage.note("watchdog")
            storage.commitGate.fire()
        }
        var received: [UInt8] = []
        for try await chunk in ReleasedZipBytes(download) { received += chunk.readableBytesView }
        watchdog.cancel()
        #expect(!storage.events.withLock { $0 }.contains("watchdog"), "the zip's tail waited for the commit")
        // Every byte arrived while the commit is still held.
        #expect(received == zip)
        #expect(storage.commitStarted.hasFired)
        #expect(try await storage.open(.artifact(module: "example.com/big", version: "v1.0.0", kind: .zip)) == nil)

        let second = Task {
            let served = try await proxy.serve(request)
            storage.note("second served")
            return served
        }
        storage.note("gate opened")
        storage.commitGate.fire()
        let served = try await second.value
        #expect(served.cacheStatus == .hit)
        if case .download = served.body { Issue.record("a request after the verdict joined the download instead of storage") }
        let events = storage.events.withLock { $0 }
        #expect(events.firstIndex(of: "committed").map { $0 < (events.firstIndex(of: "second served") ?? -1) } == true,
                "order: \(events)")
        #expect(try await storage.open(.artifact(module: "example.com/big", version: "v1.0.0", kind: .zip))?.metadata.size == Int64(zip.count))
    }
}
