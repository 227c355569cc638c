import Foundation
import Testing
@testable import GoModule

/// Hashing a zip while it streams must give exactly what reading the finished file gives,
/// or step aside: a stream it cannot follow, or one that disagrees with the central
/// directory, falls back to the ordinary read, never to a wrong hash.
@Suite struct StreamingZipHasherTests {
    let module = "example.com/m"
    let version = "v1.0.0"
    var prefix: String { "\(module)@\(version)/" }

    /// Feeds `bytes` in pieces of `chunk` bytes.
    static func stream(_ bytes: [UInt8], module: String, version: String, chunk: Int) -> StreamingZipHasher.Result? {
        let hasher = StreamingZipHasher(module: module, version: version)
        var at = 0
        while at < bytes.count {
            let end = min(bytes.count, at + chunk)
            bytes[at..<end].withUnsafeBytes { hasher.consume($0) }
            at = end
        }
        return hasher.result
    }

    /// Streams the zip at `path` and checks that the streamed verdict equals the ordinary one.
    static func expectSameAsRead(_ path: String, module: String, version: String, chunks: [Int]) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let plain = try ModuleZipChecker.verify(module: module, version: version, zipPath: path)
        for chunk in chunks {
            let streamed = stream(bytes, module: module, version: version, chunk: chunk)
            #expect(streamed != nil, "\(path): stream not followed with \(chunk)-byte chunks")
            #expect(streamed?.records.count == (try ZipReader(path: path).entries.count))
            let v = try ModuleZipChecker.verify(module: module, version: version, zipPath: path, streamed: streamed)
            #expect(v.hash == plain.hash, "\(path) with \(chunk)-byte chunks")
            #expect(v.goMod == plain.goMod)
            #expect(v.streamed)
        }
    }

    func smallZip(_ tmp: TemporaryDirectory, _ name: String = "m.zip") throws -> String {
        let path = tmp.file(name)
        try makeZip(at: path, entries: [
            (Array((prefix + "go.mod").utf8), Array("module example.com/m\n".utf8)),
            (Array((prefix + "m.go").utf8), Array("package m\n\nfunc F() int { return 1 }\n".utf8)),
            (Array((prefix + "empty.txt").utf8), []),
            (Array((prefix + "big.txt").utf8), Array(String(repeating: "all work and no play ", count: 20_000).utf8)),
        ])
        return path
    }

    @Test func knownSizeEntriesAtEveryChunking() throws {
        let tmp = TemporaryDirectory()
        try Self.expectSameAsRead(try smallZip(tmp), module: module, version: version, chunks: [1, 2, 3, 7, 29, 4096, 1 << 20])
    }

    /// Warren's own writer uses data descriptors, as the go command's does.
    @Test func dataDescriptorEntries() throws {
        let source = "/usr/share/gocode/src/github.com/kr/text"
        try #require(FileManager.default.fileExists(atPath: source))
        let tmp = TemporaryDirectory()
        let path = tmp.file("kr.zip")
        _ = try ModuleZipWriter.create(module: "github.com/kr/text", version: "v0.2.0", directory: source,
                                       to: try WritableFile(creating: path))
        try Self.expectSameAsRead(path, module: "github.com/kr/text", version: "v0.2.0", chunks: [1, 5, 16, 1000, 65536])
    }

    /// A stream that is not the file on disk (here: another zip) cannot lend its hashes.
    @Test func aStreamThatDisagreesWithTheFileIsIgnored() throws {
        let tmp = TemporaryDirectory()
        let path = try smallZip(tmp)
        let other = tmp.file("other.zip")
        try makeZip(at: other, entries: [
            (Array((prefix + "go.mod").utf8), Array("module example.com/m\n".utf8)),
            (Array((prefix + "m.go").utf8), Array("package m // different\n".utf8)),
        ])
        let streamed = Self.stream(Array(try Data(contentsOf: URL(fileURLWithPath: other))), module: module, version: version, chunk: 100)
        #expect(streamed != nil)
        let v = try ModuleZipChecker.verify(module: module, version: version, zipPath: path, streamed: streamed)
        #expect(!v.streamed)
        #expect(v.hash == (try ModuleZipChecker.verify(module: module, version: version, zipPath: path).hash))
    }

    /// A flipped bit in compressed data: the streamed CRC disagrees, and the ordinary read
    /// reports the corruption.
    @Test func corruptDataIsStillRefused() throws {
        let tmp = TemporaryDirectory()
        let path = try smallZip(tmp)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let entry = try #require(try ZipReader(path: path).entries.first { $0.name.hasSuffix("big.txt") })
        bytes[Int(entry.localHeaderOffset) + 30 + entry.nameBytes.count + 40] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let streamed = Self.stream(bytes, module: module, version: version, chunk: 333)
        #expect(throws: (any Error).self) {
            try ModuleZipChecker.verify(module: module, version: version, zipPath: path, streamed: streamed)
        }
    }

    @Test func truncatedOrForeignStreamsGiveNoResult() throws {
        let tmp = TemporaryDirectory()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: try smallZip(tmp))))
        #expect(Self.stream(Array(bytes.prefix(bytes.count / 2)), module: module, version: version, chunk: 64) == nil)
        #expect(Self.stream(Array("not a zip at all".utf8), module: module, version: version, chunk: 4) == nil)
        #expect(Self.stream([], module: module, version: version, chunk: 1) == nil)
    }

    /// A bomb that inflates far past its declared size is abandoned, not inflated to the end.
    @Test func bombsAreAbandoned() throws {
        let big = [UInt8](repeating: 0, count: 20 << 20)
        var compressed: [UInt8] = []
        try big.withUnsafeBytes { raw in
            try Deflater(level: 1).compress(raw, finish: true) { compressed.append(contentsOf: $0) }
        }
        let tmp = TemporaryDirectory()
        let file = try WritableFile(creating: tmp.file("bomb.zip"))
        let writer = ZipWriter(sink: file)
        try writer.addEntry(name: Array((prefix + "bomb.txt").utf8), method: ZipWriter.methodDeflate, crc: 0,
                            uncompressedSize: 1000, compressed: compressed)
        try writer.finish()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: tmp.file("bomb.zip"))))
        #expect(Self.stream(bytes, module: module, version: version, chunk: 4096) == nil)
    }
}
