import Foundation
import GoModule

/// `warren doctor probe` for one proxy or checksum database: the connection phases,
/// timed, then the protocol requests the go command makes, each judged against what the
/// go command needs (go.dev/ref/mod#goproxy-protocol).
public struct EndpointProbe: Sendable, Codable, Equatable {
    public struct Check: Sendable, Codable, Equatable {
        public var name: String
        public var url: String
        public var status: Int?
        public var contentType: String?
        public var ok: Bool
        /// What was seen, in a few words ("12 versions", "404 as expected").
        public var note: String
        public var timings: PhaseTimings
    }

    public var url: String
    /// `proxy` or `checksum database`.
    public var kind: String
    public var address: String?
    /// The phases of the first request (DNS, connect, TLS, first byte).
    public var connection: PhaseTimings
    public var tls: TLSReport?
    public var failure: ProbeFailure?
    public var checks: [Check]
    public var problems: [Finding]

    /// Probes a proxy with the requests the go command makes for `module`.
    public static func proxy(_ proxyURL: String, module: String, sumdbName: String?, client: TimedHTTPClient) async -> EndpointProbe {
        var probe = EndpointProbe(url: ProxyList.redact(proxyURL), kind: "proxy", connection: PhaseTimings(), checks: [], problems: [])
        let escaped = (try? PathEscaping.escapePath(module)) ?? module
        let base = proxyURL + "/" + escaped + "/@v/"

        // 1. The version list: the first request also measures the connection.
        let list = await client.get(base + "list")
        probe.connection = list.timings
        probe.address = list.address
        probe.tls = list.tls
        if let failure = list.failure {
            probe.failure = failure
            probe.problems.append(failureFinding(failure, url: probe.url, tls: list.tls))
            return probe
        }
        var versions: [String] = []
        if let r = list.response {
            var check = Check(name: "list", url: list.url, status: r.status, contentType: r.contentType, ok: true, note: "", timings: list.timings)
            if r.status == 200 {
                let lines = r.text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                let pseudo = lines.filter { PseudoVersion.isPseudoVersion($0) }
                let invalid = lines.filter { !SemVer.isValid($0) || (SemVer.canonical($0) != $0 && !$0.hasSuffix("+incompatible")) }
                versions = lines.filter { SemVer.isValid($0) && !PseudoVersion.isPseudoVersion($0) }
                check.note = "\(lines.count) version\(lines.count == 1 ? "" : "s")"
                if ProxyObservation.isHTML(r) {
                    check.ok = false
                    probe.problems.append(Finding(code: "list-html", severity: .error, summary: "\(probe.url) answers the version list with an HTML page",
                                                  detail: "The go command reads each line as a version and fails.", fix: nil))
                } else if let ct = r.contentType, !ct.lowercased().hasPrefix("text/plain") {
                    probe.problems.append(Finding(code: "list-content-type", severity: .warning, summary: "\(probe.url) serves the version list as \(ct), not text/plain",
                                                  detail: "The go command tolerates it, but caches and browsers in between may not.", fix: nil))
                }
                if !pseudo.isEmpty {
                    check.ok = false
                    probe.problems.append(Finding(code: "list-pseudo-versions", severity: .warning,
                                                  summary: "\(probe.url) lists pseudo-versions (\(pseudo.prefix(2).joined(separator: ", ")))",
                                                  detail: "The list must hold tagged versions only; pseudo-versions there make `go list -m -versions` and `@latest` pick untagged commits.", fix: nil))
                }
                if !invalid.isEmpty {
                    check.ok = false
                    probe.problems.append(Finding(code: "list-invalid-lines", severity: .warning,
                                                  summary: "\(probe.url) lists lines that are not canonical versions (\(invalid.prefix(2).joined(separator: ", ")))",
                                                  detail: "The go command ignores them.", fix: nil))
                }
            } else if r.status == 404 || r.status == 410 {
                check.note = "\(r.status): \(module) is not on this proxy; version checks skipped"
            } else {
                check.ok = false
                check.note = "\(r.status)"
                probe.problems.append(statusFinding(r.status, what: "the version list of \(module)", url: probe.url))
            }
            probe.checks.append(check)
        }

        // 2. @latest (optional for a proxy: 404/410 is allowed).
        let latest = await client.get(proxyURL + "/" + escaped + "/@latest")
        var latestVersion: String?
        if let r = latest.response {
            var check = Check(name: "@latest", url: latest.url, status: r.status, contentType: r.contentType, ok: true, note: "", timings: latest.timings)
            if r.status == 200 {
                if let v = InfoJSON.version(r.body) {
                    latestVersion = v
                    check.note = v
                } else {
                    check.ok = false
                    check.note = "not a version JSON object"
                    probe.problems.append(Finding(code: "latest-not-json", severity: .error, summary: "\(probe.url) answers @latest with something that is not {\"Version\": …}",
                                                  detail: "`go get \(module)@latest` fails with \"invalid character\".", fix: nil))
                }
            } else if r.status == 404 || r.status == 410 {
                check.note = "\(r.status) (allowed: the go command then uses the list)"
            } else {
                check.ok = false
                check.note = "\(r.status)"
                probe.problems.append(statusFinding(r.status, what: "\(module)@latest", url: probe.url))
            }
            probe.checks.append(check)
        } else if let f = latest.failure {
            probe.checks.append(Check(name: "@latest", url: latest.url, ok: false, note: f.message, timings: latest.timings))
        }

        // 3. .info and .mod of the newest version.
        let version = versions.max { SemVer.compare($0, $1) < 0 } ?? latestVersion
        if let version, let escapedVersion = try? PathEscaping.escapeVersion(version) {
            let info = await client.get(base + escapedVersion + ".info")
            if let r = info.response {
                var check = Check(name: ".info", url: info.url, status: r.status, contentType: r.contentType, ok: r.status == 200, note: "", timings: info.timings)
                if r.status != 200 {
                    check.note = "\(r.status)"
                    probe.problems.append(statusFinding(r.status, what: "\(module)@\(version).info", url: probe.url))
                } else if InfoJSON.version(r.body) != version {
                    check.ok = false
                    check.note = "Version is \(InfoJSON.version(r.body) ?? "missing"), want \(version)"
                    probe.problems.append(Finding(code: "info-wrong-version", severity: .error, summary: "\(probe.url) answers \(version).info with \(check.note)",
                                                  detail: "The go command rejects the answer.", fix: nil))
                } else {
                    check.note = version
                }
                probe.checks.append(check)
            }
            let mod = await client.get(base + escapedVersion + ".mod")
            if let r = mod.response {
                var check = Check(name: ".mod", url: mod.url, status: r.status, contentType: r.contentType, ok: r.status == 200, note: "", timings: mod.timings)
                if r.status != 200 {
                    check.note = "\(r.status)"
                    probe.problems.append(statusFinding(r.status, what: "\(module)@\(version).mod", url: probe.url))
                } else if case let path = GoModModuleLine.modulePath(r.body), path == module {
                    check.note = "module \(path)"
                } else {
                    check.ok = false
                    check.note = "no `module \(module)` line"
                    probe.problems.append(Finding(code: "mod-wrong-module", severity: .error, summary: "\(probe.url) serves a go.mod for \(module)@\(version) without `module \(module)`",
                                                  detail: "The go command fails with \"parsing go.mod: unexpected module path\".", fix: nil))
                }
                probe.checks.append(check)
            }
        }

        // 4. Not-found answers must be 404 or 410, in plain text.
        let missing = await client.get(proxyURL + "/warren-doctor.invalid/no-such-module/@v/list")
        if let r = missing.response {
            var check = Check(name: "missing module", url: missing.url, status: r.status, contentType: r.contentType, ok: true, note: "", timings: missing.timings)
            if r.status == 404 || r.status == 410 {
                check.note = "\(r.status) as expected"
                if ProxyObservation.isHTML(r) || (r.contentType.map { !$0.lowercased().hasPrefix("text/plain") } ?? false) && !r.body.isEmpty {
                    check.ok = false
                    probe.problems.append(Finding(code: "error-not-plain-text", severity: .warning,
                                                  summary: "\(probe.url) sends its errors as \(r.contentType ?? "HTML"), not plain text",
                                                  detail: "The go command prints the error body to the user as it is: an HTML page or JSON makes the message unreadable.", fix: nil))
                }
            } else {
                check.ok = false
                check.note = "\(r.status), want 404 or 410"
                probe.problems.append(Finding(
                    code: r.status >= 500 ? "missing-gives-5xx" : "missing-not-404", severity: .error,
                    summary: "\(probe.url) answers \(r.status) for a module that does not exist, not 404 or 410",
                    detail: r.status >= 500
                        ? "After `,` the go command then stops at this proxy instead of trying the next entry (direct, another proxy): every module it lacks fails to download."
                        : "The go command treats the answer as the module's content and fails.",
                    fix: r.status >= 500 ? "use `|` after this proxy in GOPROXY until the proxy answers 404 for missing modules" : nil))
            }
            probe.checks.append(check)
        } else if let f = missing.failure {
            probe.checks.append(Check(name: "missing module", url: missing.url, ok: false, note: f.message, timings: missing.timings))
        }

        // 5. Does the proxy proxy the checksum database?
        if let name = sumdbName {
            let supported = await client.get(proxyURL + "/sumdb/" + name + "/supported")
            if let r = supported.response {
                var check = Check(name: "sumdb supported", url: supported.url, status: r.status, contentType: r.contentType, ok: true, note: "", timings: supported.timings)
                switch r.status {
                case 200: check.note = "proxies \(name)"
                case 404, 410: check.note = "\(r.status): the go command goes to \(name) directly"
                default:
                    check.ok = false
                    check.note = "\(r.status)"
                    probe.problems.append(Finding(code: "sumdb-supported-error", severity: .error,
                                                  summary: "\(probe.url) answers \(r.status) to /sumdb/\(name)/supported",
                                                  detail: "Anything but 200, 404 or 410 makes the go command treat the checksum database as unavailable: every new module fails verification.", fix: nil))
                }
                probe.checks.append(check)
            }
        }
        return probe
    }

    /// Probes a checksum database: its signed tree head must verify with its key.
    public static func checksumDatabase(_ setting: SumDBSetting, client: TimedHTTPClient) async -> EndpointProbe? {
        guard case .database(let key, let url) = setting else { return nil }
        var probe = EndpointProbe(url: url, kind: "checksum database", connection: PhaseTimings(), checks: [], problems: [])
        let latest = await client.get(url + "/latest")
        probe.connection = latest.timings
        probe.address = latest.address
        probe.tls = latest.tls
        if let failure = latest.failure {
            probe.failure = failure
            probe.problems.append(failureFinding(failure, url: url, tls: latest.tls))
            return probe
        }
        guard let r = latest.response else { return probe }
        var check = Check(name: "latest", url: latest.url, status: r.status, contentType: r.contentType, ok: false, note: "", timings: latest.timings)
        if r.status != 200 {
            check.note = "\(r.status)"
            probe.problems.append(statusFinding(r.status, what: "the signed tree head", url: url))
        } else {
            do {
                let note = try SignedNote.open(r.body, keys: [key])
                let size = note.text.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
                check.ok = true
                check.note = "signed by \(key.name), tree size \(size)"
            } catch {
                check.note = "signature does not verify: \(error.description)"
                probe.problems.append(Finding(code: "sumdb-bad-signature", severity: .error,
                                              summary: "\(url)/latest is not signed by \(key.name)",
                                              detail: "The go command refuses the database (\(error.description)): the URL or the key in GOSUMDB is wrong.", fix: nil))
            }
        }
        probe.checks.append(check)
        return probe
    }

    static func failureFinding(_ failure: ProbeFailure, url: String, tls: TLSReport?) -> Finding {
        switch failure.kind {
        case .tls:
            let caFix = tls?.problem == "self-signed" || tls?.problem == "unknown-authority"
            return Finding(code: "tls-\(tls?.problem ?? "failed")", severity: .error, summary: "\(url): \(failure.message)",
                           detail: caFix ? "The go command refuses this server. Give Go the CA certificate (GOINSECURE does not apply to proxies)." : "The go command refuses this server until its certificate is fixed.",
                           fix: caFix ? "export SSL_CERT_FILE=/path/to/ca-bundle.pem  # the system bundle plus this server's CA" : nil)
        case .timeout:
            return Finding(code: "timeout", severity: .error, summary: "\(url): \(failure.message)",
                           detail: "The go command waits as long for it on every download; after `,` a timeout stops the download instead of falling through.",
                           fix: "use `|` after this entry in GOPROXY so a slow proxy falls through")
        case .refused:
            return Finding(code: "refused", severity: .error, summary: "\(url): \(failure.message)", detail: "Nothing listens there: wrong port, or the service is down.", fix: nil)
        case .dns:
            return Finding(code: "dns", severity: .error, summary: "\(url): \(failure.message)", detail: "The host name does not resolve from this machine (typo, VPN, split DNS).", fix: nil)
        case .connect, .protocol:
            return Finding(code: failure.kind.rawValue, severity: .error, summary: "\(url): \(failure.message)", detail: "The go command cannot use this server.", fix: nil)
        }
    }

    static func statusFinding(_ status: Int, what: String, url: String) -> Finding {
        Finding(code: "status-\(status)", severity: .error, summary: "\(url) answers \(status) for \(what)",
                detail: status == 401 || status == 403 ? "The proxy wants credentials: the go command sends those of .netrc for its host." : "The go command fails with this status.",
                fix: status == 401 || status == 403 ? "printf 'machine \(ConfigurationChecks.hostOf(url)) login USER password TOKEN\\n' >> ~/.netrc" : nil)
    }
}

/// Reads `{"Version": …}` from a .info or @latest answer.
enum InfoJSON {
    static func version(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        return object["Version"] as? String
    }
}
