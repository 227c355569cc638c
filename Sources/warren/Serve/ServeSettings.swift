import Foundation
import GoModule
import WarrenCore
import WarrenServer
import Yams

/// `warren serve` settings, resolved from flags > `WARREN_*` environment > YAML config
/// file > defaults. Every key has the same name in all three places (`list-ttl`,
/// `WARREN_LIST_TTL`, `--list-ttl`), and a bad value fails at start naming the key and
/// where it came from.
struct ServeSettings: Equatable {
    var host = "127.0.0.1"
    var port = 3000
    var upstream = "https://proxy.golang.org"
    var dataDirectory = ServeSettings.defaultDataDirectory()
    var listTTL = 60.0
    var pathPrefix = ""
    var connectTimeout = 5.0
    var headerTimeout = 30.0
    var totalTimeout = 600.0
    var retries = 2
    var memoryCacheBytes = 64 << 20
    var logLevel = "info"
    var logFormat = "text"
    /// Checksum databases, GOSUMDB syntax; the first verifies modules. Empty: off.
    var sumdbs: [SumDBSetting] = (try? SumDBSetting("sum.golang.org")).map { [$0] } ?? []
    /// Modules never looked up in (or verified against) a checksum database.
    var nosumdb = ModulePathPatterns("")
    /// Modules always fetched direct from version control, never from an upstream proxy
    /// nor a checksum database (GOPRIVATE).
    var privatePatterns = ModulePathPatterns("")
    /// Warren's own checksum database's signing key: a file, or the key itself
    /// (`PRIVATE+KEY+…`, from the environment); nil: `DATA_DIR/sumdb-signer.key` if it exists.
    var sumdbKey: String?
    /// What Warren's own checksum database records besides published versions.
    var sumdbLog = ChecksumLogScope.hosted
    /// Eviction of what was cached from upstreams and git (nil: no limit).
    var cacheMaxBytes: Int64?
    var cacheMaxAge: Double?
    /// Nothing younger than this is evicted.
    var cacheMinAge = 600.0
    /// Supply-chain rules (`deny`, `allow`, `allow-only`), in order.
    var policy: [PolicyRule] = []
    /// What known vulnerabilities (imported with `warren vuln import`) do.
    var vulnerabilities = ModulePolicy.VulnerabilityMode.warn
    /// Serve the web console under /-/.
    var console = true
    /// `--disable-fetch upstream`: Disable-Module-Fetch misses ask proxy upstreams, passing
    /// the header on.
    var disableFetchAsksUpstreams = false
    /// Failures in a row that open an upstream's circuit (nil: never), and for how long.
    var upstreamFailures: Int? = 5
    var upstreamCooldown: Double = 30
    /// Extra hedged requests allowed, in percent of small upstream requests (0: none).
    var hedgeBudget: Double = 10
    /// Active sync: the N most downloaded modules refreshed every interval (0: off).
    var syncTop = 0
    var syncInterval: Double = 600
    /// Another proxy's index feed to follow (`URL [PATTERNS]`), and how often.
    var follow: FollowSetting?

    struct FollowSetting: Equatable {
        var url: String
        var patterns: ModulePathPatterns?
    }
    var followInterval: Double = 60
    /// Where events are POSTed, and the secret they are signed with.
    var webhooks: [WebhookTarget] = []
    var webhookSecret: String?
    /// Modules served only from what was published to Warren (`--hosted`).
    var hosted = ModulePathPatterns("")
    /// Modules whose discovery may use plain HTTP (GOINSECURE).
    var insecure = ModulePathPatterns("")
    /// Which version control systems direct mode may use (GOVCS).
    var govcs = VCSRules.fallback
    /// Build zips in the background once direct mode has answered a version's `.info`.
    var directPrefetch = true
    /// Per-host credentials for git and discovery (HOST=USER:PASSWORD or HOST=TOKEN).
    var credentials: [HostCredential] = []
    /// The .netrc file read for more credentials; nil: $NETRC or ~/.netrc.
    var netrc: String?
    /// Client connections: timeouts, rate, pipelining (see `ClientLimits`).
    var clientHeaderTimeout = 10.0
    var clientIdleTimeout = 60.0
    var clientSendTimeout = 60.0
    var clientMinSendRate = 1024
    /// Open client connections at most; nil: computed from the descriptor limit at start.
    var maxConnections: Int?
    var maxPipelined = 16
    /// Where artifacts live, and how object storage is reached.
    var storage = StorageBackend.directory
    var s3 = S3Settings()
    /// Where the metadata index lives.
    var database = DatabaseSetting.sqlite(path: nil)
    /// Serve HTTPS with this certificate (PEM, chain included) and key; both or neither.
    var tlsCertificate: String?
    var tlsKey: String?
    /// Who may do what (`anonymous`, `permissions`, `hide-forbidden`, `metrics-access`).
    var access = AccessPolicy.open
    /// Where security events go (nil: nowhere; `-`: stderr).
    var auditLog: String?
    /// Sign-in with an OpenID Connect provider (all three of issuer, client ID and secret,
    /// plus the URL users reach Warren at).
    var oidc = OIDCSettings()
    /// A GitLab that vouches for CI job tokens and personal access tokens.
    var gitlabTokens: String?
    /// Extra CAs for every outgoing request; a client certificate for upstreams.
    var caFile: String?
    var upstreamClientCertificate: String?
    var upstreamClientKey: String?

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// The keys, as written in YAML; flags add `--`, the environment `WARREN_` in capitals.
    static let keys = [
        "listen", "upstream", "data-dir", "list-ttl", "path-prefix", "connect-timeout", "header-timeout",
        "total-timeout", "retries", "memory-cache", "log-level", "log-format", "sumdb", "nosumdb",
        "private", "insecure", "govcs", "direct-prefetch", "credentials", "netrc",
        "client-header-timeout", "client-idle-timeout", "client-send-timeout", "client-min-send-rate",
        "max-connections", "max-pipelined", "storage", "s3-endpoint", "s3-region", "s3-path-style",
        "s3-access-key-id", "s3-secret-access-key", "s3-session-token", "local-cache-size", "database", "s3-redirect-over",
        "tls-cert", "tls-key", "anonymous", "permissions", "hide-forbidden", "metrics-access", "audit-log",
        "ca-file", "upstream-client-cert", "upstream-client-key",
        "public-url", "oidc-issuer", "oidc-client-id", "oidc-client-secret", "oidc-username-claim", "oidc-groups-claim",
        "oidc-scopes", "login-token-lifetime", "github-url", "github-api-url", "github-client-id", "github-client-secret",
        "gitlab-tokens", "hosted", "sumdb-key", "sumdb-log", "policy", "vulnerabilities",
        "cache-max-size", "cache-max-age", "cache-min-age", "console", "upstream-failures", "upstream-cooldown", "hedge-budget",
        "webhooks", "webhook-secret", "sync-top", "sync-interval", "follow", "follow-interval",
        "disable-fetch",
    ]

    /// Keys whose values are secrets: never echoed in an error.
    static let secretKeys: Set<String> = ["webhook-secret", "sumdb-key", "credentials", "s3-secret-access-key", "s3-session-token", "database", "oidc-client-secret", "github-client-secret"]

    static func environmentName(_ key: String) -> String {
        "WARREN_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// Resolves settings from the three sources. `flags` holds only flags actually given.
    static func resolve(flags: [String: String], environment: [String: String], configFile: String?) throws -> ServeSettings {
        try resolve(effectiveValues(flags: flags, environment: environment, configFile: configFile))
    }

    /// Each key's value and where it came from (flags > WARREN_* > the config file), before
    /// any is parsed: what a reload compares to see which keys changed.
    static func effectiveValues(flags: [String: String], environment: [String: String],
                                configFile: String?) throws -> [String: (source: String, value: String)] {
        var fileValues: [String: String] = [:]
        let configPath = configFile ?? environment["WARREN_CONFIG"]
        if let configPath {
            fileValues = try loadYAML(configPath)
        }
        var out: [String: (source: String, value: String)] = [:]
        for key in keys {
            if let v = flags[key] {
                out[key] = ("--\(key)", v)
            } else if let v = environment[environmentName(key)] {
                out[key] = (environmentName(key), v)
            } else if let v = fileValues[key] {
                out[key] = ("\(configPath ?? "config"): \(key)", v)
            }
        }
        return out
    }

    static func resolve(_ values: [String: (source: String, value: String)]) throws -> ServeSettings {
        var settings = ServeSettings()
        for key in keys {
            guard let (source, value) = values[key] else { continue }
            do {
                try settings.apply(key, value)
            } catch {
                // Credentials are never echoed, not even malformed ones.
                let shown = secretKeys.contains(key) ? "(value hidden)" : GoQuote.string(value)
                throw Problem(description: "invalid \(key) \(shown) (from \(source)): \(error)")
            }
        }
        if let problem = settings.oidc.problem { throw Problem(description: problem) }
        if !settings.webhooks.isEmpty, settings.webhookSecret == nil {
            throw Problem(description: "webhooks need webhook-secret (WARREN_WEBHOOK_SECRET): every delivery is signed with it")
        }
        guard (settings.upstreamClientCertificate == nil) == (settings.upstreamClientKey == nil) else {
            throw Problem(description: "upstream-client-cert and upstream-client-key go together")
        }
        guard (settings.tlsCertificate == nil) == (settings.tlsKey == nil) else {
            throw Problem(description: "tls-cert and tls-key go together: give both to serve HTTPS, or neither")
        }
        return settings
    }

    mutating func apply(_ key: String, _ value: String) throws {
        switch key {
        case "listen":
            (host, port) = try Self.parseListen(value)
        case "upstream":
            _ = try ProxyList(value)
            upstream = value
        case "data-dir":
            guard !value.isEmpty else { throw Problem(description: "empty path") }
            dataDirectory = (value as NSString).expandingTildeInPath
        case "list-ttl": listTTL = try Self.parseDuration(value)
        case "path-prefix":
            guard value.isEmpty || value.hasPrefix("/"), !value.contains("?"), !value.contains("%") else {
                throw Problem(description: "must be empty or start with /")
            }
            pathPrefix = value
        case "connect-timeout": connectTimeout = try Self.parsePositiveDuration(value)
        case "header-timeout": headerTimeout = try Self.parsePositiveDuration(value)
        case "total-timeout": totalTimeout = try Self.parsePositiveDuration(value)
        case "retries":
            guard let n = Int(value), (0...10).contains(n) else { throw Problem(description: "want a whole number from 0 to 10") }
            retries = n
        case "memory-cache": memoryCacheBytes = try Self.parseSize(value)
        case "log-level":
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(value) else {
                throw Problem(description: "want trace, debug, info, notice, warning, error or critical")
            }
            logLevel = value
        case "log-format":
            guard ["text", "json"].contains(value) else { throw Problem(description: "want text or json") }
            logFormat = value
        case "sumdb":
            sumdbs = try Self.parseSumDBs(value)
        case "nosumdb":
            nosumdb = ModulePathPatterns(value)
        case "private":
            privatePatterns = try Self.parsePatterns(value)
        case "sumdb-key":
            sumdbKey = value.isEmpty ? nil : value.hasPrefix("PRIVATE+KEY+") ? value : (value as NSString).expandingTildeInPath
        case "sumdb-log":
            guard let scope = ChecksumLogScope(rawValue: value) else { throw Problem(description: "want hosted, private or all") }
            sumdbLog = scope
        case "cache-max-size":
            cacheMaxBytes = value == "off" || value.isEmpty ? nil : Int64(try Self.parseSize(value))
        case "cache-max-age":
            cacheMaxAge = value == "off" || value.isEmpty ? nil : try Self.parsePositiveDuration(value)
        case "cache-min-age":
            cacheMinAge = try Self.parseDuration(value)
        case "console":
            console = try Self.parseSwitch(value)
        case "disable-fetch":
            switch value {
            case "local": disableFetchAsksUpstreams = false
            case "upstream": disableFetchAsksUpstreams = true
            default: throw Problem(description: "want local or upstream")
            }
        case "upstream-failures":
            if value == "off" {
                upstreamFailures = nil
            } else {
                guard let n = Int(value), n >= 1 else { throw Problem(description: "want a number of failures (1 or more), or off") }
                upstreamFailures = n
            }
        case "follow":
            let fields = value.split(separator: " ", omittingEmptySubsequences: true)
            guard let url = fields.first, url.hasPrefix("http://") || url.hasPrefix("https://"), fields.count <= 2 else {
                throw Problem(description: "want the URL of an index feed (https://proxy.example/index), then optionally module patterns")
            }
            follow = FollowSetting(url: String(url), patterns: fields.count == 2 ? try Self.parsePatterns(String(fields[1])) : nil)
        case "follow-interval":
            followInterval = try Self.parsePositiveDuration(value)
        case "sync-top":
            guard let n = Int(value), n >= 0 else { throw Problem(description: "want a number of modules (0: off)") }
            syncTop = n
        case "sync-interval":
            syncInterval = try Self.parsePositiveDuration(value)
        case "webhooks":
            webhooks = try value.split(whereSeparator: { $0 == ";" || $0 == "\n" })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map { line in try WebhookTarget(parsing: line) }
        case "webhook-secret":
            guard value.utf8.count >= 16 else { throw Problem(description: "want at least 16 characters") }
            webhookSecret = value
        case "upstream-cooldown":
            upstreamCooldown = try Self.parsePositiveDuration(value)
        case "hedge-budget":
            guard let p = Double(value.hasSuffix("%") ? String(value.dropLast()) : value), p >= 0, p <= 100 else {
                throw Problem(description: "want a percentage from 0 (off) to 100")
            }
            hedgeBudget = p
        case "policy":
            policy = try value.split(whereSeparator: { $0 == "\n" || $0 == ";" })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map { line in try PolicyRule(line) }
        case "vulnerabilities":
            guard let mode = ModulePolicy.VulnerabilityMode(rawValue: value) else { throw Problem(description: "want off, warn or block") }
            vulnerabilities = mode
        case "hosted":
            hosted = try Self.parsePatterns(value)
        case "insecure":
            insecure = try Self.parsePatterns(value)
        case "govcs":
            govcs = try VCSRules(value)
        case "credentials":
            credentials = try value.split(separator: ",").map { try HostCredential.parse(String($0)) }
        case "direct-prefetch":
            directPrefetch = try Self.parseSwitch(value)
        case "storage":
            storage = try StorageBackend.parse(value)
        case "s3-endpoint":
            s3.endpoint = value.isEmpty ? nil : value
        case "s3-region":
            s3.region = value.isEmpty ? nil : value
        case "s3-path-style":
            s3.pathStyle = try Self.parseSwitch(value)
        case "s3-access-key-id":
            s3.accessKeyID = value.isEmpty ? nil : value
        case "s3-secret-access-key":
            s3.secretAccessKey = value.isEmpty ? nil : value
        case "s3-session-token":
            s3.sessionToken = value.isEmpty ? nil : value
        case "s3-redirect-over":
            s3.redirectOver = value == "off" || value.isEmpty ? nil : Int64(try Self.parseSize(value))
        case "database":
            database = try DatabaseSetting.parse(value)
        case "anonymous":
            switch value {
            case "off": access.anonymous = nil
            case "read": access.anonymous = .read
            case "fetch": access.anonymous = .fetch
            default: throw Problem(description: "want off, read or fetch")
            }
        case "permissions":
            access.rules = try value.split(whereSeparator: { $0 == "\n" || $0 == ";" })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                .map { line in try AccessRule(line) }
        case "hide-forbidden": access.hideForbidden = try Self.parseSwitch(value)
        case "metrics-access":
            guard let level = AccessPolicy.MetricsAccess(rawValue: value) else {
                throw Problem(description: "want anonymous, authenticated or admin")
            }
            access.metrics = level
        case "audit-log": auditLog = value.isEmpty ? nil : (value as NSString).expandingTildeInPath
        case "public-url":
            guard value.isEmpty || value.hasPrefix("https://") || value.hasPrefix("http://") else {
                throw Problem(description: "want the URL users reach Warren at, such as https://goproxy.corp.example.com")
            }
            oidc.publicURL = value.isEmpty ? nil : value
        case "oidc-issuer":
            guard value.isEmpty || value.hasPrefix("https://") || value.hasPrefix("http://") else { throw Problem(description: "want the provider's issuer URL") }
            oidc.issuer = value.isEmpty ? nil : value
        case "oidc-client-id": oidc.clientID = value.isEmpty ? nil : value
        case "github-url", "github-api-url":
            guard value.isEmpty || value.hasPrefix("https://") || value.hasPrefix("http://") else { throw Problem(description: "want a URL") }
            if key == "github-url" { oidc.githubURL = value.isEmpty ? nil : value } else { oidc.githubAPIURL = value.isEmpty ? nil : value }
        case "github-client-id": oidc.githubClientID = value.isEmpty ? nil : value
        case "gitlab-tokens":
            guard value.isEmpty || value.hasPrefix("https://") || value.hasPrefix("http://") else { throw Problem(description: "want GitLab's URL") }
            gitlabTokens = value.isEmpty ? nil : value
        case "github-client-secret": oidc.githubClientSecret = value.isEmpty ? nil : value
        case "oidc-client-secret": oidc.clientSecret = value.isEmpty ? nil : value
        case "oidc-username-claim": oidc.usernameClaim = value
        case "oidc-groups-claim": oidc.groupsClaim = value
        case "oidc-scopes": oidc.scopes = value
        case "login-token-lifetime": oidc.tokenLifetime = try Self.parsePositiveDuration(value)
        case "ca-file": caFile = value.isEmpty ? nil : (value as NSString).expandingTildeInPath
        case "upstream-client-cert": upstreamClientCertificate = value.isEmpty ? nil : (value as NSString).expandingTildeInPath
        case "upstream-client-key": upstreamClientKey = value.isEmpty ? nil : (value as NSString).expandingTildeInPath
        case "tls-cert", "tls-key":
            let path = value.isEmpty ? nil : (value as NSString).expandingTildeInPath
            if key == "tls-cert" { tlsCertificate = path } else { tlsKey = path }
        case "local-cache-size":
            s3.localCacheBytes = Int64(try Self.parseSize(value))
        case "netrc":
            netrc = value.isEmpty ? nil : (value as NSString).expandingTildeInPath
        case "client-header-timeout": clientHeaderTimeout = try Self.parsePositiveDuration(value)
        case "client-idle-timeout": clientIdleTimeout = try Self.parsePositiveDuration(value)
        case "client-send-timeout": clientSendTimeout = try Self.parsePositiveDuration(value)
        case "client-min-send-rate":
            let text = value.hasSuffix("/s") ? String(value.dropLast(2)) : value
            clientMinSendRate = try Self.parseSize(text)
        case "max-connections":
            if value == "auto" {
                maxConnections = nil
            } else {
                guard let n = Int(value), n >= 1 else { throw Problem(description: "want auto or a number of connections, at least 1") }
                maxConnections = n
            }
        case "max-pipelined":
            guard let n = Int(value), (1...1024).contains(n) else { throw Problem(description: "want a number from 1 to 1024") }
            maxPipelined = n
        default:
            throw Problem(description: "unknown setting")
        }
    }

    static func parseSwitch(_ value: String) throws -> Bool {
        switch value.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw Problem(description: "want on or off")
        }
    }

    /// A GOPRIVATE-style list whose globs are well formed.
    static func parsePatterns(_ value: String) throws -> ModulePathPatterns {
        let patterns = ModulePathPatterns(value)
        for p in patterns.patterns where (try? GlobPattern.match(p, "")) == nil {
            throw Problem(description: "malformed pattern \(GoQuote.string(p))")
        }
        return patterns
    }

    /// Direct mode's settings, with .netrc credentials after the configured ones and the
    /// environment the go command would use ($NETRC or ~/.netrc).
    func directConfiguration(environment: [String: String]) -> DirectConfiguration {
        let netrcPath = netrc ?? NetrcFile.defaultPath(environment: environment)
        let fromNetrc = netrcPath.map(NetrcFile.read) ?? []
        return DirectConfiguration(privatePatterns: privatePatterns, insecurePatterns: insecure, vcsRules: govcs,
                                   credentials: credentials + fromNetrc)
    }

    /// The limits on client connections; `maxConnections` defaults to what the
    /// descriptor limit allows.
    func clientLimits(descriptorLimit: Int) -> ClientLimits {
        ClientLimits(headerTimeout: .milliseconds(Int64(clientHeaderTimeout * 1000)),
                     idleTimeout: .milliseconds(Int64(clientIdleTimeout * 1000)),
                     sendTimeout: .milliseconds(Int64(clientSendTimeout * 1000)),
                     minSendRate: clientMinSendRate,
                     maxConnections: maxConnections ?? DescriptorLimit.defaultMaxConnections(limit: descriptorLimit),
                     maxPipelined: maxPipelined)
    }

    /// Modules never sent to a checksum database: --nosumdb, --private and --hosted (their
    /// names are the company's, and no public database has them).
    var unverified: ModulePathPatterns {
        ModulePathPatterns((nosumdb.patterns + privatePatterns.patterns + hosted.patterns).joined(separator: ","))
    }

    /// One or more GOSUMDB values separated by commas (`--sumdb` may also be repeated),
    /// or `off`.
    static func parseSumDBs(_ value: String) throws -> [SumDBSetting] {
        var out: [SumDBSetting] = []
        for item in value.split(separator: ",") {
            let text = item.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            let setting = try SumDBSetting(text)
            if setting == .off {
                guard value.split(separator: ",").count == 1 else { throw Problem(description: "off cannot be combined with databases") }
                return []
            }
            out.append(setting)
        }
        guard !out.isEmpty else { throw Problem(description: "want off, sum.golang.org, or NAME+HASH+KEY [URL]") }
        return out
    }

    /// The circuit breaker's and hedging's settings.
    var upstreamHealth: UpstreamHealthBook {
        let breaker = upstreamFailures.map { UpstreamHealth.Settings(failureThreshold: $0, cooldown: .milliseconds(Int64(upstreamCooldown * 1000)),
                                                                   maxCooldown: .milliseconds(Int64(max(upstreamCooldown, 300) * 1000))) } ?? .off
        return UpstreamHealthBook(settings: breaker, hedging: HedgeBudget(percent: hedgeBudget))
    }

    var evictionLimits: CacheEvictor.Limits {
        CacheEvictor.Limits(maxBytes: cacheMaxBytes, maxAge: cacheMaxAge, minAge: cacheMinAge)
    }

    /// The per-user cache directory, as the go command picks GOMODCACHE's parent.
    static func defaultDataDirectory() -> String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/warren" }
        let home = env["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/warren"
    }

    static func loadYAML(_ path: String) throws -> [String: String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem(description: "cannot read config file \(path): \(error.localizedDescription)")
        }
        let node: Any?
        do {
            node = try Yams.load(yaml: text)
        } catch {
            throw Problem(description: "config file \(path) is not valid YAML: \(error)")
        }
        guard let node else { return [:] }
        guard let map = node as? [String: Any] else {
            throw Problem(description: "config file \(path) must be a mapping of settings")
        }
        var out: [String: String] = [:]
        for (key, value) in map {
            guard keys.contains(key) else {
                throw Problem(description: "config file \(path): unknown key \(GoQuote.string(key)) (known: \(keys.joined(separator: ", ")))")
            }
            switch value {
            case let s as String: out[key] = s
            case let i as Int: out[key] = String(i)
            case let d as Double: out[key] = String(d)
            case let b as Bool: out[key] = String(b)
            case let list as [Any] where list.allSatisfy({ $0 is String }):
                // Lists (several sumdb entries) read like repeated flags; permission
                // lines hold commas of their own.
                out[key] = list.compactMap { $0 as? String }.joined(separator: key == "permissions" ? "\n" : ",")
            default: throw Problem(description: "config file \(path): \(key) must be a single value")
            }
        }
        return out
    }

    /// `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces).
    static func parseListen(_ s: String) throws -> (String, Int) {
        guard let colon = s.lastIndex(of: ":") else { throw Problem(description: "want HOST:PORT") }
        var host = String(s[..<colon])
        guard let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else {
            throw Problem(description: "port must be a number from 0 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }

    /// `90`, `90s`, `1.5m`, `500ms`, `2h`.
    static func parseDuration(_ s: String) throws -> Double {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            if suffix == "s" && s.hasSuffix("ms") { continue }
            if let v = Double(s.dropLast(suffix.count)), v >= 0, v.isFinite { return v * factor }
        }
        if let v = Double(s), v >= 0, v.isFinite { return v }
        throw Problem(description: "want a duration such as 60s, 5m or 500ms")
    }

    static func parsePositiveDuration(_ s: String) throws -> Double {
        let d = try parseDuration(s)
        guard d > 0 else { throw Problem(description: "must be more than zero") }
        return d
    }

    /// `1048576`, `64MiB`, `512KiB`, `1GiB` (also KB/MB/GB as powers of 1000).
    static func parseSize(_ s: String) throws -> Int {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            if let v = Int(s.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), v >= 0 { return v * factor }
        }
        if let v = Int(s), v >= 0 { return v }
        throw Problem(description: "want a size such as 64MiB")
    }
}

