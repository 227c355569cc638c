import Foundation
import Testing
@testable import WarrenCore

/// Warren's tar against GNU tar: what Warren writes (short names, names split into
/// ustar's prefix, names only pax can hold) GNU tar lists and extracts byte for byte, and
/// what GNU tar packs (directories included) Warren reads; a damaged header or a name that
/// climbs out is refused.
@Suite struct TarArchiveTests {
    static let names = [
        "warren-bundle.json",
        "modules/github.com/!burnt!sushi/toml/@v/v1.2.1.zip",
        "modules/" + String(repeating: "long-path-segment/", count: 9) + "@v/v1.0.0.mod",  // > 100: ustar prefix
        "modules/" + String(repeating: "x", count: 120) + "/" + String(repeating: "y", count: 120) + "/@v/v1.0.0.info",  // pax
    ]

    static func tar(_ args: [String], in dir: String) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    @Test func whatWarrenWritesGNUTarReadsAndBack() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/warren-tar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bundle.tar"
        let writer = try TarWriter(path: path)
        var contents: [String: [UInt8]] = [:]
        for (i, name) in Self.names.enumerated() {
            let bytes = (0..<(i * 700 + 3)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            contents[name] = bytes
            try writer.add(name: name, bytes: bytes)
        }
        try writer.finish()

        let listed = try Self.tar(["-tf", path], in: dir)
        #expect(listed.status == 0 && listed.out.split(separator: "\n").map(String.init) == Self.names, "\(listed.out)")
        let out = dir + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        #expect(try Self.tar(["-xf", path, "-C", out], in: dir).status == 0)
        for name in Self.names {
            #expect(FileManager.default.contents(atPath: out + "/" + name).map(Array.init) == contents[name], "\(name)")
        }
        let index = try TarIndex(path: path)
        #expect(index.names == Self.names)
        for name in Self.names {
            let entry = try #require(index.entries[name])
            #expect(try index.read(entry, limit: 1 << 20) == contents[name], "\(name)")
        }

        // GNU tar's own archive of the extracted tree, directories and all.
        let repacked = dir + "/repacked.tar"
        #expect(try Self.tar(["--format=pax", "-cf", repacked, "-C", out, "."], in: dir).status == 0)
        let again = try TarIndex(path: repacked)
        for name in Self.names {
            let entry = try #require(again.entries["./" + name] ?? again.entries[name], "\(name) in \(again.names)")
            #expect(try again.read(entry, limit: 1 << 20) == contents[name], "\(name)")
        }
    }

    @Test func damagedOrClimbingArchivesAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/warren-tar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/a.tar"
        let writer = try TarWriter(path: path)
        try writer.add(name: "modules/a/@v/v1.0.0.mod", bytes: Array("module a\n".utf8))
        try writer.finish()
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[10] ^= 0x01  // inside the name: the header's checksum no longer adds up
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: TarError.self) { _ = try TarIndex(path: path) }

        #expect(throws: TarError.self) { try TarWriter(path: dir + "/b.tar").add(name: "../escape", bytes: []) }
        // A header that names a parent directory, written by hand with a valid checksum.
        let evil = dir + "/evil.tar"
        let block = TarWriter.block(name: "modules/../../etc/passwd", prefix: "", size: 0, type: UInt8(ascii: "0"), mtime: 0)
        try Data(block + [UInt8](repeating: 0, count: 1024)).write(to: URL(fileURLWithPath: evil))
        #expect(throws: TarError.self) { _ = try TarIndex(path: evil) }
    }
}
