import GoModule

/// Everything `warren doctor` says: the effective settings, the proxy chain in order
/// with its fall-through rules, and the findings. Encodes as the `--json` output.
public struct DoctorReport: Sendable, Codable, Equatable {
    public struct ProxyLine: Sendable, Codable, Equatable {
        public var entry: String
        public var kind: String
        public var fallThrough: String
        public var ignored: Bool
        /// Whether .netrc has credentials for this proxy's host (never the secret).
        public var netrcEntry: Bool?
    }

    public var goCommand: String?
    public var envFile: String?
    public var settings: [String: GoEnvironment.Setting]
    public var proxies: [ProxyLine]
    public var checksumDatabase: String
    public var netrcFile: String?
    /// SSL_CERT_FILE, HTTPS_PROXY and friends as set in the process (proxy URLs redacted).
    public var processVariables: [String: String]
    public var observations: [ProxyObservation]
    public var findings: [Finding]

    /// Findings that are problems, not just notes.
    public var problemCount: Int { findings.filter { $0.severity >= .warning }.count }

    public static func build(_ env: GoEnvironment, observations: [ProxyObservation]) -> DoctorReport {
        let netrcPath = NetrcFile.defaultPath(environment: env.processEnvironment)
        let netrcHosts = netrcPath.map(NetrcFile.read) ?? []
        let chain = ProxyChain(env.goproxy)
        let proxies = chain.items.map { item -> ProxyLine in
            let host = item.url.map(ConfigurationChecks.hostOf)
            return ProxyLine(entry: item.url.map(ProxyList.redact) ?? item.raw, kind: item.kind.rawValue, fallThrough: item.fallThrough,
                             ignored: item.ignored,
                             netrcEntry: item.kind == .proxy && item.url?.hasPrefix("http") == true ? netrcHosts.contains { $0.applies(to: host ?? "") } : nil)
        }
        var sumdb = env.gosumdb
        if let setting = try? SumDBSetting(env.gosumdb) { sumdb = setting.description }
        var process: [String: String] = [:]
        for key in GoEnvironment.processOnlyVariables {
            if let v = env.processEnvironment[key] ?? env.processEnvironment[key.lowercased()], !v.isEmpty {
                process[key] = key.hasSuffix("PROXY") && key != "NO_PROXY" ? ProxyList.redact(v) : v
            }
        }
        var settings: [String: GoEnvironment.Setting] = [:]
        for key in GoEnvironment.moduleVariables { settings[key] = env.settings[key] }
        // The GOPROXY value as shown may carry a password: redact it in every field.
        if var s = settings["GOPROXY"] {
            s.value = redactList(s.value)
            s.environmentValue = s.environmentValue.map(redactList)
            s.fileValue = s.fileValue.map(redactList)
            settings["GOPROXY"] = s
        }
        let findings = ConfigurationChecks.run(env, observations: Dictionary(observations.map { ($0.url, $0) }, uniquingKeysWith: { a, _ in a }))
        return DoctorReport(goCommand: env.goCommand, envFile: env.envFilePath, settings: settings, proxies: proxies,
                            checksumDatabase: sumdb, netrcFile: netrcPath.flatMap { p in netrcHosts.isEmpty ? nil : p },
                            processVariables: process, observations: observations.map(redacted), findings: findings)
    }

    static func redactList(_ list: String) -> String {
        var out = ""
        var token = ""
        for c in list {
            if c == "," || c == "|" {
                out += ProxyList.redact(token) + String(c)
                token = ""
            } else {
                token.append(c)
            }
        }
        return out + ProxyList.redact(token)
    }

    static func redacted(_ o: ProxyObservation) -> ProxyObservation {
        var copy = o
        copy.url = ProxyList.redact(o.url)
        return copy
    }
}
