import GoModule
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOPosix
import Synchronization
import WarrenCore

/// Answers every HTTP request: the GOPROXY protocol under the path prefix, plus
/// `/healthz`, `/readyz` and `/metrics` at the root.
///
/// It does not use a router: module paths have any number of elements, and the request
/// path must be decoded by hand anyway (URL-decoding first, then case-decoding), with
/// every trick — encoded slashes, NUL bytes, dot segments — refused with a 400.
public struct ProxyResponder: HTTPResponder {
    public typealias Context = WarrenRequestContext

    let proxy: ModuleProxy
    let storage: any ArtifactStorage
    /// The metadata index behind `/index` and `/catalog` (nil: those are 404).
    let index: (any MetadataIndex)?
    let pathPrefix: String
    let metrics: MetricsEndpoint?
    let logger: Logger
    /// Where the per-request lines go (nil: through `logger`).
    let accessLog: AccessLog?
    let threadPool: NIOThreadPool
    /// Where answers that can be replayed without this responder are remembered.
    let hot: HotResponseTable?
    /// Where zip downloads are counted (nil: not counted).
    let downloads: DownloadTally?
    /// Stored files go out with sendfile (not through TLS, which must see the bytes).
    let zeroCopy: Bool
    /// Who may do what (nil: everyone everything, and no credentials are looked at).
    let access: AccessControl?
    /// Sign-in with the company's provider at /login (nil: not configured).
    let login: LoginFlow?
    /// The URL clients reach Warren at (`--public-url`), for `?go-get=1` answers; nil: from
    /// the request's Host header and whether Warren serves TLS (`secure`).
    let publicURL: String?
    let secure: Bool
    /// Requests already parsed and validated, by raw path: hot paths skip the decoding.
    let parsed = ParsedRequestCache()
    /// The web console under /-/ (nil: off).
    var console: Console?

    static let disableFetch = HTTPField.Name("Disable-Module-Fetch")!
    static let cacheHeader = HTTPField.Name("X-Warren-Cache")!
    /// Known vulnerabilities of the version served, when policy only warns about them.
    static let vulnerabilitiesHeader = HTTPField.Name("X-Warren-Vulnerabilities")!

    public init(proxy: ModuleProxy, storage: any ArtifactStorage, index: (any MetadataIndex)? = nil, pathPrefix: String, metrics: MetricsEndpoint?,
                hot: HotResponseTable? = nil, logger: Logger, accessLog: AccessLog? = nil, downloads: DownloadTally? = nil,
                zeroCopy: Bool = true, access: AccessControl? = nil, login: LoginFlow? = nil, publicURL: String? = nil, secure: Bool = false,
                console: Bool = true, cacheLimits: @escaping @Sendable () -> CacheEvictor.Limits? = { nil }, threadPool: NIOThreadPool = .singleton) {
        self.publicURL = publicURL
        self.secure = secure
        self.accessLog = accessLog
        self.access = access
        self.login = login
        self.downloads = downloads
        self.zeroCopy = zeroCopy
        self.hot = hot
        self.proxy = proxy
        self.storage = storage
        self.index = index
        self.pathPrefix = Self.normalizePrefix(pathPrefix)
        self.metrics = metrics
        self.logger = logger
        self.threadPool = threadPool
        if console {
            self.console = Console(proxy: proxy, storage: storage, index: index, access: access, login: login, metrics: metrics,
                                   history: metrics.map { MetricsHistory(start: MetricsSnapshot(registry: $0.registry)) }, hot: hot,
                                   pathPrefix: self.pathPrefix, cacheLimits: cacheLimits, publicURL: publicURL, secure: secure)
        }
    }

    /// `/goproxy/` → `/goproxy`; `/` and `` → ``.
    static func normalizePrefix(_ p: String) -> String {
        var p = p
        while p.hasSuffix("/") { p.removeLast() }
        if !p.isEmpty && !p.hasPrefix("/") { p = "/" + p }
        return p
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let rawPath = request.uri.path
        var log = RequestLogLine(method: request.method.rawValue, path: rawPath, start: start, logger: logger, accessLog: accessLog)

        switch rawPath {
        case "/healthz":
            return log.finish(Self.text(.ok, "ok"), endpoint: "healthz")
        case "/readyz":
            // `?verbose` adds the upstreams, reported but not judged: a replica whose
            // upstream is down still serves everything it holds.
            let problem = await storage.readinessProblem()
            let verbose = request.uri.query?.split(separator: "&").contains("verbose") == true
            let upstreams = verbose ? proxy.upstreamHealth().map(Self.readinessLine).joined(separator: "\n") : ""
            return log.finish(Self.text(problem == nil ? .ok : .serviceUnavailable, (problem ?? "ready") + (upstreams.isEmpty ? "" : "\n" + upstreams)),
                              endpoint: "readyz")
        case "/login", "/callback", "/logout":
            guard let login else { break }
            guard request.method == .get else {
                return log.finish(Self.text(.methodNotAllowed, "method \(request.method.rawValue) not allowed: use GET"), endpoint: "login")
            }
            let address = context.channel.remoteAddress?.ipAddress
            let response = rawPath == "/login" ? await login.start(request)
                : rawPath == "/logout" ? await login.logout(request, address: address)
                : await login.finish(request, address: address)
            return log.finish(response, endpoint: "login")
        case "/metrics":
            guard let metrics else { break }
            if let access, !access.policy.metrics.isOpen {
                switch await checkAccess(access, request: request, context: context, module: nil, action: "metrics") {
                case .failure(let refused): return log.finish(refused.response, endpoint: "metrics")
                case .success(let (principal, _)):
                    guard access.policy.mayReadMetrics(principal) else {
                        let r = principal == .anonymous ? Self.challenge("reading metrics needs a Warren token")
                            : Self.text(.forbidden, "403 Forbidden: \(principal.displayName) may not read metrics")
                        return log.finish(r, endpoint: "metrics")
                    }
                }
            }
            return log.finish(metrics.response(), endpoint: "metrics")
        default:
            break
        }

        // `-` cannot start a module path: Warren's own API lives under /-/.
        if rawPath == "/-/api/tokens" || rawPath.hasPrefix("/-/api/tokens/"), let access, let tokens = access.authenticator.tokens {
            switch await checkAccess(access, request: request, context: context, module: nil, action: "token-api") {
            case .failure(let refused):
                return log.finish(refused.response, endpoint: "api")
            case .success(let (principal, _)):
                let api = TokenAPI(access: access, tokens: tokens)
                return log.finish(await api.respond(request, path: rawPath, principal: principal, address: context.channel.remoteAddress?.ipAddress),
                                  endpoint: "api")
            }
        }

        if rawPath == "/-/api/audit", let access, let store = access.audit?.store {
            switch await checkAccess(access, request: request, context: context, module: nil, action: "audit-api") {
            case .failure(let refused):
                return log.finish(refused.response, endpoint: "api")
            case .success(let (principal, _)):
                return log.finish(await AuditAPI(access: access, store: store).respond(request, principal: principal), endpoint: "api")
            }
        }

        if let console, Console.handles(rawPath) {
            return log.finish(await console.respond(request, path: rawPath, context: context, responder: self), endpoint: "console")
        }
        if rawPath == "/", request.method == .get, console != nil, request.headers[.accept]?.contains("text/html") == true {
            return log.finish(Console.redirect("/-/"), endpoint: "console")
        }

        if PublishAPI.handles(rawPath) {
            let api = PublishAPI(proxy: proxy, access: access, hot: hot, pathPrefix: pathPrefix)
            return log.finish(await api.respond(request, path: rawPath, responder: self, context: context), endpoint: "publish")
        }

        // Discovery comes at the vanity name's root (Host go.corp.example.com, path /lib) or,
        // naming the module in full, under the proxy's prefix.
        if request.method == .get, request.uri.query?.contains("go-get=1") == true, !rawPath.contains("@") {
            return log.finish(await goImportPage(rawPath, request: request, context: context), endpoint: "go-get")
        }

        guard request.method == .get || request.method == .head else {
            var r = Self.text(.methodNotAllowed, "method \(request.method.rawValue) not allowed: use GET or HEAD")
            r.headers[.allow] = "GET, HEAD"
            return log.finish(r, endpoint: "other")
        }

        let relative: Substring
        if pathPrefix.isEmpty {
            relative = rawPath.dropFirst()
        } else if rawPath.hasPrefix(pathPrefix + "/") {
            relative = rawPath.dropFirst(pathPrefix.count + 1)
        } else {
            return log.finish(Self.text(.notFound, "not found (the proxy is served under \(pathPrefix)/)"), endpoint: "other")
        }

        // Module paths need a dot in their first element, so these names cannot be one.
        if relative == "index" || relative == "catalog", let index {
            var visible: (String) -> Bool = { _ in true }
            if let access {
                switch await checkAccess(access, request: request, context: context, module: nil, action: String(relative)) {
                case .failure(let refused): return log.finish(refused.response, endpoint: String(relative))
                case .success(let (principal, _)):
                    visible = { access.policy.rights(of: principal, on: $0).contains(.read) }
                }
            }
            return log.finish(await feed(String(relative), index: index, query: request.uri.queryParameters, visible: visible),
                              endpoint: String(relative))
        }

        if relative.hasPrefix("sumdb/") {
            var caller = Principal.anonymous
            if let access {
                // Checksum databases hold public data: whoever may read anything may ask.
                switch await checkAccess(access, request: request, context: context, module: nil, action: "sumdb") {
                case .failure(let refused): return log.finish(refused.response, endpoint: "sumdb")
                case .success(let (principal, _)):
                    if principal == .anonymous, access.policy.anonymous == nil {
                        return log.finish(Self.challenge("the checksum database proxy needs a Warren token"), endpoint: "sumdb")
                    }
                    caller = principal
                }
            }
            return await sumdb(String(relative.dropFirst("sumdb/".count)), request: request, context: context, log: log, caller: caller)
        }

        let proxyRequest: ProxyRequest
        if let known = parsed.get(relative) {
            proxyRequest = known
        } else {
            do {
                proxyRequest = try ProxyRequest.parse(rawPath: String(relative))
                parsed.put(relative, proxyRequest)
            } catch {
                return log.finish(Self.error(error), endpoint: "invalid")
            }
        }
        let endpoint = proxyRequest.endpoint
        if case .artifact(let module, let version, .zip) = proxyRequest, let downloads {
            log.download = DownloadMark(tally: downloads, module: module, version: version)
        }
        log.module = proxyRequest.module
        var allowFetch = request.headers[Self.disableFetch]?.lowercased() != "true"
        var principal = Principal.anonymous
        var mayFetch = true
        if let access {
            switch await checkAccess(access, request: request, context: context, module: proxyRequest.module, action: endpoint) {
            case .failure(let refused):
                return log.finish(refused.response, endpoint: endpoint)
            case .success(let (who, fetch)):
                (principal, mayFetch) = (who, fetch)
                allowFetch = allowFetch && fetch
                log.restricted = access.policy.isClaimed(proxyRequest.module)
                if log.restricted, case .artifact(let module, let version, .zip) = proxyRequest {
                    access.audit?.record(.init(action: "download", principal: who, address: context.channel.remoteAddress?.ipAddress,
                                               target: module + "@" + version, result: "allowed"))
                }
            }
        }

        // A large stored zip may be fetched from the bucket itself (--s3-redirect-over).
        if case .artifact(let module, let version, .zip) = proxyRequest, let redirecting = storage as? any RedirectingStorage,
           let target = await redirecting.redirect(for: .artifact(module: module, version: version, kind: .zip)) {
            var headers = HTTPFields()
            headers[.location] = target.url
            headers[.cacheControl] = "private, max-age=\(target.maxAge)"
            headers[.contentType] = "text/plain; charset=utf-8"
            log.cache = "redirect"
            return log.finish(Response(status: .found, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "stored in object storage\n"))),
                              endpoint: endpoint)
        }

        let served: ServedArtifact
        do {
            served = try await proxy.serve(proxyRequest, allowFetch: allowFetch)
        } catch {
            if error.kind == .policyDenied {
                access?.audit?.record(.init(action: "policy", principal: principal, address: context.channel.remoteAddress?.ipAddress,
                                            target: proxyRequest.target, result: "denied", detail: error.message))
                logger.notice("refused by policy", metadata: ["module": "\(proxyRequest.module)", "reason": "\(error.message)"])
            }
            if !mayFetch, error.kind == .notFound, !proxy.isHosted(proxyRequest.module) {
                return log.finish(Self.fetchRefused(principal, module: proxyRequest.module), endpoint: endpoint)
            }
            if error.isServerSide {
                logger.warning("request failed", metadata: ["path": "\(rawPath)", "status": "\(error.statusCode)", "error": "\(error.message)", "detail": "\(error.detail ?? "")"])
            }
            return log.finish(Self.error(error), endpoint: endpoint)
        }
        log.cache = served.cacheStatus.rawValue
        if !served.advisories.isEmpty {
            logger.warning("served a version with known vulnerabilities", metadata: [
                "module": "\(proxyRequest.module)", "request": "\(endpoint)", "vulnerabilities": "\(served.advisories.joined(separator: ","))"])
        }
        let response = await ResponseBuilder(threadPool: threadPool, channel: context.channel, zeroCopy: zeroCopy, hot: hot, logger: logger)
            .build(served, request: request, head: request.method == .head, log: log, endpoint: endpoint)
        return response
    }

    /// `/sumdb/<name>/…`: the checksum databases Warren proxies. With none configured,
    /// every database answers 404, which tells the go command to ask it directly.
    func sumdb(_ rest: String, request: Request, context: Context, log: RequestLogLine, caller: Principal) async -> Response {
        var log = log
        let parsedRequest: (database: String, request: SumDBRequest)
        do {
            parsedRequest = try SumDBRequest.parse(rawPath: rest)
        } catch {
            return log.finish(Self.error(error), endpoint: "sumdb_invalid")
        }
        let endpoint = parsedRequest.request.endpoint
        if let own = proxy.checksumLog, parsedRequest.database == own.name {
            do throws(ProxyError) {
                var served: ServedArtifact
                do throws(ProxyError) {
                    served = try await own.serve(parsedRequest.request)
                } catch where error.kind == .notFound {
                    // A version the log would record but has not yet: fetch, verify, record
                    // (only for a caller who may make Warren fetch that module).
                    guard case .lookup(let module, let version) = parsedRequest.request,
                          access.map({ $0.policy.rights(of: caller, on: module).contains(.fetch) }) ?? true,
                          try await proxy.recordForLookup(module: module, version: version) else { throw error }
                    served = try await own.serve(parsedRequest.request)
                }
                log.cache = served.cacheStatus.rawValue
                return await ResponseBuilder(threadPool: threadPool, channel: context.channel, zeroCopy: zeroCopy, hot: hot, logger: logger)
                    .build(served, request: request, head: request.method == .head, log: log, endpoint: endpoint)
            } catch {
                return log.finish(Self.error(error), endpoint: endpoint)
            }
        }
        guard let checksums = proxy.checksums else {
            return log.finish(Self.text(.notFound, "no checksum database is proxied here"), endpoint: endpoint)
        }
        let served: ServedArtifact
        do {
            served = try await checksums.serve(database: parsedRequest.database, request: parsedRequest.request)
        } catch {
            if error.isServerSide {
                logger.warning("checksum database request failed", metadata: ["path": "\(request.uri.path)", "status": "\(error.statusCode)", "error": "\(error.message)"])
            }
            return log.finish(Self.error(error), endpoint: endpoint)
        }
        log.cache = served.cacheStatus.rawValue
        return await ResponseBuilder(threadPool: threadPool, channel: context.channel, zeroCopy: zeroCopy, hot: hot, logger: logger)
            .build(served, request: request, head: request.method == .head, log: log, endpoint: endpoint)
    }

    /// `upstream NAME: closed, p95 12 ms, 0 of 50 recent requests failed`
    static func readinessLine(_ h: UpstreamHealth.Snapshot) -> String {
        let p95 = h.p95.map { " p95 \(Int(($0 / .milliseconds(1)).rounded())) ms," } ?? ""
        return "upstream \(h.name): \(h.circuit.rawValue),\(p95) \(h.recentFailures) of \(h.recentOutcomes) recent requests failed"
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n")))
    }

    static func error(_ e: ProxyError) -> Response {
        text(e.kind.httpStatus, e.message)
    }
}

/// Raw request path → validated request, bounded; cleared whole when full.
final class ParsedRequestCache: Sendable {
    private let map = Mutex<[Substring: ProxyRequest]>([:])
    static let capacity = 16384

    func get(_ path: Substring) -> ProxyRequest? { map.withLock { $0[path] } }

    func put(_ path: Substring, _ request: ProxyRequest) {
        map.withLock { m in
            if m.count >= Self.capacity { m.removeAll(keepingCapacity: true) }
            m[path] = request
        }
    }
}
