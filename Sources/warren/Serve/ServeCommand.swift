import ArgumentParser
import Foundation
import GitHubLogin
import GitLabTokens
import OpenIDConnect
import GoModule
import Logging
import S3Client
import S3Storage
import ServiceLifecycle
import WarrenCore
import WarrenServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the caching Go module proxy.",
        discussion: """
        Point the go command at it with GOPROXY=http://HOST:PORT. Settings come from \
        flags, then WARREN_* environment variables (WARREN_LIST_TTL for --list-ttl), \
        then the YAML file given by --config or WARREN_CONFIG (keys named like the \
        flags, without dashes in front: list-ttl: 60s), then the defaults shown here.
        """
    )

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("Upstreams in GOPROXY syntax: ',' falls through on 404/410, '|' on any error; direct and off end the list. (default: https://proxy.golang.org)", valueName: "list"))
    var upstream: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Where modules are stored. (default: $XDG_CACHE_HOME/warren or ~/.cache/warren)", valueName: "dir"))
    var dataDir: String?

    @Option(help: ArgumentHelp("YAML configuration file.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("list-ttl"), help: ArgumentHelp("How long list and @latest answers stay fresh. (default: 60s)", valueName: "duration"))
    var listTTL: String?

    @Option(name: .customLong("path-prefix"), help: ArgumentHelp("Serve the proxy under this path, e.g. /goproxy. (default: none)", valueName: "path"))
    var pathPrefix: String?

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp("Upstream connect timeout. (default: 5s)", valueName: "duration"))
    var connectTimeout: String?

    @Option(name: .customLong("header-timeout"), help: ArgumentHelp("Upstream response-header timeout. (default: 30s)", valueName: "duration"))
    var headerTimeout: String?

    @Option(name: .customLong("total-timeout"), help: ArgumentHelp("Upstream timeout for a whole transfer. (default: 10m)", valueName: "duration"))
    var totalTimeout: String?

    @Option(help: ArgumentHelp("Retries after a transient upstream fault. (default: 2)", valueName: "n"))
    var retries: String?

    @Option(name: .customLong("memory-cache"), help: ArgumentHelp("Memory for hot .info/.mod answers. (default: 64MiB)", valueName: "size"))
    var memoryCache: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical. (default: info)", valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("text or json. (default: text)", valueName: "format"))
    var logFormat: String?

    @Option(help: ArgumentHelp("A checksum database to proxy under /sumdb/ and verify public modules against, in GOSUMDB syntax: sum.golang.org, sum.golang.google.cn, NAME+HASH+KEY [URL], or off. Repeatable; the first verifies. (default: sum.golang.org)", valueName: "db"))
    var sumdb: [String] = []

    @Option(help: ArgumentHelp("Module path patterns, as in GONOSUMDB, never looked up in a checksum database nor verified (a warning is logged at start). golang.org/toolchain is always verified. (default: none)", valueName: "patterns"))
    var nosumdb: String?

    @Option(name: .customLong("private"), help: ArgumentHelp("Module path patterns, as in GOPRIVATE, always fetched direct from version control: never from an upstream proxy, never looked up in a checksum database. (default: none)", valueName: "patterns"))
    var privatePatterns: String?

    @Option(help: ArgumentHelp("Module path patterns, as in GOINSECURE, whose ?go-get=1 discovery and git repositories may use plain HTTP. (default: none)", valueName: "patterns"))
    var insecure: String?

    @Option(help: ArgumentHelp("Which version control systems direct mode may use, in GOVCS syntax (Warren speaks git). (default: public:git|hg,private:all)", valueName: "rules"))
    var govcs: String?

    @Option(name: .customLong("direct-prefetch"), help: ArgumentHelp("Build a version's zip from git as soon as direct mode has answered its .info, before the client asks for it: on or off. (default: on)", valueName: "on|off"))
    var directPrefetch: String?

    @Option(help: ArgumentHelp("Credentials for private hosts, HOST=USER:PASSWORD or HOST=TOKEN, comma-separated. Prefer WARREN_CREDENTIALS or the config file: flags show in process lists. (default: none)", valueName: "list"))
    var credentials: String?

    @Option(help: ArgumentHelp("A .netrc file with more credentials. (default: $NETRC or ~/.netrc)", valueName: "file"))
    var netrc: String?

    @Option(name: .customLong("client-header-timeout"), help: ArgumentHelp("Time a client has to send a complete request header, from its first byte or from connecting. (default: 10s)", valueName: "duration"))
    var clientHeaderTimeout: String?

    @Option(name: .customLong("client-idle-timeout"), help: ArgumentHelp("How long a kept-alive client connection may sit idle between requests. (default: 60s)", valueName: "duration"))
    var clientIdleTimeout: String?

    @Option(name: .customLong("client-send-timeout"), help: ArgumentHelp("How long a client may read slower than --client-min-send-rate while an answer waits for it, before it is dropped. (default: 60s)", valueName: "duration"))
    var clientSendTimeout: String?

    @Option(name: .customLong("client-min-send-rate"), help: ArgumentHelp("The slowest reading a client may do while an answer waits for it, per second. (default: 1KiB)", valueName: "size"))
    var clientMinSendRate: String?

    @Option(name: .customLong("max-connections"), help: ArgumentHelp("Open client connections at most; beyond it idle ones are reclaimed, else new ones get a 503. auto: from the open-file limit. (default: auto)", valueName: "n"))
    var maxConnections: String?

    @Option(name: .customLong("max-pipelined"), help: ArgumentHelp("Requests one connection may have waiting for answers; more stay unread in the socket. (default: 16)", valueName: "n"))
    var maxPipelined: String?

    @Option(help: ArgumentHelp("Where artifacts live: dir (files under --data-dir) or s3://BUCKET/PREFIX (an S3-compatible bucket that several replicas share, with a local tier under --data-dir). Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or the config file. (default: dir)", valueName: "dir|s3://bucket/prefix"))
    var storage: String?

    @Option(name: .customLong("s3-endpoint"), help: ArgumentHelp("The S3-compatible service: MinIO, Ceph RGW, OSS, COS, Kodo… (default: AWS in --s3-region)", valueName: "url"))
    var s3Endpoint: String?

    @Option(name: .customLong("s3-region"), help: ArgumentHelp("The bucket's region. (default: $AWS_REGION, else us-east-1)", valueName: "region"))
    var s3Region: String?

    @Option(name: .customLong("s3-path-style"), help: ArgumentHelp("Address the bucket in the path (host/bucket/key) rather than the host name. (default: on when --s3-endpoint is given)", valueName: "on|off"))
    var s3PathStyle: String?

    @Option(name: .customLong("local-cache-size"), help: ArgumentHelp("With object storage: how much of --data-dir the local tier of hot artifacts may use. (default: 4GiB)", valueName: "size"))
    var localCacheSize: String?

    @Option(name: .customLong("s3-redirect-over"), help: ArgumentHelp("With object storage: answer stored zips of at least this size with a 302 to a presigned URL of the bucket, so they go out from it. (default: off)", valueName: "size"))
    var s3RedirectOver: String?

    @Option(help: ArgumentHelp("The metadata index: sqlite (a file in --data-dir), sqlite:PATH, or postgres://USER:PASSWORD@HOST:PORT/DB for replicas sharing one index. Prefer WARREN_DATABASE or the config file for a URL with a password. (default: sqlite)", valueName: "url"))
    var database: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve HTTPS with this certificate (PEM, the chain after the leaf). Re-read on SIGHUP and when the file changes; open connections are kept. (default: plain HTTP)", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The certificate's private key (PEM), with --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("What callers without a token may do with modules no permission rule names: off, read (what is cached), or fetch. (default: fetch)", valueName: "off|read|fetch"))
    var anonymous: String?

    @Option(help: ArgumentHelp("Access rules, 'WHO RIGHTS PATTERNS' separated by ';' (WHO: anonymous, authenticated, user:NAME, group:NAME; RIGHTS: read,fetch,publish,admin). A module a rule names is open only to those its rules grant.", valueName: "rules"))
    var permissions: String?

    @Option(name: .customLong("hide-forbidden"), help: ArgumentHelp("Answer 404 instead of 403 for modules the caller may not read. (default: off)", valueName: "on|off"))
    var hideForbidden: String?

    @Option(name: .customLong("metrics-access"), help: ArgumentHelp("Who may read /metrics: anonymous, authenticated or admin. Probes are never restricted. (default: anonymous)", valueName: "level"))
    var metricsAccess: String?

    @Option(name: .customLong("audit-log"), help: ArgumentHelp("Append security events (refusals, protected downloads, tokens) as JSON lines to this file, or - for stderr. (default: none)", valueName: "file"))
    var auditLog: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("Trust the CAs in this PEM file besides the system's, for upstreams, checksum databases, discovery and git (a company's TLS-intercepting proxy or internal CA).", valueName: "file"))
    var caFile: String?

    @Option(name: .customLong("upstream-client-cert"), help: ArgumentHelp("A client certificate (PEM) for upstreams that ask for one; with --upstream-client-key.", valueName: "file"))
    var upstreamClientCert: String?

    @Option(name: .customLong("upstream-client-key"), help: ArgumentHelp("The key (PEM) of --upstream-client-cert.", valueName: "file"))
    var upstreamClientKey: String?

    @Option(name: .customLong("public-url"), help: ArgumentHelp("The URL users reach Warren at (for sign-in's redirect and the lines it shows).", valueName: "url"))
    var publicURL: String?

    @Option(name: .customLong("oidc-issuer"), help: ArgumentHelp("Sign in at /login with this OpenID Connect provider (GitLab: https://gitlab.corp.example.com).", valueName: "url"))
    var oidcIssuer: String?

    @Option(name: .customLong("oidc-client-id"), help: ArgumentHelp("The application's client ID at the provider.", valueName: "id"))
    var oidcClientID: String?

    @Option(name: .customLong("oidc-client-secret"), help: ArgumentHelp("The application's secret; prefer WARREN_OIDC_CLIENT_SECRET or the config file.", valueName: "secret"))
    var oidcClientSecret: String?

    @Option(name: .customLong("oidc-username-claim"), help: ArgumentHelp("The ID token claim that names the user. (default: preferred_username)", valueName: "claim"))
    var oidcUsernameClaim: String?

    @Option(name: .customLong("oidc-groups-claim"), help: ArgumentHelp("The ID token claim that lists the user's groups. (default: groups)", valueName: "claim"))
    var oidcGroupsClaim: String?

    @Option(name: .customLong("oidc-scopes"), help: ArgumentHelp("The scopes asked for. (default: openid profile email)", valueName: "scopes"))
    var oidcScopes: String?

    @Option(name: .customLong("github-url"), help: ArgumentHelp("Sign in at /login with GitHub Enterprise Server at this address (or https://github.com), through an OAuth app.", valueName: "url"))
    var githubURL: String?

    @Option(name: .customLong("github-api-url"), help: ArgumentHelp("GitHub's API. (default: GITHUB-URL/api/v3, or https://api.github.com)", valueName: "url"))
    var githubAPIURL: String?

    @Option(name: .customLong("github-client-id"), help: ArgumentHelp("The OAuth app's client ID.", valueName: "id"))
    var githubClientID: String?

    @Option(name: .customLong("github-client-secret"), help: ArgumentHelp("The OAuth app's secret; prefer WARREN_GITHUB_CLIENT_SECRET or the config file.", valueName: "secret"))
    var githubClientSecret: String?

    @Option(name: .customLong("gitlab-tokens"), help: ArgumentHelp("Accept GitLab CI job tokens (user gitlab-ci-token) and personal access tokens, asking this GitLab whose they are.", valueName: "url"))
    var gitlabTokens: String?

    @Option(name: .customLong("login-token-lifetime"), help: ArgumentHelp("How long tokens made at sign-in last. (default: 90 days)", valueName: "duration"))
    var loginTokenLifetime: String?

    @Option(help: ArgumentHelp("Hosted namespaces: module path patterns (GOPRIVATE syntax) served only from what is published to Warren, never from an upstream or version control. (default: none)", valueName: "patterns"))
    var hosted: String?

    @Option(name: .customLong("cache-max-size"), help: ArgumentHelp("Evict what was cached from upstreams and git, least recently used first, beyond this many bytes of zips (never hosted or pinned modules). (default: off)", valueName: "size"))
    var cacheMaxSize: String?

    @Option(name: .customLong("cache-max-age"), help: ArgumentHelp("Evict cached zips unused this long; their .mod and .info after four times as long. (default: off)", valueName: "duration"))
    var cacheMaxAge: String?

    @Option(name: .customLong("cache-min-age"), help: ArgumentHelp("Never evict anything stored or used more recently than this. (default: 10m)", valueName: "duration"))
    var cacheMinAge: String?

    @Option(help: ArgumentHelp("Supply-chain rules, ';'-separated: deny PATTERNS [< vX.Y.Z] [\"REASON\"], allow PATTERNS [CONSTRAINT], allow-only PATTERNS. Refusals are 403s the go command prints.", valueName: "rules"))
    var policy: String?

    @Option(help: ArgumentHelp("What known vulnerabilities (warren vuln import) do: off, warn (a header, a log line, a metric) or block. (default: warn)", valueName: "mode"))
    var vulnerabilities: String?

    @Option(name: .customLong("sumdb-key"), help: ArgumentHelp("The signing key of Warren's own checksum database (made by warren sumdb init): a file, or the key itself through WARREN_SUMDB_KEY. (default: DATA_DIR/sumdb-signer.key when it exists)", valueName: "file"))
    var sumdbKey: String?

    @Option(name: .customLong("sumdb-log"), help: ArgumentHelp("What Warren's own checksum database records: hosted (published versions), private (also versions fetched direct from git) or all (also public versions once verified). (default: hosted)", valueName: "scope"))
    var sumdbLog: String?

    @Option(help: ArgumentHelp("Serve the web console under /-/ (modules, status, and admin pages for admins). (default: on)", valueName: "on|off"))
    var console: String?
    @Option(name: .customLong("disable-fetch"), help: ArgumentHelp("What a request with Disable-Module-Fetch: true may do on a miss: local (answer only from this Warren's store) or upstream (ask proxy upstreams with the header passed on, never direct: for an edge in front of a central Warren). (default: local)", valueName: "local|upstream"))
    var disableFetch: String?

    @Option(name: .customLong("upstream-failures"), help: ArgumentHelp("Failures in a row (errors, timeouts) after which an upstream followed by '|' is skipped for the cool-down, then probed. (default: 5)", valueName: "n|off"))
    var upstreamFailures: String?

    @Option(name: .customLong("upstream-cooldown"), help: ArgumentHelp("How long an upstream whose circuit opened is skipped before it is probed again; doubles while probes fail, up to 5m. (default: 30s)", valueName: "duration"))
    var upstreamCooldown: String?

    @Option(help: ArgumentHelp("Follow another proxy's index feed (Warren's /index, index.golang.org): URL [PATTERNS]. New versions matching PATTERNS are mirrored here as they appear.", valueName: "feed"))
    var follow: String?

    @Option(name: .customLong("follow-interval"), help: ArgumentHelp("How often the followed feed is read. (default: 1m)", valueName: "duration"))
    var followInterval: String?

    @Option(name: .customLong("sync-top"), help: ArgumentHelp("Active sync: every --sync-interval, refresh list and @latest of the N most downloaded modules and cache their latest version, before anyone asks. (default: 0, off)", valueName: "n"))
    var syncTop: String?

    @Option(name: .customLong("sync-interval"), help: ArgumentHelp("How often active sync runs. (default: 10m)", valueName: "duration"))
    var syncInterval: String?

    @Option(help: ArgumentHelp("Webhooks: URL [PATTERNS], ';'-separated. Each gets a signed JSON POST when a version (matching PATTERNS) is cached or published, a checksum mismatch is refused, or an upstream goes down or up. Needs WARREN_WEBHOOK_SECRET.", valueName: "targets"))
    var webhooks: String?

    @Option(name: .customLong("hedge-budget"), help: ArgumentHelp("Ask the next upstream after '|' too when list, @latest, .info or .mod takes longer than the current one's recent p95; at most this percentage of extra requests. 0 turns it off. (default: 10)", valueName: "percent"))
    var hedgeBudget: String?

    func givenFlags() -> [String: String] {
        let pairs: [(String, String?)] = [
            ("listen", listen), ("upstream", upstream), ("data-dir", dataDir), ("list-ttl", listTTL),
            ("path-prefix", pathPrefix), ("connect-timeout", connectTimeout), ("header-timeout", headerTimeout),
            ("total-timeout", totalTimeout), ("retries", retries), ("memory-cache", memoryCache),
            ("log-level", logLevel), ("log-format", logFormat), ("nosumdb", nosumdb),
            ("private", privatePatterns), ("insecure", insecure), ("govcs", govcs), ("direct-prefetch", directPrefetch),
            ("credentials", credentials), ("netrc", netrc),
            ("client-header-timeout", clientHeaderTimeout), ("client-idle-timeout", clientIdleTimeout),
            ("client-send-timeout", clientSendTimeout), ("client-min-send-rate", clientMinSendRate),
            ("max-connections", maxConnections), ("max-pipelined", maxPipelined),
            ("sumdb", sumdb.isEmpty ? nil : sumdb.joined(separator: ",")),
            ("storage", storage), ("s3-endpoint", s3Endpoint), ("s3-region", s3Region), ("s3-path-style", s3PathStyle),
            ("local-cache-size", localCacheSize), ("database", database), ("s3-redirect-over", s3RedirectOver),
            ("tls-cert", tlsCert), ("tls-key", tlsKey), ("anonymous", anonymous), ("permissions", permissions),
            ("hide-forbidden", hideForbidden), ("metrics-access", metricsAccess), ("audit-log", auditLog),
            ("ca-file", caFile), ("upstream-client-cert", upstreamClientCert), ("upstream-client-key", upstreamClientKey),
            ("public-url", publicURL), ("oidc-issuer", oidcIssuer), ("oidc-client-id", oidcClientID),
            ("oidc-client-secret", oidcClientSecret), ("oidc-username-claim", oidcUsernameClaim), ("oidc-groups-claim", oidcGroupsClaim),
            ("oidc-scopes", oidcScopes), ("login-token-lifetime", loginTokenLifetime), ("github-url", githubURL),
            ("github-api-url", githubAPIURL), ("github-client-id", githubClientID), ("github-client-secret", githubClientSecret),
            ("gitlab-tokens", gitlabTokens), ("hosted", hosted), ("sumdb-key", sumdbKey), ("sumdb-log", sumdbLog), ("policy", policy), ("vulnerabilities", vulnerabilities),
            ("cache-max-size", cacheMaxSize), ("cache-max-age", cacheMaxAge), ("cache-min-age", cacheMinAge),
            ("console", console), ("disable-fetch", disableFetch), ("upstream-failures", upstreamFailures), ("upstream-cooldown", upstreamCooldown), ("hedge-budget", hedgeBudget),
            ("webhooks", webhooks), ("sync-top", syncTop), ("sync-interval", syncInterval),
            ("follow", follow), ("follow-interval", followInterval),
        ]
        var out: [String: String] = [:]
        for (k, v) in pairs { if let v { out[k] = v } }
        return out
    }

    func run() async throws {
        let settings: ServeSettings
        let source = ServeSettings.Source(flags: givenFlags(), environment: ProcessInfo.processInfo.environment, configFile: config)
        let values: [String: ServeSettings.Value]
        do {
            values = try ServeSettings.effectiveValues(flags: source.flags, environment: source.environment, configFile: source.configFile)
            settings = try ServeSettings.resolve(values)
        } catch {
            printError("warren serve: \(error)")
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let json = settings.logFormat == "json"
        LineLogHandler.setProcessLevel(level)
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, json: json) }
        let logger = Logger(label: "warren")
        try await WarrenServe.run(settings: settings, source: source, values: values, logger: logger)
    }
}

/// Wires the proxy together and runs it until SIGTERM or SIGINT.
enum WarrenServe {
    /// The checksum databases, with the start-up warnings an operator must see when
    /// verification is off for some or all modules.
    static func checksumDatabases(settings: ServeSettings, storage: any ArtifactStorage, client: HTTPClientFactory,
                                  logger: Logger) -> ChecksumDatabases {
        let stateDirectory = settings.dataDirectory + "/sumdb"
        if !settings.sumdbs.isEmpty {
            try? FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        }
        let databases = ChecksumDatabases(settings: settings.sumdbs, unverified: settings.unverified, clients: client,
                                          storage: storage, stateDirectory: stateDirectory,
                                          timeout: .milliseconds(Int64(settings.headerTimeout * 1000)), logger: logger)
        if let verifier = databases.verifier {
            logger.notice("verifying modules against a checksum database", metadata: [
                "database": "\(verifier.name)", "proxied": "\(settings.sumdbs.map(\.description).joined(separator: ", "))",
            ])
            if !settings.unverified.isEmpty {
                logger.warning("modules matching these patterns are cached without checksum verification", metadata: ["nosumdb": "\(settings.unverified)"])
            }
        } else {
            logger.warning("checksum verification is off (--sumdb off): modules are cached without being checked against a checksum database")
        }
        return databases
    }

    /// Warren's own checksum database, when `warren sumdb init` made one in this
    /// database: appending with the signing key, or serving only without it.
    static func openOwnChecksumLog(settings: ServeSettings, index: any MetadataIndex, logger: Logger) async throws -> ChecksumLog? {
        let signer = try SigningKeyFile.load(settings.sumdbKey, dataDirectory: settings.dataDirectory)
        guard let store = index as? any ChecksumLogStore, try await store.checksumLog() != nil else {
            if signer != nil { throw ServeSettings.Problem(description: "a checksum database key is configured, but this database holds no checksum database: run warren sumdb init") }
            return nil
        }
        let log = try await ChecksumLog(store: store, signer: signer, logger: logger)
        if settings.sumdbs.contains(where: { if case .database(let key, _) = $0 { return key.name == log.name } else { return false } }) {
            throw ServeSettings.Problem(description: "--sumdb names \(log.name), which is Warren's own checksum database")
        }
        logger.notice("serving Warren's own checksum database", metadata: [
            "name": "\(log.name)", "verifier-key": "\(log.verifierKey)", "appends": "\(signer == nil ? "off (no signing key)" : "on")",
            "records": "\(settings.sumdbLog.rawValue)",
        ])
        return log
    }

    /// The engine's configuration from the settings (at start, and on every reload).
    static func proxyConfiguration(_ settings: ServeSettings, environment: [String: String]) throws -> ProxyConfiguration {
        var configuration = ProxyConfiguration(
            upstreams: try ProxyList(settings.upstream), dataDirectory: settings.dataDirectory, listTTL: settings.listTTL,
            connectTimeout: settings.connectTimeout, headerTimeout: settings.headerTimeout,
            totalTimeout: settings.totalTimeout, retries: settings.retries, memoryCacheBytes: settings.memoryCacheBytes
        )
        configuration.direct = settings.directConfiguration(environment: environment)
        configuration.prefetchDirectZips = settings.directPrefetch
        configuration.hosted = settings.hosted
        configuration.disableFetchAsksUpstreams = settings.disableFetchAsksUpstreams
        configuration.checksumLogScope = settings.sumdbLog
        configuration.outgoing = OutgoingHTTP(caFile: settings.caFile, clientCertificate: settings.upstreamClientCertificate,
                                              clientKey: settings.upstreamClientKey, proxies: ProxyEnvironment(environment: environment))
        return configuration
    }

    /// - Parameter source: where the settings came from, for reloads (SIGHUP, the config
    ///   file changing).
    static func run(settings: ServeSettings, source: ServeSettings.Source, values: [String: ServeSettings.Value],
                    logger: Logger) async throws {
        let configuration = try proxyConfiguration(settings, environment: source.environment)
        let upstreams = configuration.upstreams
        if !settings.privatePatterns.isEmpty {
            logger.notice("private modules go direct to version control only", metadata: [
                "private": "\(settings.privatePatterns)",
                "credentials": "\(configuration.direct.credentials.map(\.host).joined(separator: ","))",
            ])
        }
        let tls: TLSCertificateStore?
        do {
            tls = try settings.tlsCertificate.flatMap { certificate in
                try settings.tlsKey.map { try TLSCertificateStore(certificatePath: certificate, keyPath: $0) }
            }
        } catch {
            printError("warren serve: \(error)")
            throw ExitCode(2)
        }
        let opened: OpenedStorage
        do {
            opened = try await OpenedStorage.open(settings: settings, environment: ProcessInfo.processInfo.environment, logger: logger)
        } catch {
            printError("warren serve: \(error)")
            throw ExitCode(2)
        }
        // Uploads a crash cut off (publishing keeps them under .uploads until checked).
        if FileManager.default.fileExists(atPath: settings.dataDirectory + "/.uploads") {
            _ = try? OpenedStorage.openDirectory(settings.dataDirectory + "/.uploads", logger: logger)
        }
        let storage = opened.storage
        let metrics = MetricsEndpoint.bootstrap()
        let clients: HTTPClientFactory
        do {
            clients = try HTTPClientFactory(configuration: configuration)
            // git replaces its CA bundle rather than adding to it: give it the system's
            // with the extra CAs after it (inherited by every git Warren starts).
            if let bundle = try configuration.outgoing.gitCABundle(in: settings.dataDirectory) {
                setenv("GIT_SSL_CAINFO", bundle, 1)
            }
        } catch {
            printError("warren serve: \(error)")
            await opened.shutdown()
            throw ExitCode(2)
        }
        let access: AccessControl?
        do {
            let gitlab = settings.gitlabTokens.map { GitLabTokenChecker(base: $0, http: clients.client(for: $0)) }
            access = try await AccessSetup.make(settings: settings, tokens: opened.index as? any TokenStore, external: gitlab, logger: logger)
        } catch {
            printError("warren serve: \(error)")
            await clients.shutdown()
            await opened.shutdown()
            throw ExitCode(2)
        }
        let chain = UpstreamChain.make(upstreams, client: clients, configuration: configuration, logger: logger, health: settings.upstreamHealth)
        let checksums = checksumDatabases(settings: settings, storage: storage, client: clients, logger: logger)
        let ownLog: ChecksumLog?
        do {
            ownLog = try await Self.openOwnChecksumLog(settings: settings, index: opened.index, logger: logger)
        } catch {
            printError("warren serve: \(error)")
            await opened.shutdown()
            throw ExitCode(2)
        }
        let policy = ModulePolicy(rules: settings.policy, vulnerabilities: settings.vulnerabilities,
                                  store: opened.index as? any VulnerabilityStore)
        do {
            try await policy.refresh()
        } catch {
            printError("warren serve: cannot read the vulnerability records: \(error)")
            await opened.shutdown()
            throw ExitCode(2)
        }
        if !settings.policy.isEmpty {
            logger.notice("supply-chain policy", metadata: ["rules": "\(settings.policy.count)", "vulnerabilities": "\(settings.vulnerabilities.rawValue)"])
        }
        let proxy = ModuleProxy(configuration: configuration, storage: storage, chain: chain, logger: logger, checksums: checksums,
                                coordinator: opened.coordinator, index: opened.index, checksumLog: ownLog, policy: policy)
        let descriptors = DescriptorLimit.raiseSoftLimit()
        let limits = settings.clientLimits(descriptorLimit: descriptors)
        logger.notice("client connections limited", metadata: [
            "max-connections": "\(limits.maxConnections)", "open-file-limit": "\(descriptors)",
            "header-timeout": "\(settings.clientHeaderTimeout)s", "idle-timeout": "\(settings.clientIdleTimeout)s",
        ])
        // One line per request, buffered off the event loops (see AccessLog).
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let accessLog = AccessLog(format: settings.logFormat == "json" ? .json : .text, enabled: level <= .info)
        let downloads = DownloadTally()
        defer { accessLog.flush() }
        var login: LoginFlow?
        if let publicURL = settings.oidc.publicURL, let tokens = access?.authenticator.tokens {
            let o = settings.oidc
            var provider: (any LoginProvider)?
            var secret = ""
            if let issuer = o.issuer, let clientID = o.clientID, let s = o.clientSecret {
                provider = OpenIDConnectProvider(issuer: issuer, clientID: clientID, clientSecret: s, usernameClaim: o.usernameClaim,
                                                 groupsClaim: o.groupsClaim, scopes: o.scopes, http: clients.client(for: issuer))
                secret = s
            } else if let base = o.githubURL, let clientID = o.githubClientID, let s = o.githubClientSecret {
                provider = GitHubLoginProvider(base: base, api: o.githubAPIURL, clientID: clientID, clientSecret: s,
                                               http: clients.client(for: base))
                secret = s
            }
            if let provider {
                login = LoginFlow(provider: provider, publicURL: publicURL, cookieSecret: secret, tokenLifetime: o.tokenLifetime,
                                  tokens: tokens, audit: access?.audit)
                logger.notice("sign-in at /login", metadata: ["provider": "\(provider.displayName)", "redirect": "\(publicURL)/callback"])
            }
        }
        let live = SharedMutex(ConfigurationReloader.Applied(settings: settings, values: values,
                                                             fileStamp: source.configPath.flatMap(ConfigurationReloader.modificationDate)))
        let app = WarrenHTTPServer.makeApplication(
            settings: .init(host: settings.host, port: settings.port, pathPrefix: settings.pathPrefix,
                           hotResponseBytes: settings.memoryCacheBytes, limits: limits, accessLog: accessLog, downloads: downloads, tls: tls,
                            access: access, login: login, publicURL: settings.oidc.publicURL,
                            console: settings.console, cacheLimits: { live.withLock { $0.settings.evictionLimits.isEnabled ? $0.settings.evictionLimits : nil } }),
            proxy: proxy, storage: storage, index: opened.index, metrics: metrics, logger: logger
        ) { port in
            let hostForURL = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
            logger.notice("serving Go modules", metadata: [
                "url": "\(tls == nil ? "http" : "https")://\(hostForURL):\(port)\(settings.pathPrefix)",
                "upstream": "\(upstreams)", "data": "\(settings.dataDirectory)", "storage": "\(opened.displayName)", "index": "\(settings.database)",
            ])
            // A stable line on stdout for scripts and tests that start Warren on port 0.
            FileHandle.standardOutput.write(Data("warren: listening on \(hostForURL):\(port)\n".utf8))
        }
        let maintenance = StorageMaintenance(storage: storage, downloads: downloads, bucket: opened.bucket, coordinator: opened.coordinator,
                                             logger: logger)
        var services: [any Service] = [app, maintenance]
        let certificates = tls.map { CertificateReloader(store: $0, logger: logger) }
        if let certificates { services.append(certificates) }
        services.append(ConfigurationReloader(source: source, current: live, proxy: proxy, clients: clients, access: access, policy: policy,
                                              accessLog: accessLog, certificates: certificates, logger: logger))
        if let tokens = access?.authenticator.tokens { services.append(TokenRefresher(tokens: tokens, audit: access?.audit, logger: logger)) }
        services.append(PolicyRefresher(policy: policy, logger: logger))
        if let follow = settings.follow {
            let follower = IndexFollower(feed: follow.url, patterns: follow.patterns, client: clients.client(for: follow.url),
                                         mirror: ModuleMirror(proxy: proxy, concurrency: 4))
            services.append(FollowService(follower: follower, storage: opened.storage, legacyCursorFile: settings.dataDirectory + "/follow.since", coordinator: opened.coordinator,
                                          interval: .milliseconds(Int64(settings.followInterval * 1000)), logger: logger))
            logger.notice("following an index feed", metadata: ["feed": "\(URLDisplayName.of(follow.url))", "patterns": "\(follow.patterns?.description ?? "all")"])
        }
        if settings.syncTop > 0 {
            services.append(SyncService(proxy: proxy, index: opened.index, coordinator: opened.coordinator, top: settings.syncTop,
                                        interval: .milliseconds(Int64(settings.syncInterval * 1000)), logger: logger))
        }
        if !settings.webhooks.isEmpty, let secret = settings.webhookSecret {
            let dispatcher = WebhookDispatcher(targets: settings.webhooks, secret: secret, client: { clients.client(for: $0) }, logger: logger)
            proxy.events.listen { dispatcher.post($0) }
            services.append(WebhookService(dispatcher: dispatcher))
            logger.notice("webhooks", metadata: ["targets": "\(settings.webhooks.map(\.description).joined(separator: ","))"])
        }
        services.append(EvictionService(live: live, storage: storage, index: opened.index, coordinator: opened.coordinator, proxy: proxy,
                                        logger: logger))
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("server stopped", metadata: ["error": "\(error)"])
            await proxy.drain()
            await clients.shutdown()
            await opened.shutdown()
            throw ExitCode(1)
        }
        // Requests in flight are finished; let background downloads complete too.
        await proxy.drain()
        await maintenance.flushDownloads()
        await clients.shutdown()
        await opened.shutdown()
        logger.notice("stopped")
    }
}
