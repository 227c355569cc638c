import Foundation
import GoModule
import Testing
@testable import WarrenCore

/// What a client of a zip still arriving may be sent: everything but the held-back tail
/// until the verdict, then the tail on success, an error instead of it on failure.
@Suite struct ReleasedZipBytesTests {
    func download(bytes count: Int) throws -> (ZipDownload, String) {
        let path = FileManager.default.temporaryDirectory.path + "/warren-released-\(UUID().uuidString)"
        let writer = try WritableFile(creating: path)
        try writer.write([UInt8]((0..<count).map { UInt8(truncatingIfNeeded: $0) }))
        return (ZipDownload(file: try ReadableFile(path: path)), path)
    }

    /// Reads from `bytes` until it has `count` bytes (or it ends).
    func take(_ iterator: inout ReleasedZipBytes.AsyncIterator, _ count: Int) async throws -> Int {
        var got = 0
        while got < count, let chunk = try await iterator.next() { got += chunk.readableBytes }
        return got
    }

    @Test func theTailWaitsForTheVerdict() async throws {
        let size = 300 * 1024
        let (download, path) = try download(bytes: size)
        defer { unlink(path) }
        download.published(Int64(size))
        var iterator = ReleasedZipBytes(download, chunkSize: 16 * 1024).makeAsyncIterator()
        let early = size - Int(ZipDownload.holdBack)
        #expect(try await take(&iterator, early) == early)
        // Nothing more until the verdict: the next read is waiting.
        let rest = Task { [iterator] in
            var it = iterator
            var got = 0
            while let chunk = try await it.next() { got += chunk.readableBytes }
            return got
        }
        download.finish(.success(ArtifactMetadata(size: Int64(size), hash: "h1:x", storedAt: 0)))
        #expect(try await rest.value == Int(ZipDownload.holdBack))
    }

    @Test func aReadWaitingForTheTailGetsTheFailure() async throws {
        let size = 200 * 1024
        let (download, path) = try download(bytes: size)
        defer { unlink(path) }
        download.published(Int64(size))
        var iterator = ReleasedZipBytes(download).makeAsyncIterator()
        let early = size - Int(ZipDownload.holdBack)
        #expect(try await take(&iterator, early) == early)
        let next = Task { [iterator] in
            var it = iterator
            return try await it.next()?.readableBytes
        }
        download.finish(.failure(.forbidden("example.com/m@v1.0.0: checksum mismatch")))
        await #expect(throws: ProxyError.self) { _ = try await next.value }
    }

    @Test func aFailedZipEndsBeforeItsTail() async throws {
        let size = 200 * 1024
        let (download, path) = try download(bytes: size)
        defer { unlink(path) }
        download.published(Int64(size))
        download.finish(.failure(.forbidden("example.com/m@v1.0.0: checksum mismatch")))
        var iterator = ReleasedZipBytes(download).makeAsyncIterator()
        var sent = 0
        await #expect(throws: ProxyError.self) {
            while let chunk = try await iterator.next() { sent += chunk.readableBytes }
        }
        #expect(sent <= size - Int(ZipDownload.holdBack), "a client received \(sent) of \(size) bytes of a refused zip")
    }
}

@Suite struct RecentRefusalsTests {
    @Test func refusalsExpireAndStayBounded() {
        let refusals = RecentRefusals(lifetime: 60)
        let key = StorageKey.artifact(module: "example.com/m", version: "v1.0.0", kind: .zip)
        refusals.remember(key, .forbidden("mismatch"), now: 1000)
        #expect(refusals.get(key, now: 1059)?.kind == .forbidden)
        #expect(refusals.get(key, now: 1061) == nil)
        for i in 0..<(RecentRefusals.capacity + 10) {
            refusals.remember(.artifact(module: "example.com/m\(i)", version: "v1.0.0", kind: .zip), .forbidden("x"), now: 2000 + Double(i))
        }
        #expect(refusals.get(.artifact(module: "example.com/m\(RecentRefusals.capacity + 9)", version: "v1.0.0", kind: .zip), now: 2100) != nil)
        #expect(refusals.get(.artifact(module: "example.com/m0", version: "v1.0.0", kind: .zip), now: 2100) == nil)
    }
}
