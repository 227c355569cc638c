import AsyncHTTPClient
import Foundation
import GoModule
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// `warren bench`: the same module versions through every proxy, interleaved so that
/// no proxy is measured at a quieter moment than another, with no client-side cache.
/// Every answer is also hashed, so the run doubles as a consistency check.
public struct BenchConfiguration: Sendable {
    public var proxies: [String]
    public var items: [BenchItem]
    public var concurrency: Int
    public var repetitions: Int
    /// Seconds per request.
    public var timeout: Double
    /// The checksum database to compare against, or nil.
    public var sumdb: SumDBSetting?
    /// Modules never looked up in the checksum database (GONOSUMDB/GOPRIVATE).
    public var noSumDB: ModulePathPatterns
    public var environment: [String: String]

    public init(proxies: [String], items: [BenchItem], concurrency: Int, repetitions: Int, timeout: Double,
                sumdb: SumDBSetting?, noSumDB: ModulePathPatterns, environment: [String: String]) {
        self.proxies = proxies
        self.items = items
        self.concurrency = concurrency
        self.repetitions = repetitions
        self.timeout = timeout
        self.sumdb = sumdb
        self.noSumDB = noSumDB
        self.environment = environment
    }
}

public enum BenchEndpoint: String, Sendable, Codable, CaseIterable {
    case list, info, mod, zip
}

/// One request's measurements and a fingerprint of what came back.
public struct BenchSample: Sendable {
    public var proxy: Int
    public var item: Int
    public var endpoint: BenchEndpoint
    public var repetition: Int
    public var status: Int?
    /// `timeout`, `connect`, `tls`, `http-404`, `http-5xx`, … when the request failed.
    public var failure: String?
    public var firstByteMs: Double?
    public var totalMs: Double
    public var bytes: Int
    /// `hit` or `miss` when the proxy said so in a header.
    public var cache: String?
    /// h1: hash of a .mod or .zip, the sorted version list, or the .info Version.
    public var fingerprint: String?
}

public struct BenchRunner: Sendable {
    public let configuration: BenchConfiguration

    public init(_ configuration: BenchConfiguration) { self.configuration = configuration }

    struct Job: Sendable {
        var proxy: Int
        var item: Int
        var endpoint: BenchEndpoint
        var repetition: Int
    }

    /// The request order: repetitions, then items, then proxies (rotated per item, so
    /// none always goes first), then endpoints in the order the go command asks.
    func jobs() -> [Job] {
        var out: [Job] = []
        let c = configuration
        for rep in 0..<c.repetitions {
            for (i, item) in c.items.enumerated() {
                for k in 0..<c.proxies.count {
                    let p = (k + i + rep) % c.proxies.count
                    for e in BenchEndpoint.allCases where e != .zip || item.wantZip {
                        out.append(Job(proxy: p, item: i, endpoint: e, repetition: rep))
                    }
                }
            }
        }
        return out
    }

    public func run(progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> BenchResult {
        let scratch = FileManager.default.temporaryDirectory.path + "/warren-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let client = makeClient()
        let started = Date()
        let clock = ContinuousClock.now
        var samples: [BenchSample] = []
        let jobs = jobs()
        let width = max(1, configuration.concurrency)
        do {
            await withTaskGroup(of: BenchSample.self) { group in
                var next = 0
                func add() {
                    let job = jobs[next]
                    next += 1
                    group.addTask { await self.perform(job, client: client, scratch: scratch) }
                }
                while next < min(width, jobs.count) { add() }
                for await sample in group {
                    samples.append(sample)
                    progress(samples.count, jobs.count)
                    if next < jobs.count { add() }
                }
            }
            let wall = ContinuousClock.now - clock
            let references = await checksumRecords(client: client)
            try await client.shutdown()
            return BenchResult.summarize(configuration: configuration, samples: samples, references: references, startedAt: started,
                                         wallSeconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func makeClient() -> HTTPClient {
        var config = HTTPClient.Configuration()
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = configuration.environment["SSL_CERT_FILE"], !file.isEmpty {
            tls.trustRoots = .file(file)
        }
        config.tlsConfiguration = tls
        config.redirectConfiguration = .follow(max: 5, allowCycles: false)
        config.decompression = .disabled
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, configuration.concurrency)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    func url(_ job: Job) -> String? {
        let item = configuration.items[job.item]
        guard let path = try? PathEscaping.escapePath(item.path), let version = try? PathEscaping.escapeVersion(item.version) else { return nil }
        let base = configuration.proxies[job.proxy] + "/" + path + "/@v/"
        switch job.endpoint {
        case .list: return base + "list"
        case .info: return base + version + ".info"
        case .mod: return base + version + ".mod"
        case .zip: return base + version + ".zip"
        }
    }

    func perform(_ job: Job, client: HTTPClient, scratch: String) async -> BenchSample {
        var sample = BenchSample(proxy: job.proxy, item: job.item, endpoint: job.endpoint, repetition: job.repetition, totalMs: 0, bytes: 0)
        guard let url = url(job) else {
            sample.failure = "invalid-path"
            return sample
        }
        let start = ContinuousClock.now
        func ms() -> Double {
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        let zipPath = scratch + "/\(job.proxy)-\(job.item)-\(job.repetition).zip"
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "User-Agent", value: "warren-bench")
            let response = try await client.execute(request, timeout: .milliseconds(Int64(configuration.timeout * 1000)))
            sample.firstByteMs = ms()
            sample.status = Int(response.status.code)
            sample.cache = Self.cacheStatus(response.headers)
            var body: [UInt8] = []
            var file: FileHandle?
            if job.endpoint == .zip && response.status == .ok {
                _ = FileManager.default.createFile(atPath: zipPath, contents: nil)
                file = FileHandle(forWritingAtPath: zipPath)
            }
            for try await chunk in response.body {
                sample.bytes += chunk.readableBytes
                if let file {
                    try file.write(contentsOf: Data(chunk.readableBytesView))
                } else if body.count < 16 << 20 {
                    body.append(contentsOf: chunk.readableBytesView)
                }
            }
            try file?.close()
            sample.totalMs = ms()
            if response.status != .ok {
                sample.failure = response.status.code >= 500 ? "http-5xx" : "http-\(response.status.code)"
            } else {
                // Hashing a zip reads and inflates the whole file: not on the concurrency
                // runtime's few threads, which the other requests' tasks need.
                let received = body, endpoint = job.endpoint
                sample.fingerprint = try await NIOThreadPool.singleton.runIfActive {
                    Self.fingerprint(endpoint, body: received, zipPath: zipPath)
                }
            }
        } catch {
            sample.totalMs = ms()
            sample.failure = Self.failureKind(error)
        }
        if job.endpoint == .zip { try? FileManager.default.removeItem(atPath: zipPath) }
        return sample
    }

    static func fingerprint(_ endpoint: BenchEndpoint, body: [UInt8], zipPath: String) -> String {
        switch endpoint {
        case .list:
            // What the go command makes of the list (modfetch's proxyRepo.Versions): the
            // first field of each line, valid semver, not a pseudo-version.
            let versions = String(decoding: body, as: UTF8.self).split(separator: "\n")
                .compactMap { $0.split(whereSeparator: \.isWhitespace).first.map(String.init) }
                .filter { SemVer.isValid($0) && !PseudoVersion.isPseudoVersion($0) }
            return Set(versions).sorted { SemVer.compare($0, $1) < 0 }.joined(separator: " ")
        case .info:
            return InfoJSON.version(body) ?? "not JSON"
        case .mod:
            return Hash1.hashGoMod(body)
        case .zip:
            do { return try Hash1.hashZip(path: zipPath) } catch { return "invalid zip (\(error))" }
        }
    }

    static func cacheStatus(_ headers: HTTPHeaders) -> String? {
        for name in ["X-Warren-Cache", "X-Cache", "CF-Cache-Status", "X-Cache-Status", "Cache-Status"] {
            guard let value = headers.first(name: name)?.lowercased() else { continue }
            if value.contains("hit") { return "hit" }
            if value.contains("miss") || value.contains("fwd=") || value.contains("expired") { return "miss" }
        }
        return nil
    }

    static func failureKind(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            if e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout { return "timeout" }
            if e == .remoteConnectionClosed { return "connection-closed" }
        }
        let text = "\(error)".lowercased()
        if text.contains("refused") { return "connect" }
        if text.contains("ssl") || text.contains("certificate") || text.contains("handshake") { return "tls" }
        if text.contains("timeout") || text.contains("deadline") { return "timeout" }
        return "other"
    }

    /// The checksum database's record for each item, when one is configured and reachable.
    func checksumRecords(client: HTTPClient) async -> ChecksumReferences {
        var refs = ChecksumReferences()
        guard case .database(let key, let base)? = configuration.sumdb else { return refs }
        refs.database = key.name
        for item in configuration.items where !configuration.noSumDB.matches(item.path) {
            guard let path = try? PathEscaping.escapePath(item.path), let version = try? PathEscaping.escapeVersion(item.version) else { continue }
            do {
                let response = try await client.execute(HTTPClientRequest(url: base + "/lookup/" + path + "@" + version),
                                                        timeout: .milliseconds(Int64(configuration.timeout * 1000)))
                let body = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .ok else {
                    if response.status.code == 404 || response.status.code == 410 { refs.unknown.insert(item.id) }
                    continue
                }
                let bytes = Array(body.readableBytesView)
                try refs.record(item: item, lookup: bytes, key: key)
            } catch {
                refs.unreachable = "\(key.name): \(Self.failureKind(error)) (\(error))"
                break
            }
        }
        return refs
    }
}

/// What the checksum database says each item's hashes are.
public struct ChecksumReferences: Sendable {
    public var database: String?
    public var zip: [String: String] = [:]
    public var mod: [String: String] = [:]
    /// Items the database does not know (404/410).
    public var unknown: Set<String> = []
    /// Why the database could not be asked, if it could not.
    public var unreachable: String?

    /// Reads a `/lookup` answer: record lines, a blank line, then a signed tree head,
    /// whose signature must verify (the inclusion proof is not checked here).
    mutating func record(item: BenchItem, lookup: [UInt8], key: VerifierKey) throws {
        let text = String(decoding: lookup, as: UTF8.self)
        guard let split = text.range(of: "\n\n") else { throw BenchInput.Failure(description: "malformed lookup answer") }
        let note = Array(text[split.upperBound...].utf8)
        _ = try SignedNote.open(note, keys: [key])
        for line in text[..<split.lowerBound].split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 3, f[0] == item.path else { continue }
            if f[1] == item.version { zip[item.id] = String(f[2]) }
            if f[1] == item.version + "/go.mod" { mod[item.id] = String(f[2]) }
        }
    }
}
