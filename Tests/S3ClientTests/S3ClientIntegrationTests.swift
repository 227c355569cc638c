import AsyncHTTPClient
import Foundation
import NIOCore
import S3Client
import TestServers
import Testing

/// The client against a real S3-compatible server (radosgw on loopback), each test in a
/// bucket of its own.
@Suite struct S3ClientIntegrationTests {
    static let http = S3Client.makeHTTPClient()

    static func client(secret: String? = nil, bucket: String = "warren-\(UUID().uuidString.prefix(8).lowercased())") async throws -> S3Client {
        let server = try await RadosGateway.shared()
        let credentials = AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: secret ?? server.secretAccessKey)
        let configuration = try S3Configuration.make(endpoint: server.endpoint, region: server.region, bucket: bucket,
                                                     pathStyle: nil, credentials: credentials)
        let client = S3Client(configuration: configuration, http: http)
        if secret == nil { try await client.createBucket() }
        return client
    }

    static func collect(_ body: HTTPClientResponse.Body) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in body { out.append(contentsOf: chunk.readableBytesView) }
        return out
    }

    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/warren-s3-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 131) >> 3) ^ seed }
    }

    @Test func objectsWithModuleKeysRoundTrip() async throws {
        let s3 = try await Self.client()
        // The bytes GOPROXY keys hold: !-escaped capitals, @v, + in versions.
        let key = "mods/github.com/!burnt!sushi/toml/@v/v1.2.1+incompatible.mod"
        let body = Array("module github.com/BurntSushi/toml\n".utf8)
        try await s3.putObject(key, body: .bytes(body), contentType: "text/plain", metadata: ["warren-hash": "h1:abc="])
        let info = try #require(try await s3.headObject(key))
        #expect(info.size == Int64(body.count))
        #expect(info.metadata["warren-hash"] == "h1:abc=")
        let small = try #require(try await s3.getSmallObject(key, limit: 1024))
        #expect(small.bytes == body)
        // A second PUT with ifAbsent keeps the first.
        #expect(try await s3.putObject(key, body: .bytes([1, 2, 3]), ifAbsent: true) == false)
        #expect(try await s3.getSmallObject(key, limit: 1024)?.bytes == body)
        try await s3.deleteObject(key)
        #expect(try await s3.headObject(key) == nil)
        #expect(try await s3.getObject(key) == nil)
        try await s3.deleteObject(key)  // already gone: fine
    }

    @Test func rangedReadsStreamTheAskedBytes() async throws {
        let s3 = try await Self.client()
        let bytes = Self.pattern(300_000, seed: 9)
        try await s3.putObject("big", body: .bytes(bytes))
        let part = try #require(try await s3.getObject("big", range: 1000...200_999))
        #expect(part.range == 1000...200_999)
        #expect(part.info.size == 300_000)
        #expect(try await Self.collect(part.body) == Array(bytes[1000...200_999]))
    }

    @Test func largeFilesGoUpInPartsAndAppearWhole() async throws {
        let s3 = try await Self.client()
        let bytes = Self.pattern(12 * 1024 * 1024 + 777, seed: 4)
        let path = try Self.temporaryFile(bytes)
        defer { unlink(path) }
        try await s3.putFile("zips/m@v1.zip", path: path, length: Int64(bytes.count), metadata: ["warren-hash": "h1:x"],
                             partSize: 5 * 1024 * 1024)
        let info = try #require(try await s3.headObject("zips/m@v1.zip"))
        #expect(info.size == Int64(bytes.count))
        #expect(info.metadata["warren-hash"] == "h1:x")
        // radosgw's multipart ETag: "<md5 of part md5s>-<parts>".
        #expect(info.etag.hasSuffix("-3\""))
        let whole = try #require(try await s3.getObject("zips/m@v1.zip"))
        #expect(try await Self.collect(whole.body) == bytes)
        #expect(try await s3.listOpenUploads(prefix: "zips/").isEmpty)
    }

    @Test func aFailedUploadIsAbortedAndLeavesNothing() async throws {
        let s3 = try await Self.client()
        let bytes = Self.pattern(11 * 1024 * 1024, seed: 5)
        let path = try Self.temporaryFile(bytes)
        defer { unlink(path) }
        // The file is shorter than claimed: the third part cannot be read.
        await #expect(throws: S3Error.self) {
            try await s3.putFile("zips/cut.zip", path: path, length: Int64(bytes.count) + 4 * 1024 * 1024, partSize: 5 * 1024 * 1024)
        }
        #expect(try await s3.headObject("zips/cut.zip") == nil)
        #expect(try await s3.listOpenUploads(prefix: "zips/").isEmpty, "the failed upload was left open")
    }

    @Test func listingFollowsContinuationToTheEnd() async throws {
        let s3 = try await Self.client()
        let keys = (0..<230).map { String(format: "m/@v/v1.0.%03d.info", $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, key) in keys.enumerated() {
                if index >= 16 { try await group.next() }
                group.addTask { try await s3.putObject(key, body: .bytes(Array(key.utf8))) }
            }
            try await group.waitForAll()
        }
        try await s3.putObject("other/x", body: .bytes([1]))
        let listed = try await s3.listAllObjects(prefix: "m/", pageSize: 50)
        #expect(listed.map(\.key) == keys)
        #expect(listed.allSatisfy { $0.size == Int64($0.key.utf8.count) })
    }

    @Test func aPresignedURLReadsTheObjectWithoutCredentialsUntilItExpires() async throws {
        let s3 = try await Self.client()
        let key = "zips/example.com/!m/@v/v1.0.0+incompatible.zip"
        let bytes = Self.pattern(50_000, seed: 3)
        try await s3.putObject(key, body: .bytes(bytes))
        let url = s3.presignedGetURL(key, expires: 300)
        #expect(!url.contains(s3.configuration.credentials.secretAccessKey))
        let response = try await Self.http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        #expect(response.status.code == 200)
        #expect(try await Self.collect(response.body) == bytes)
        // One that expired an hour ago is refused.
        let old = s3.presignedGetURL(key, expires: 60, at: Date().addingTimeInterval(-3600))
        let refused = try await Self.http.execute(HTTPClientRequest(url: old), timeout: .seconds(10))
        #expect(refused.status.code == 403)
        _ = try await Self.collect(refused.body)
    }

    @Test func aWrongSecretIsRefusedAndNeverShown() async throws {
        let good = try await Self.client()
        let wrong = "wrong-secret-\(UUID().uuidString)"
        let bad = try await Self.client(secret: wrong, bucket: good.configuration.bucket)
        do {
            try await bad.putObject("x", body: .bytes([1]))
            Issue.record("a request signed with a wrong secret was accepted")
        } catch {
            #expect(error.status == 403)
            #expect(error.code == "SignatureDoesNotMatch")
            #expect(!error.description.contains(wrong))
            #expect(!"\(bad.configuration.credentials)".contains(wrong))
        }
    }

    @Test func anUnreachableServiceIsATransientErrorAfterRetries() async throws {
        let closed = try RadosGateway.ClosedPort()
        defer { withExtendedLifetime(closed) {} }  // refusing connections to the end
        let port = closed.port
        let configuration = try S3Configuration.make(endpoint: "http://127.0.0.1:\(port)", region: "us-east-1", bucket: "nothing",
                                                     pathStyle: nil, credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "b"))
        let s3 = S3Client(configuration: configuration, http: Self.http)
        do {
            _ = try await s3.headObject("k")
            Issue.record("a HEAD to a closed port succeeded")
        } catch {
            #expect(error.kind == .unreachable)
            #expect(error.isTransient)
        }
    }
}
