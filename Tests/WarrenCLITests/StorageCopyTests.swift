import Foundation
import GoModule
import TestServers
import Testing

/// `warren storage copy`: a single node's cache moved into the bucket a cluster shares,
/// every zip's h1: checked on the way.
@Suite struct StorageCopyTests {
    let fixture = ModuleFixture.shared

    /// `warren storage copy` from the node's data directory under `scratch` to `target`.
    static func copy(_ scratch: ScratchDirectory, to target: String, _ server: S3TestServer) async throws -> WarrenBinary.Output {
        var environment = S3StorageServeTests.environment(server)
        environment["PATH"] = "/usr/bin:/bin"
        environment["HOME"] = scratch.path
        return try await WarrenBinary.run(["storage", "copy", "--from", "dir:" + scratch.path + "/node", "--to", target,
                                           "--s3-endpoint", server.endpoint, "--data-dir", scratch.path + "/target"],
                                          environment: environment)
    }

    @Test func aDiskCacheMovesIntoTheBucketAndServesFromThere() async throws {
        let (server, bucket) = try await S3StorageServeTests.bucket()
        let scratch = ScratchDirectory()
        let targets = fixture.modules.map { "\($0.path)@\($0.version)" }
        do {
            let node = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root], dataDir: scratch.path + "/node")
            defer { node.stop() }
            let download = try await GoClient(proxy: node.url).run(["mod", "download"] + targets)
            #expect(download.status == 0, "\(download.stderr)")
        }
        let copy = try await Self.copy(scratch, to: "s3://\(bucket.configuration.bucket)/copied", server)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stdout.contains("copied \(fixture.modules.count * 3) artifacts"), "\(copy.stdout)")

        // A replica with nothing of its own and no upstream serves them all from the bucket.
        let replica = try await WarrenServerProcess.start(arguments: ["--upstream", "off", "--storage", "s3://\(bucket.configuration.bucket)/copied",
                                                          "--s3-endpoint", server.endpoint], environment: S3StorageServeTests.environment(server))
        defer { replica.stop() }
        let again = try await GoClient(proxy: replica.url).run(["mod", "download", "-json"] + targets)
        #expect(again.status == 0, "\(again.stderr)")
        for module in fixture.modules { #expect(again.stdout.contains("\"Sum\": \"\(module.zipHash)\""), "\(module.path)") }
        // The target's index (SQLite in the copy's --data-dir) was filled on the way.
        let reader = try await WarrenServerProcess.start(arguments: ["--upstream", "off"], dataDir: scratch.path + "/target")
        defer { reader.stop() }
        let index = try await HTTP.get(reader.url + "/index")
        #expect(Set(index.text.split(separator: "\n").compactMap { line -> String? in
            guard let entry = try? JSONDecoder().decode(IndexFeedTests.IndexLine.self, from: Data(line.utf8)) else { return nil }
            return entry.Path + "@" + entry.Version
        }) == Set(targets))
    }

    @Test func aDamagedZipIsReportedAndNotCopied() async throws {
        let (server, bucket) = try await S3StorageServeTests.bucket()
        let scratch = ScratchDirectory()
        let module = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        do {
            let node = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root], dataDir: scratch.path + "/node")
            defer { node.stop() }
            #expect(try await GoClient(proxy: node.url).run(["mod", "download", "\(module.path)@\(module.version)"]).status == 0)
        }
        // One byte changed in the middle of the stored zip: same size, other contents.
        let zip = scratch.path + "/node/modules/" + ModuleFixture.artifactPath(module.path, module.version, "zip")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: zip)))
        bytes[bytes.count / 3] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: zip))
        let copy = try await Self.copy(scratch, to: "s3://\(bucket.configuration.bucket)/damaged", server)
        #expect(copy.status == 1)
        #expect(copy.stderr.contains("skipped github.com/kr/text/@v/v0.2.0.zip"), "\(copy.stderr)")
        #expect(copy.stdout.contains("copied 2 artifacts"), "\(copy.stdout)")
        #expect(try await bucket.headObject("damaged/github.com/kr/text/@v/v0.2.0.zip") == nil)
        #expect(try await bucket.headObject("damaged/github.com/kr/text/@v/v0.2.0.mod") != nil)
    }
}
