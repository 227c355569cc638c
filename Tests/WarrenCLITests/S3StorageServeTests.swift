import Foundation
import GoModule
import S3Client
import TestServers
import Testing

/// `warren serve --storage s3://…` on a real S3-compatible server (radosgw on loopback):
/// the go command downloads through one replica, and a second replica with an empty disk
/// and no upstream at all serves the same modules from the bucket.
@Suite struct S3StorageServeTests {
    let fixture = ModuleFixture.shared
    /// One client for the whole run (an HTTPClient must be shut down, never just dropped).
    static let http = S3Client.makeHTTPClient()

    static func bucket() async throws -> (S3TestServer, S3Client) {
        let server = try await RadosGateway.shared()
        let configuration = try S3Configuration.make(
            endpoint: server.endpoint, region: server.region, bucket: "warren-serve-\(UUID().uuidString.prefix(8).lowercased())",
            pathStyle: nil, credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey))
        let client = S3Client(configuration: configuration, http: http)
        try await client.createBucket()
        return (server, client)
    }

    static func environment(_ server: S3TestServer) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": server.accessKeyID, "AWS_SECRET_ACCESS_KEY": server.secretAccessKey]
    }

    @Test func aSecondReplicaServesWhatTheFirstStored() async throws {
        let (server, s3) = try await Self.bucket()
        let storage = ["--storage", "s3://\(s3.configuration.bucket)/proxy", "--s3-endpoint", server.endpoint]
        let targets = fixture.modules.map { "\($0.path)@\($0.version)" }

        let first = try await WarrenServerProcess.start(arguments: ["--upstream", "file://" + fixture.root] + storage,
                                            environment: Self.environment(server))
        defer { first.stop() }
        let ready = try await HTTP.get(first.url + "/readyz")
        #expect(ready.status == 200, "\(ready.text)")
        let go = GoClient(proxy: first.url)
        let download = try await go.run(["mod", "download", "-json"] + targets)
        #expect(download.status == 0, "\(download.stderr)")
        let versions = try await go.run(["list", "-m", "-versions", "github.com/kr/text"])
        #expect(versions.stdout.contains("v0.1.0 v0.2.0"), "\(versions.stderr)")

        // Every zip is in the bucket with the h1: the fixture says, no upload left open.
        for module in fixture.modules {
            let key = "proxy/" + (try PathEscaping.escapePath(module.path)) + "/@v/" + module.version + ".zip"
            let info = try #require(try await s3.headObject(key), "\(key) is not in the bucket")
            #expect(info.metadata["warren-hash"] == module.zipHash, "\(key)")
        }
        #expect(try await s3.listOpenUploads(prefix: "proxy/").isEmpty)

        // Another replica: its own empty data dir, no upstream; everything from S3.
        let second = try await WarrenServerProcess.start(arguments: ["--upstream", "off"] + storage, environment: Self.environment(server))
        defer { second.stop() }
        let fresh = GoClient(proxy: second.url)
        let again = try await fresh.run(["mod", "download", "-json"] + targets)
        #expect(again.status == 0, "\(again.stderr)")
        for module in fixture.modules {
            #expect(again.stdout.contains("\"Sum\": \"\(module.zipHash)\""), "\(module.path)@\(module.version)")
        }
        // The list the first replica stored is the second's answer (it has no upstream).
        let list = try await HTTP.get(second.url + "/github.com/kr/text/@v/list")
        #expect(list.status == 200 && list.text == "v0.1.0\nv0.2.0\n", "\(list.status) \(list.text)")
    }

    @Test func unreachableObjectStorageIsAClear503() async throws {
        let closed = try RadosGateway.ClosedPort()
        defer { withExtendedLifetime(closed) {} }  // refusing connections to the end
        let port = closed.port
        let secret = "must-not-appear-\(UUID().uuidString)"
        let warren = try await WarrenServerProcess.start(
            arguments: ["--upstream", "file://" + fixture.root, "--storage", "s3://nowhere/x", "--s3-endpoint", "http://127.0.0.1:\(port)"],
            environment: ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": secret])
        defer { warren.stop() }
        let ready = try await HTTP.get(warren.url + "/readyz")
        #expect(ready.status == 503)
        #expect(ready.text.contains("object storage http://127.0.0.1:\(port)/nowhere is not writable"), "\(ready.text)")
        let module = try #require(fixture.modules.first)
        let mod = try await HTTP.get(warren.url + "/" + (try PathEscaping.escapePath(module.path)) + "/@v/" + module.version + ".mod")
        #expect(mod.status == 503, "\(mod.status) \(mod.text)")
        #expect(mod.text.split(separator: "\n").count == 1, "\(mod.text)")
        for text in [ready.text, mod.text, warren.stderr] { #expect(!text.contains(secret)) }
    }

    @Test func missingCredentialsStopTheStartWithAReason() async throws {
        let result = try await WarrenBinary.run(["serve", "--storage", "s3://bucket/p", "--s3-endpoint", "http://127.0.0.1:9"],
                                                environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
        #expect(result.status == 2)
        #expect(result.stderr.contains("object storage needs credentials"), "\(result.stderr)")
    }
}

/// `--s3-redirect-over`: large stored zips are answered with a 302 to a presigned URL of
/// the bucket, which the go command follows; small ones and cold ones are served here.
@Suite struct S3RedirectTests {
    let fixture = ModuleFixture.shared

    @Test func largeStoredZipsRedirectToTheBucket() async throws {
        let (server, bucket) = try await S3StorageServeTests.bucket()
        let large = try #require(fixture.module("golang.org/x/text", "v0.7.0"))
        let small = try #require(fixture.module("github.com/kr/text", "v0.2.0"))
        let warren = try await WarrenServerProcess.start(
            arguments: ["--upstream", "file://" + fixture.root, "--storage", "s3://\(bucket.configuration.bucket)/r",
                        "--s3-endpoint", server.endpoint, "--s3-redirect-over", "1MiB"],
            environment: S3StorageServeTests.environment(server))
        defer { warren.stop() }
        let largePath = "/" + ModuleFixture.artifactPath(large.path, large.version, "zip")
        // Cold: fetched, verified and streamed by Warren.
        let first = try await RawHTTP.get(port: warren.port, rawPath: largePath)
        #expect(first.status == 200)
        // Stored now: a redirect to the bucket, cacheable only privately, for less than the
        // URL's lifetime.
        let again = try await RawHTTP.get(port: warren.port, rawPath: largePath)
        #expect(again.status == 302, "\(again.status) \(again.body.prefix(200))")
        let location = try #require(again.headers["location"])
        #expect(location.hasPrefix(server.endpoint + "/\(bucket.configuration.bucket)/r/golang.org/x/text/%40v/v0.7.0.zip?"))
        #expect(location.contains("X-Amz-Signature=") && !location.contains(server.secretAccessKey))
        #expect(again.headers["cache-control"] == "private, max-age=840")
        let fromBucket = try await HTTP.get(location)
        #expect(fromBucket.status == 200 && fromBucket.body.count == large.zipSize)
        // Small zips are served here.
        #expect(try await RawHTTP.get(port: warren.port, rawPath: "/" + ModuleFixture.artifactPath(small.path, small.version, "zip")).status == 200)
        // The go command follows the redirect and gets the right hash.
        let go = GoClient(proxy: warren.url)
        let download = try await go.run(["mod", "download", "-json", "\(large.path)@\(large.version)"])
        #expect(download.status == 0, "\(download.stderr)")
        #expect(download.stdout.contains("\"Sum\": \"\(large.zipHash)\""))
    }
}
