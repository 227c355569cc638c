import Foundation
import GoModule

/// The misconfigurations `warren doctor` knows, each found from the environment alone
/// or together with one quick request to each proxy, and each with its fix.
public enum ConfigurationChecks {
    /// Public proxies and databases: private module paths must never reach them.
    static let publicHosts = [
        "proxy.golang.org", "goproxy.cn", "goproxy.io", "proxy.golang.com.cn", "mirrors.aliyun.com",
        "goproxy.baidu.com", "mirrors.tencent.com", "sum.golang.org", "sum.golang.google.cn",
    ]

    public static func run(_ env: GoEnvironment, observations: [String: ProxyObservation] = [:]) -> [Finding] {
        var findings: [Finding] = []
        findings += goCommandChecks(env)
        findings += proxyListChecks(env, observations: observations)
        findings += patternChecks(env)
        findings += privacyChecks(env)
        findings += sumdbChecks(env)
        findings += insecureChecks(env, observations: observations)
        findings += environmentSourceChecks(env)
        // Values are quoted back to the user: a password in a proxy URL must not be.
        return findings.map(redacted).sorted { $0.severity > $1.severity }
    }

    static func redacted(_ f: Finding) -> Finding {
        var copy = f
        copy.summary = redactURLs(f.summary)
        copy.detail = redactURLs(f.detail)
        copy.fix = f.fix.map(redactURLs)
        return copy
    }

    /// Replaces the password of every `scheme://user:password@` in a text.
    static func redactURLs(_ text: String) -> String {
        guard let regex = try? NSRegularExpression(pattern: "([A-Za-z][A-Za-z0-9+.-]*://[^:@/\\s'|,]+):[^@/\\s'|,]+@") else { return text }
        return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1:xxxxx@")
    }

    // MARK: - The go command itself

    static func goCommandChecks(_ env: GoEnvironment) -> [Finding] {
        var out: [Finding] = []
        if let error = env.goEnvError {
            out.append(Finding(
                code: "go-env-failed", severity: .error, summary: "`go env -json` fails: \(error)",
                detail: "The go command cannot even report its settings; the values below were read without it.", fix: nil))
        }
        // `go env` itself tolerates it, but every building or downloading command stops.
        let words = env.goflags.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if let bad = words.first(where: { !$0.hasPrefix("-") }) {
            out.append(Finding(
                code: "goflags-invalid", severity: .error,
                summary: "GOFLAGS contains \(bad), which is not a flag",
                detail: "Every go command that downloads or builds stops with: go: parsing $GOFLAGS: non-flag \"\(bad)\"",
                fix: env.setCommand("GOFLAGS", words.map { $0.hasPrefix("-") ? String($0) : "-" + $0 }.joined(separator: " "))))
        }
        if env.value("GO111MODULE") == "off" {
            out.append(Finding(
                code: "modules-off", severity: .error, summary: "GO111MODULE=off: module mode is disabled",
                detail: "The go command ignores go.mod, GOPROXY and the checksum database and uses GOPATH.",
                fix: env.unsetCommand("GO111MODULE")))
        }
        let flags = env.goflags.split(separator: " ")
        if flags.contains("-mod=vendor") {
            out.append(Finding(
                code: "goflags-vendor", severity: .info, summary: "GOFLAGS has -mod=vendor: modules come from vendor/, never from a proxy",
                detail: "With -mod=vendor the go command does not look modules up at all, so GOPROXY does not matter for builds.",
                fix: nil))
        }
        return out
    }

    // MARK: - GOPROXY

    static func proxyListChecks(_ env: GoEnvironment, observations: [String: ProxyObservation]) -> [Finding] {
        var out: [Finding] = []
        let chain = ProxyChain(env.goproxy)
        if chain.items.isEmpty {
            out.append(Finding(
                code: "proxy-empty", severity: .error, summary: "GOPROXY (\(ShellQuote.quote(env.goproxy))) contains no entries",
                detail: "The go command stops with \"GOPROXY list is not the empty string, but contains no entries\".",
                fix: env.unsetCommand("GOPROXY")))
            return out
        }
        for item in chain.items where item.kind == .invalid {
            var fixed = chain.items
            if let i = fixed.firstIndex(of: item) {
                if let repaired = repairedURL(item.raw) {
                    fixed[i].raw = repaired
                } else {
                    fixed.remove(at: i)
                }
            }
            out.append(Finding(
                code: "proxy-bad-url", severity: .error, summary: "GOPROXY entry \(item.raw) is rejected: \(item.error ?? "invalid")",
                detail: "The go command accepts https://, http:// and file:// URLs, a bare host (https:// is implied), direct and off; one bad entry fails every download.",
                fix: env.setCommand("GOPROXY", ProxyChain.render(fixed))))
        }
        let ignored = chain.items.filter(\.ignored)
        if !ignored.isEmpty, let stop = chain.active.last {
            let reordered = chain.items.filter { !$0.ignored && $0.kind != .direct && $0.kind != .off }
                + ignored.filter { $0.kind == .proxy }
                + (stop.kind == .direct ? [stop] : [])
            out.append(Finding(
                code: "proxy-unreachable-entries", severity: .error,
                summary: "GOPROXY lists \(ignored.map(\.raw).joined(separator: ", ")) after \(stop.raw); the go command never uses \(ignored.count == 1 ? "it" : "them")",
                detail: "direct and off end the list: everything after them is ignored.",
                fix: env.setCommand("GOPROXY", ProxyChain.render(reordered))))
        }
        let active = chain.active
        if active.count == 1, active[0].kind == .off {
            out.append(Finding(
                code: "proxy-off", severity: .warning, summary: "GOPROXY=off: the go command downloads nothing",
                detail: "Only modules already in the module cache (or matched by GONOPROXY, fetched directly) can be used.",
                fix: env.unsetCommand("GOPROXY")))
        } else if active.count == 1, active[0].kind == .direct {
            out.append(Finding(
                code: "proxy-direct-only", severity: .info, summary: "GOPROXY=direct: every module is fetched from version control",
                detail: "Nothing is cached between machines, downloads are slow, and a deleted repository breaks the build.",
                fix: env.setCommand("GOPROXY", "https://proxy.golang.org,direct")))
        }
        for (index, item) in active.enumerated() where item.kind == .proxy {
            guard let url = item.url else { continue }
            let host = hostOf(url)
            if url.hasPrefix("http://") && !isLoopback(host) {
                out.append(Finding(
                    code: "proxy-plain-http", severity: .warning, summary: "\(ProxyList.redact(url)) is plain http",
                    detail: "Module contents and any credentials travel unencrypted; only the checksum database stands between a network attacker and your build.",
                    fix: env.setCommand("GOPROXY", ProxyChain.render(active.map { $0 == item ? withRaw($0, "https://" + url.dropFirst(7)) : $0 }))))
            }
            if url.contains("@"), hostPart(url).contains("@") {
                out.append(Finding(
                    code: "proxy-credentials-in-url", severity: .warning, summary: "the GOPROXY URL for \(host) carries credentials",
                    detail: "`go env` prints them and error messages may too. The go command reads credentials from .netrc.",
                    fix: "printf 'machine \(host) login USER password TOKEN\\n' >> ~/.netrc && chmod 600 ~/.netrc, then drop USER:TOKEN@ from GOPROXY"))
            }
            guard let seen = observations[url] else { continue }
            out += observationFindings(env, chain: active, index: index, item: item, seen: seen)
        }
        return out
    }

    static func observationFindings(_ env: GoEnvironment, chain: [ProxyChain.Item], index: Int, item: ProxyChain.Item, seen: ProxyObservation) -> [Finding] {
        var out: [Finding] = []
        let url = item.url ?? item.raw
        let name = ProxyList.redact(url)
        let hasNext = index < chain.count - 1
        if let failure = seen.failure {
            if failure.kind == .tls, let tls = seen.tls {
                out.append(Finding(
                    code: "proxy-certificate", severity: .error, summary: "\(name): \(tls.problemDetail ?? failure.message)",
                    detail: tls.problem == "self-signed" || tls.problem == "unknown-authority"
                        ? "The go command rejects this certificate. GOINSECURE does not apply to proxies; give Go the CA that signed it instead."
                        : "The go command rejects this certificate; the server's certificate must be fixed (GOINSECURE does not apply to proxies).",
                    fix: tls.problem == "self-signed" || tls.problem == "unknown-authority"
                        ? "export SSL_CERT_FILE=/path/to/ca-bundle.pem  # the system bundle plus the CA of \(hostOf(url))"
                        : nil))
            } else if hasNext && !item.fallBackOnErrorFlag {
                var fixed = chain
                fixed[index].separator = "|"
                out.append(Finding(
                    code: "proxy-comma-stops", severity: .error,
                    summary: "\(name) fails (\(failure.message)), and the `,` after it stops the go command there",
                    detail: "After `,` the go command moves on only when a proxy answers 404 or 410; a timeout, refused connection or 5xx ends the download with an error. `|` falls through on any error.",
                    fix: env.setCommand("GOPROXY", ProxyChain.render(fixed))))
            } else {
                out.append(Finding(
                    code: "proxy-unreachable", severity: hasNext ? .warning : .error, summary: "\(name) cannot be reached: \(failure.message)",
                    detail: hasNext ? "The go command falls through to the next entry, after waiting for this one on every download." : "It is the last entry: downloads fail.",
                    fix: nil))
            }
            return out
        }
        guard let status = seen.status else { return out }
        if status == 200 && seen.looksLikeHTML {
            out.append(Finding(
                code: "proxy-answers-html", severity: .error, summary: "\(name) answers 200 with an HTML page, not the GOPROXY protocol",
                detail: "The URL is probably a web UI or a login page, or lacks the path under which the proxy serves (Artifactory and Nexus put it under /api/go/… or /repository/…). The go command fails with \"invalid version\" or \"unexpected content\" errors.",
                fix: env.setCommand("GOPROXY", ProxyChain.render(chain.map { $0 == item ? withRaw($0, "https://PROXY-HOST/PATH-OF-THE-GO-REPOSITORY") : $0 }))))
        } else if status == 401 || status == 403 {
            out.append(Finding(
                code: "proxy-needs-credentials", severity: .error,
                summary: "\(name) answers \(status): it wants credentials\(seen.netrcEntry ? ", and the .netrc entry for \(hostOf(url)) is not accepted" : "")",
                detail: "The go command sends the .netrc credentials for the proxy's host; without an accepted entry every download fails.",
                fix: "printf 'machine \(hostOf(url)) login USER password TOKEN\\n' >> ~/.netrc && chmod 600 ~/.netrc"))
        } else if status >= 500 && hasNext && !item.fallBackOnErrorFlag {
            var fixed = chain
            fixed[index].separator = "|"
            out.append(Finding(
                code: "proxy-comma-stops", severity: .error,
                summary: "\(name) answers \(status), and the `,` after it stops the go command there",
                detail: "After `,` only 404 and 410 fall through; a 5xx ends the download with an error. `|` falls through on any error.",
                fix: env.setCommand("GOPROXY", ProxyChain.render(fixed))))
        } else if status >= 500 {
            out.append(Finding(
                code: "proxy-server-error", severity: hasNext ? .warning : .error, summary: "\(name) answers \(status)",
                detail: hasNext ? "The go command falls through to the next entry, after asking this one on every download." : "It is the last entry: downloads fail.",
                fix: nil))
        }
        return out
    }

    static func withRaw(_ item: ProxyChain.Item, _ raw: String) -> ProxyChain.Item {
        var copy = item
        copy.raw = raw
        return copy
    }

    /// `ftp://host/x` → `https://host/x`; nil when there is no host to keep.
    static func repairedURL(_ raw: String) -> String? {
        guard let range = raw.range(of: "://") else { return nil }
        let rest = raw[range.upperBound...]
        return rest.isEmpty ? nil : "https://" + rest
    }

    // MARK: - Pattern lists

    static let patternVariables = ["GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOINSECURE"]

    static func patternChecks(_ env: GoEnvironment) -> [Finding] {
        var out: [Finding] = []
        for key in patternVariables where env.source(key) != .derived {
            let patterns = ModulePathPatterns(env.value(key)).patterns
            for pattern in patterns {
                if let reason = PatternAnalysis.neverMatches(pattern) {
                    let fixed = patterns.map { $0 == pattern ? strippedPattern($0) : $0 }.filter { !$0.isEmpty }
                    out.append(Finding(
                        code: "pattern-never-matches", severity: .warning, summary: "\(key) pattern \(pattern) never matches: \(reason)",
                        detail: "Modules you meant it for are treated as public.",
                        fix: env.setCommand(key, fixed.joined(separator: ","))))
                }
            }
            for (redundant, by) in PatternAnalysis.shadowed(in: patterns) {
                var kept = patterns
                if let i = kept.lastIndex(of: redundant) { kept.remove(at: i) }
                out.append(Finding(
                    code: "pattern-shadowed", severity: .info, summary: "\(key) pattern \(redundant) is already covered by \(by)",
                    detail: "Patterns match path prefixes, so the shorter pattern covers every module of the longer one.",
                    fix: env.setCommand(key, kept.joined(separator: ","))))
            }
            if (key == "GONOSUMDB" || key == "GOPRIVATE") && patterns.contains(where: { PatternAnalysis.covers($0, "*") && !$0.contains("/") }) {
                out.append(Finding(
                    code: "pattern-matches-everything", severity: .warning, summary: "\(key) contains a pattern that matches every module",
                    detail: key == "GOPRIVATE" ? "No module is fetched through a proxy or verified against the checksum database." : "No module is verified against the checksum database.",
                    fix: env.setCommand(key, patterns.filter { !(PatternAnalysis.covers($0, "*") && !$0.contains("/")) }.joined(separator: ","))))
            }
        }
        return out
    }

    /// A pattern with its scheme and version removed.
    static func strippedPattern(_ p: String) -> String {
        var s = p
        if let r = s.range(of: "://") { s = String(s[r.upperBound...]) }
        if let at = s.firstIndex(of: "@") { s = String(s[..<at]) }
        while s.hasSuffix("/") { s.removeLast() }
        return PatternAnalysis.neverMatches(s) == nil ? s : ""
    }

    // MARK: - Private modules leaking to public services

    static func privacyChecks(_ env: GoEnvironment) -> [Finding] {
        var out: [Finding] = []
        let privatePatterns = ModulePathPatterns(env.goprivate).patterns
        let noproxy = ModulePathPatterns(env.gonoproxy).patterns
        let nosumdb = ModulePathPatterns(env.gonosumdb).patterns
        let chain = ProxyChain(env.goproxy).active
        let firstProxy = chain.first { $0.kind == .proxy }
        let sumdbOn = env.gosumdb != "off"
        // Only the patterns no other GOPRIVATE pattern already covers.
        let essential = privatePatterns.filter { p in !PatternAnalysis.shadowed(in: privatePatterns).contains { $0.redundant == p } }
        if env.source("GONOPROXY") != .derived, let proxy = firstProxy, let url = proxy.url {
            let uncovered = essential.filter { PatternAnalysis.covered($0, by: noproxy) == nil }
            if !uncovered.isEmpty {
                let isPublic = publicHosts.contains(hostOf(url))
                out.append(Finding(
                    code: "private-through-proxy", severity: isPublic ? .error : .warning,
                    summary: "private modules \(uncovered.joined(separator: ", ")) go to \(ProxyList.redact(url)): GONOPROXY (\(env.gonoproxy)) replaces GOPRIVATE and does not cover them",
                    detail: isPublic
                        ? "Their paths are sent to a public proxy, which cannot fetch them: downloads fail with 404/410, and the names leak."
                        : "That is right only if \(hostOf(url)) is your own proxy and is meant to serve them.",
                    fix: env.setCommand("GONOPROXY", (noproxy + uncovered).joined(separator: ","))))
            }
        }
        if sumdbOn && env.source("GONOSUMDB") != .derived {
            let uncovered = essential.filter { PatternAnalysis.covered($0, by: nosumdb) == nil }
            if !uncovered.isEmpty {
                out.append(Finding(
                    code: "private-to-sumdb", severity: .error,
                    summary: "private modules \(uncovered.joined(separator: ", ")) are looked up in \(sumdbName(env)): GONOSUMDB (\(env.gonosumdb)) replaces GOPRIVATE and does not cover them",
                    detail: "The checksum database cannot know private modules: downloads fail with \"verifying module: … 404 Not Found\", and their paths are disclosed.",
                    fix: env.setCommand("GONOSUMDB", (nosumdb + uncovered).joined(separator: ","))))
            }
        }
        if sumdbOn {
            // Modules fetched directly from a private host but still verified publicly.
            for p in noproxy where PatternAnalysis.covered(p, by: nosumdb) == nil && PatternAnalysis.covered(p, by: privatePatterns) == nil {
                out.append(Finding(
                    code: "noproxy-not-nosumdb", severity: .warning,
                    summary: "GONOPROXY pattern \(p) is fetched directly but still checked against \(sumdbName(env))",
                    detail: "If these modules are private the checksum lookup fails; GOPRIVATE sets both GONOPROXY and GONOSUMDB.",
                    fix: env.setCommand("GOPRIVATE", (privatePatterns + [p]).joined(separator: ","))))
            }
        }
        return out
    }

    // MARK: - Checksum database

    static func sumdbChecks(_ env: GoEnvironment) -> [Finding] {
        var out: [Finding] = []
        if env.gosumdb == "off" {
            out.append(Finding(
                code: "sumdb-off", severity: .warning, summary: "GOSUMDB=off: no module is checked against a checksum database",
                detail: "A proxy (or anyone between you and it) can serve altered code for any module not yet in go.sum. For private modules set GOPRIVATE (or GONOSUMDB) instead.",
                fix: env.unsetCommand("GOSUMDB") + (env.goprivate.isEmpty ? " && go env -w GOPRIVATE='your.private.host'" : "")))
        } else {
            do {
                _ = try SumDBSetting(env.gosumdb)
            } catch {
                out.append(Finding(
                    code: "sumdb-invalid", severity: .error, summary: "GOSUMDB=\(env.gosumdb) is invalid: \(error.description)",
                    detail: "Every download of a module not in go.sum fails with \"invalid GOSUMDB\".",
                    fix: env.unsetCommand("GOSUMDB")))
            }
        }
        return out
    }

    static func sumdbName(_ env: GoEnvironment) -> String {
        env.gosumdb.split(separator: " ").first.map { String($0.split(separator: "+").first ?? $0) } ?? "the checksum database"
    }

    // MARK: - GOINSECURE

    static func insecureChecks(_ env: GoEnvironment, observations: [String: ProxyObservation]) -> [Finding] {
        var out: [Finding] = []
        let insecure = ModulePathPatterns(env.goinsecure).patterns
        guard !insecure.isEmpty else { return out }
        let proxies = ProxyChain(env.goproxy).httpProxies.compactMap(\.url)
        var explained = false
        for url in proxies {
            let host = hostOf(url)
            guard insecure.contains(where: { PatternAnalysis.covers($0, host) || $0 == host }) else { continue }
            explained = true
            let tls = observations[url]?.tls
            out.append(Finding(
                code: "goinsecure-proxy", severity: .warning,
                summary: "GOINSECURE covers \(host), but GOINSECURE never applies to proxies",
                detail: (tls.flatMap(\.problemDetail).map { "The proxy's \($0); " } ?? "")
                    + "the go command verifies a proxy's certificate regardless. Trust its CA instead, and drop the GOINSECURE entry.",
                fix: "export SSL_CERT_FILE=/path/to/ca-bundle.pem && " + env.setCommand("GOINSECURE", insecure.filter { !(PatternAnalysis.covers($0, host) || $0 == host) }.joined(separator: ","))))
        }
        if !explained {
            out.append(Finding(
                code: "goinsecure-set", severity: .warning,
                summary: "GOINSECURE=\(env.goinsecure) turns off certificate checks for direct fetches of those modules",
                detail: "If the reason is a certificate from your own CA, trust the CA instead: the go command reads SSL_CERT_FILE and SSL_CERT_DIR. GOINSECURE also allows plain http, open to tampering.",
                fix: "export SSL_CERT_FILE=/path/to/ca-bundle.pem && " + env.unsetCommand("GOINSECURE")))
        }
        return out
    }

    // MARK: - Shell environment versus `go env -w`

    static let sharedVariables = ["GOPROXY", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOFLAGS"]

    static func environmentSourceChecks(_ env: GoEnvironment) -> [Finding] {
        var out: [Finding] = []
        var shellOnly: [(String, String)] = []
        for key in sharedVariables {
            guard let s = env.settings[key] else { continue }
            let shell = s.environmentValue ?? "", file = s.fileValue ?? ""
            if !shell.isEmpty && !file.isEmpty && shell != file {
                out.append(Finding(
                    code: "env-overrides-file", severity: .warning,
                    summary: "\(key) is \(shell) in your environment, overriding \(file) from `go env -w`",
                    detail: "Programs that do not start from this shell (IDEs, cron, services, CI) use \(file); this shell uses \(shell).",
                    fix: "unset \(key)  # or: go env -w \(key)=\(ShellQuote.quote(shell))"))
            } else if !shell.isEmpty && file.isEmpty && !(key == "GOSUMDB" && shell == "off") {
                shellOnly.append((key, shell))
            } else if shell.isEmpty && !file.isEmpty && env.processEnvironment["CI"] != nil {
                out.append(Finding(
                    code: "file-only-in-ci", severity: .warning,
                    summary: "\(key)=\(file) comes from a `go env -w` file in a CI job",
                    detail: "Fresh CI runners and containers do not have that file; export the variable in the job instead.",
                    fix: "export \(key)=\(ShellQuote.quote(file))  # in the CI job's environment"))
            }
        }
        if !shellOnly.isEmpty {
            out.append(Finding(
                code: "env-only", severity: .info,
                summary: "\(shellOnly.map(\.0).joined(separator: ", ")) \(shellOnly.count == 1 ? "is" : "are") set only in this shell's environment, not with `go env -w`",
                detail: "IDEs, other terminals and CI jobs do not see \(shellOnly.count == 1 ? "it" : "them") unless they set \(shellOnly.count == 1 ? "it" : "them") too.",
                fix: "go env -w " + shellOnly.map { "\($0.0)=\(ShellQuote.quote($0.1))" }.joined(separator: " ")))
        }
        return out
    }

    // MARK: - URL pieces

    static func hostPart(_ url: String) -> Substring {
        guard let r = url.range(of: "://") else { return "" }
        let rest = url[r.upperBound...]
        return rest.prefix { $0 != "/" }
    }

    /// The host of a URL, without credentials or port.
    public static func hostOf(_ url: String) -> String {
        var authority = hostPart(url)
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") { return String(authority[authority.index(after: authority.startIndex)..<end]) }
        if let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
        return String(authority).lowercased()
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }
}

extension ProxyChain.Item {
    var fallBackOnErrorFlag: Bool { separator == "|" }
}
