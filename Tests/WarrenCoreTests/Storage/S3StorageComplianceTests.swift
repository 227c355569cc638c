import Foundation
import S3Client
import S3Storage
import TestServers
import Testing
@testable import WarrenCore

/// S3ArtifactStorage against the storage compliance suite, on a real S3-compatible
/// server (radosgw on loopback). Each storage gets a prefix of its own in one bucket and a
/// fresh local tier; a restart keeps the tier (the same replica coming back).
@Suite struct S3StorageComplianceTests {
    static let http = S3Client.makeHTTPClient()

    static func client() async throws -> S3Client {
        let server = try await RadosGateway.shared()
        let configuration = try S3Configuration.make(
            endpoint: server.endpoint, region: server.region, bucket: "warren-compliance", pathStyle: nil,
            credentials: AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: server.secretAccessKey))
        let client = S3Client(configuration: configuration, http: http)
        try await client.createBucket()
        return client
    }

    static func localTier() throws -> LocalDiskStorage {
        try LocalDiskStorage(root: FileManager.default.temporaryDirectory.path + "/warren-tier-\(UUID().uuidString)")
    }

    static let compliance = ArtifactStorageCompliance(
        make: {
            S3ArtifactStorage(s3: try await client(), prefix: "run-\(UUID().uuidString)/", localTier: try localTier())
        },
        reopen: { storage in
            guard let s3 = storage as? S3ArtifactStorage else { throw POSIXError(.EINVAL) }
            return S3ArtifactStorage(s3: s3.s3, prefix: s3.prefix, localTier: try LocalDiskStorage(root: s3.local.root))
        },
        recover: { storage in
            guard let s3 = storage as? S3ArtifactStorage else { throw POSIXError(.EINVAL) }
            return try s3.local.sweepLeftovers()
        }
    )

    @Test(arguments: ArtifactStorageCompliance.Check.allCases)
    func compliance(_ check: ArtifactStorageCompliance.Check) async throws {
        try await Self.compliance.run(check)
    }
}

/// What only shared object storage must do: what one replica stores, another serves.
@Suite struct S3StorageReplicaTests {
    typealias C = ArtifactStorageCompliance

    /// Two replicas: one bucket prefix, a local tier each.
    static func replicas(partSize: Int64 = 16 << 20) async throws -> (S3ArtifactStorage, S3ArtifactStorage) {
        let s3 = try await S3StorageComplianceTests.client()
        let prefix = "replicas-\(UUID().uuidString)"
        return (S3ArtifactStorage(s3: s3, prefix: prefix, localTier: try S3StorageComplianceTests.localTier(), partSize: partSize),
                S3ArtifactStorage(s3: s3, prefix: prefix, localTier: try S3StorageComplianceTests.localTier(), partSize: partSize))
    }

    @Test func aZipCommittedByOneReplicaIsServedByAnother() async throws {
        let (a, b) = try await Self.replicas(partSize: 5 << 20)
        // Larger than a part: a multipart upload.
        let zip = C.bytes(11 * 1024 * 1024 + 5, seed: 8)
        let staging = try await a.makeStaging(C.zip)
        try staging.writer.write(zip)
        try await a.commit(staging, metadata: C.metadata(zip))
        #expect(try await b.local.open(C.zip) == nil)
        let stored = try #require(try await b.open(C.zip))
        #expect(stored.metadata == C.metadata(zip))
        #expect(try C.contents(stored) == zip)
        // Now in b's tier too.
        #expect(try await b.local.open(C.zip) != nil)
        #expect(try await a.s3.listOpenUploads(prefix: a.prefix).isEmpty)
    }

    @Test func manyConcurrentReadersOfAColdObjectAllGetItWhole() async throws {
        let (a, b) = try await Self.replicas()
        let zip = C.bytes(700_000, seed: 2)
        let staging = try await a.makeStaging(C.zip)
        try staging.writer.write(zip)
        try await a.commit(staging, metadata: C.metadata(zip))
        let contents = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<20 {
                group.addTask { try C.contents(try #require(try await b.open(C.zip))) }
            }
            return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
        }
        #expect(contents.count == 20 && contents.allSatisfy { $0 == zip })
        #expect(try b.local.sweepLeftovers() == 0)
    }

    @Test func mutableAnswersAreAlwaysTheBucketsLatest() async throws {
        let (a, b) = try await Self.replicas()
        let first = Array("v1.0.0\n".utf8), second = Array("v1.0.0\nv1.1.0\n".utf8)
        try await a.writeSmall(C.list, bytes: first, metadata: C.metadata(first, origin: nil))
        #expect(try await b.readSmall(C.list, limit: 1 << 20)?.bytes == first)
        try await a.writeSmall(C.list, bytes: second, metadata: C.metadata(second, origin: nil))
        #expect(try await b.readSmall(C.list, limit: 1 << 20)?.bytes == second, "a replica kept a stale list")
        // Immutable small artifacts reach the other replica and its tier.
        let goMod = Array("module example.com/m\n".utf8)
        try await a.writeSmall(C.mod, bytes: goMod, metadata: C.metadata(goMod, origin: "https://proxy.example/ü"))
        let read = try #require(try await b.readSmall(C.mod, limit: 1 << 20))
        #expect(read.bytes == goMod && read.metadata.origin == "https://proxy.example/ü")
        #expect(try await b.local.readSmall(C.mod, limit: 1 << 20)?.bytes == goMod)
    }

    @Test func theLocalTierStaysWithinItsBudgetEvictingTheLeastRecentlyUsed() async throws {
        let s3 = try await S3StorageComplianceTests.client()
        let storage = S3ArtifactStorage(s3: s3, prefix: "tier-\(UUID().uuidString)", localTier: try S3StorageComplianceTests.localTier(),
                                        localTierBytes: 1_000_000)
        let keys = (1...4).map { StorageKey.artifact(module: "example.com/m", version: "v1.0.\($0)", kind: .zip) }
        let zips = (1...4).map { C.bytes(300_000, seed: UInt8($0)) }
        for i in 0..<3 {
            let staging = try await storage.makeStaging(keys[i])
            try staging.writer.write(zips[i])
            try await storage.commit(staging, metadata: C.metadata(zips[i]))
        }
        // v1.0.1 is used again, so v1.0.2 is now the least recently used.
        _ = try #require(try await storage.open(keys[0]))
        let staging = try await storage.makeStaging(keys[3])
        try staging.writer.write(zips[3])
        try await storage.commit(staging, metadata: C.metadata(zips[3]))

        #expect(storage.localTierUsage.bytes <= 1_000_000)
        #expect(storage.localTierUsage.evicted == 300_000)
        #expect(try await storage.local.open(keys[1]) == nil, "the least recently used zip is still in the tier")
        for i in [0, 2, 3] { #expect(try await storage.local.open(keys[i]) != nil, "\(keys[i]) was evicted") }
        // Evicted from the tier is not gone: it comes back from the bucket.
        #expect(try C.contents(try #require(try await storage.open(keys[1]))) == zips[1])
        // A restart counts what the tier holds (over budget again now) and trims at once.
        let restarted = S3ArtifactStorage(s3: s3, prefix: storage.prefix, localTier: try LocalDiskStorage(root: storage.local.root),
                                          localTierBytes: 1_000_000)
        #expect(restarted.localTierUsage.bytes <= 1_000_000)
    }

    @Test func objectsNotWrittenByWarrenAreNotServed() async throws {
        let (a, _) = try await Self.replicas()
        try await a.s3.putObject(a.objectKey(C.zip), body: .bytes([1, 2, 3]))
        try await a.s3.putObject(a.objectKey(C.mod), body: .bytes([1, 2, 3]))
        #expect(try await a.open(C.zip) == nil)
        #expect(try await a.readSmall(C.mod, limit: 100) == nil)
    }

    @Test func readinessNamesUnreachableObjectStorage() async throws {
        let closed = try RadosGateway.ClosedPort()
        defer { withExtendedLifetime(closed) {} }  // refusing connections to the end
        let port = closed.port
        let configuration = try S3Configuration.make(
            endpoint: "http://127.0.0.1:\(port)", region: "us-east-1", bucket: "gone", pathStyle: nil,
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret-that-must-not-show"))
        let storage = S3ArtifactStorage(s3: S3Client(configuration: configuration, http: S3StorageComplianceTests.http),
                                        prefix: "", localTier: try S3StorageComplianceTests.localTier())
        let problem = try #require(await storage.readinessProblem())
        #expect(problem.contains("object storage http://127.0.0.1:\(port)/gone"))
        #expect(!problem.contains("secret-that-must-not-show"))
        #expect(await storage.checkWritable() == false)
    }
}
