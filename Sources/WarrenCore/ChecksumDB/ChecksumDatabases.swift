import AsyncHTTPClient
import GoModule
import Logging
import NIOCore
import Synchronization

/// The checksum databases Warren proxies under `/sumdb/<name>/`, and the policy for
/// verifying the modules it caches: every module version is checked against the first
/// database before its `.mod` or `.zip` is stored, unless it matches a pattern whose
/// names must never reach a public database (`--nosumdb`, private modules).
/// `golang.org/toolchain` is always verified, as the go command insists.
public final class ChecksumDatabases: Sendable {
    let byName: [String: ChecksumDatabase]
    /// The database modules are verified against (the first configured).
    public let verifier: ChecksumDatabase?
    /// Modules cached without verification (`--nosumdb` and private patterns); a reload
    /// may change them.
    public var unverified: ModulePathPatterns { unverifiedPatterns.withLock { $0 } }
    private let unverifiedPatterns: Mutex<ModulePathPatterns>
    /// Told of every mismatch refused (events for webhooks).
    let mismatches = ProxyEvents()
    /// Verified go.sum lines never change: kept (bounded) so a `.zip` after its `.mod`
    /// costs no second lookup.
    let known = MemoryCache<String, ExpectedSums>(capacity: 4 << 20)
    let logger: Logger

    /// What the database says a module version's hashes are.
    public struct ExpectedSums: Sendable, Equatable {
        public var zip: String?
        public var goMod: String?
        public var database: String
    }

    /// The alias the go command accepts for sum.golang.org's log served from China.
    static let aliases = ["sum.golang.google.cn": "sum.golang.org"]
    public static let toolchainModule = "golang.org/toolchain"

    /// - Parameter clients: each database is asked through the client its URL calls for
    ///   (its proxy, or none under `NO_PROXY`).
    public init(settings: [SumDBSetting], unverified: ModulePathPatterns, clients: HTTPClientFactory,
                storage: (any ArtifactStorage)?, stateDirectory: String?, timeout: TimeAmount = .seconds(30), logger: Logger) {
        var byName: [String: ChecksumDatabase] = [:]
        var first: ChecksumDatabase?
        for case .database(let key, let url) in settings where byName[key.name] == nil {
            let db = ChecksumDatabase(key: key, url: url, client: clients.client(for: url), storage: storage,
                                      stateFile: stateDirectory.map { $0 + "/" + key.name + ".latest" }, timeout: timeout)
            byName[key.name] = db
            if first == nil { first = db }
        }
        for (alias, name) in Self.aliases where byName[alias] == nil {
            if let db = byName[name] { byName[alias] = db }
        }
        self.byName = byName
        self.verifier = first
        self.unverifiedPatterns = Mutex(unverified)
        self.logger = logger
    }

    /// Puts reloaded `--nosumdb`/private patterns in force.
    public func replaceUnverified(_ patterns: ModulePathPatterns) {
        unverifiedPatterns.withLock { $0 = patterns }
    }

    /// The database of this name (or alias), if configured.
    public func database(named name: String) -> ChecksumDatabase? { byName[name] }

    /// Names of the databases proxied (aliases included).
    public var names: [String] { byName.keys.sorted() }

    // MARK: - Verifying modules

    /// Whether `module` is checked against a database before it is cached.
    public func verifies(_ module: String) -> Bool {
        if module == Self.toolchainModule { return true }
        return verifier != nil && !unverified.matches(module)
    }

    /// Refuses, before any upstream is asked, a module that must be verified when no
    /// database is configured (golang.org/toolchain with `--sumdb off`).
    public func refuseUnverifiable(_ module: String) throws(ProxyError) {
        if verifier == nil && verifies(module) {
            throw ProxyError.forbidden("\(module) must be verified against a checksum database, but none is configured (--sumdb off)")
        }
    }

    /// The hashes the database has for `module@version`, or nil when the module is not
    /// verified. A module that must be verified but cannot be is an error: nothing
    /// unverified is cached.
    public func expectedSums(module: String, version: String) async throws(ProxyError) -> ExpectedSums? {
        guard verifies(module) else {
            MetricHandles.counter("warren_checksum_verifications_total", [("result", "skipped")]).increment()
            return nil
        }
        try refuseUnverifiable(module)
        guard let verifier else { return nil }
        let id = module + "@" + version
        if let hit = known.get(id) { return hit }
        let lines: [String]
        do {
            lines = try await verifier.lookup(module: module, version: version)
        } catch {
            MetricHandles.counter("warren_checksum_verifications_total", [("result", error.kind.rawValue)]).increment()
            switch error.kind {
            case .notFound:
                throw ProxyError.forbidden("\(id) is not in the checksum database \(verifier.name) (a private module? list it in --nosumdb): \(error.description)")
            case .unavailable:
                throw ProxyError.upstreamFailed("cannot verify \(id) against \(verifier.name): \(error.description)")
            case .tampering:
                logger.error("checksum database failed verification", metadata: ["database": "\(verifier.name)", "module": "\(id)", "error": "\(error.description)"])
                throw ProxyError.upstreamFailed("cannot verify \(id): \(error.description)")
            }
        }
        var sums = ExpectedSums(zip: nil, goMod: nil, database: verifier.name)
        for line in lines {
            let fields = line.split(separator: " ")
            guard fields.count == 3 else { continue }
            if fields[1] == version { sums.zip = String(fields[2]) }
            if fields[1] == version + "/go.mod" { sums.goMod = String(fields[2]) }
        }
        known.put(id, sums, cost: id.utf8.count + 128)
        return sums
    }

    /// Refuses `actual` (the `h1:` of what an upstream sent) unless the database agrees.
    /// `what` is `zip` or `mod`.
    public func check(module: String, version: String, what: String, actual: String,
                      expected sums: ExpectedSums?) throws(ProxyError) {
        guard let sums else { return }
        let expected = what == "mod" ? sums.goMod : sums.zip
        let name = what == "mod" ? "\(module)@\(version)/go.mod" : "\(module)@\(version)"
        guard let expected else {
            MetricHandles.counter("warren_checksum_verifications_total", [("result", "tampering")]).increment()
            throw ProxyError.upstreamFailed("cannot verify \(name): \(sums.database) has no hash for it")
        }
        guard expected == actual else {
            MetricHandles.counter("warren_checksum_verifications_total", [("result", "mismatch")]).increment()
            MetricHandles.counter("warren_checksum_mismatches_total", [("artifact", what)]).increment()
            mismatches.emit(.checksumMismatch(module: module, version: version, artifact: what,
                                              detail: "\(sums.database) has \(expected), the upstream sent \(actual)"))
            logger.error("checksum mismatch: refusing what the upstream sent", metadata: [
                "module": "\(name)", "downloaded": "\(actual)", "\(sums.database)": "\(expected)",
            ])
            throw ProxyError.forbidden("\(name): checksum mismatch: downloaded \(actual), \(sums.database) has \(expected); not cached")
        }
        MetricHandles.counter("warren_checksum_verifications_total", [("result", "ok")]).increment()
    }

    // MARK: - Proxying the databases

    /// Answers `/sumdb/<database>/…`.
    public func serve(database: String, request: SumDBRequest) async throws(ProxyError) -> ServedArtifact {
        guard let db = byName[database] else {
            throw ProxyError.notFound("checksum database \(GoQuote.string(database)) is not proxied here")
        }
        let brief = CachePolicy.fresh(seconds: 30)
        do {
            switch request {
            case .supported:
                return Self.answer([], contentType: "text/plain; charset=utf-8", cachePolicy: .fresh(seconds: 3600))
            case .latest:
                return Self.answer(try await db.latestAnswer(), contentType: "text/plain; charset=utf-8", cachePolicy: brief)
            case .lookup(let module, let version):
                if let pattern = unverified.firstMatch(module), module != Self.toolchainModule {
                    throw ProxyError.forbidden("\(module) matches the private pattern \(GoQuote.string(pattern)): its name is not sent to checksum databases (set GONOSUMDB or GOPRIVATE)")
                }
                return Self.answer(try await db.lookupAnswer(module: module, version: version),
                                   contentType: "text/plain; charset=utf-8", cachePolicy: brief)
            case .tile(let tile):
                let (bytes, immutable) = try await db.tile(tile)
                return Self.answer(bytes, contentType: "application/octet-stream",
                                   cachePolicy: immutable ? .immutable : brief)
            }
        } catch let failure as ChecksumDatabase.Failure {
            switch failure.kind {
            case .notFound:
                throw ProxyError.notFound(failure.description)
            case .unavailable:
                throw ProxyError.upstreamFailed(failure.description)
            case .tampering:
                MetricHandles.counter("warren_checksum_verifications_total", [("result", "tampering")]).increment()
                logger.error("checksum database failed verification", metadata: ["database": "\(database)", "error": "\(failure.description)"])
                throw ProxyError.upstreamFailed("\(failure.description); not relayed")
            }
        } catch let e as ProxyError {
            throw e
        } catch {
            throw ProxyError.internalError("checksum database request failed", detail: "\(error)")
        }
    }

    static func answer(_ bytes: [UInt8], contentType: String, cachePolicy: CachePolicy) -> ServedArtifact {
        ServedArtifact(body: .bytes(ByteBuffer(bytes: bytes)), contentType: contentType, etag: nil, lastModified: nil,
                       cachePolicy: cachePolicy, cacheStatus: .hit, origin: nil)
    }
}
