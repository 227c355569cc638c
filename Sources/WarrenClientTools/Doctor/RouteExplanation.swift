import GoModule

/// Where the go command sends one module, step by step, following cmd/go's modfetch:
/// GONOPROXY first (its match means "direct", whatever GOPROXY says), then the proxy
/// list with its `,`/`|` rules, then whether the checksum database is asked, and how
/// it is reached (through the first proxy that serves `/sumdb/<name>/supported`).
public struct RouteExplanation: Sendable, Codable, Equatable {
    public struct Step: Sendable, Codable, Equatable {
        /// `proxy`, `direct`, `off` or `refused`.
        public var kind: String
        public var target: String
        /// What happens when this step fails.
        public var onFailure: String
        public var reason: String
    }

    public var module: String
    public var version: String?
    public var steps: [Step]
    public var checksumDatabase: String?
    /// Why the checksum database is or is not consulted.
    public var checksumReason: String
    public var notes: [String]

    public static func explain(module: String, version: String?, env: GoEnvironment) throws(InvalidPathError) -> RouteExplanation {
        try PathRules.checkModulePath(module)
        var steps: [Step] = []
        var notes: [String] = []
        if let version, !SemVer.isValid(version) && !["latest", "upgrade", "patch"].contains(version) {
            notes.append("\(version) is not a semantic version: the go command resolves it as a query (a branch, tag or commit), which only direct mode can answer for tags and commits a proxy has not seen.")
        }
        let noproxyMatch = ModulePathPatterns(env.gonoproxy).firstMatch(module)
        let chain = ProxyChain(env.goproxy).active
        let insecure = ModulePathPatterns(env.goinsecure).firstMatch(module)
        let directHow = insecure.map { "from version control, TLS checks off and http allowed (GOINSECURE pattern \($0))" }
            ?? "from version control over https (repository found from the host table or ?go-get=1 discovery)"
        if env.goflags.split(separator: " ").contains("-mod=vendor") {
            notes.append("GOFLAGS has -mod=vendor: builds read vendor/ and never download this module.")
        }
        if let pattern = noproxyMatch, env.goproxy != "direct" {
            let variable = env.source("GONOPROXY") == .derived ? "GOPRIVATE" : "GONOPROXY"
            steps.append(Step(kind: "direct", target: "direct", onFailure: "the download fails; no proxy is tried",
                              reason: "\(variable) pattern \(pattern) matches, so every proxy is skipped: \(directHow)"))
        } else {
            for (i, item) in chain.enumerated() {
                switch item.kind {
                case .proxy:
                    let last = i == chain.count - 1
                    steps.append(Step(
                        kind: "proxy", target: ProxyList.redact(item.url ?? item.raw),
                        onFailure: last ? "its error is the download's error" : item.separator == "|" ? "any error falls through to the next step" : "404 or 410 falls through; any other error (timeout, 5xx, TLS) stops here",
                        reason: i == 0 ? "first entry of GOPROXY" + (noproxyMatch == nil && !env.gonoproxy.isEmpty ? " (no GONOPROXY/GOPRIVATE pattern matches \(module))" : "") : "next entry of GOPROXY"))
                case .direct:
                    steps.append(Step(kind: "direct", target: "direct", onFailure: "the download fails", reason: "GOPROXY reaches direct: \(directHow)"))
                case .off:
                    steps.append(Step(kind: "off", target: "off", onFailure: "the download fails with \"module lookup disabled by GOPROXY=off\"", reason: "GOPROXY reaches off"))
                case .invalid:
                    steps.append(Step(kind: "refused", target: item.raw, onFailure: "every download fails", reason: "invalid GOPROXY entry: \(item.error ?? "")"))
                }
                if item.kind == .invalid { break }
            }
        }
        var database: String?
        var reason: String
        let nosumdb = ModulePathPatterns(env.gonosumdb).firstMatch(module)
        if env.gosumdb == "off" {
            reason = "not consulted: GOSUMDB=off"
        } else if let pattern = nosumdb {
            let variable = env.source("GONOSUMDB") == .derived ? "GOPRIVATE" : "GONOSUMDB"
            reason = "not consulted: \(variable) pattern \(pattern) matches; only go.sum protects this module"
        } else {
            let name = ConfigurationChecks.sumdbName(env)
            database = name
            let viaProxies = chain.filter { $0.kind == .proxy }.map { ProxyList.redact($0.url ?? $0.raw) }
            reason = "consulted for any version not already in go.sum: "
                + (viaProxies.isEmpty ? "directly at \(name)" : "through the first of \(viaProxies.joined(separator: ", ")) that answers /sumdb/\(name)/supported, else directly at \(name)")
        }
        return RouteExplanation(module: module, version: version, steps: steps, checksumDatabase: database, checksumReason: reason, notes: notes)
    }
}
