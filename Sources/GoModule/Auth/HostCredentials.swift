import Foundation

/// A username and password (or token) for one host, used for git over HTTPS and for
/// `?go-get=1` discovery requests. Never logged: `description` hides the secret.
public struct HostCredential: Sendable, Equatable, CustomStringConvertible {
    /// `host` or `host:port`; a credential without a port serves every port.
    public var host: String
    public var username: String
    public var password: String

    public init(host: String, username: String, password: String) {
        self.host = host
        self.username = username
        self.password = password
    }

    public var description: String { "\(username)@\(host) (secret hidden)" }

    /// Whether it applies to a request to `host` (with or without a port).
    public func applies(to requestHost: String) -> Bool {
        let lower = requestHost.lowercased(), mine = host.lowercased()
        if lower == mine { return true }
        return !mine.contains(":") && Self.hostname(lower) == mine
    }

    static func hostname(_ hostPort: String) -> String {
        if hostPort.hasPrefix("["), let end = hostPort.firstIndex(of: "]") { return String(hostPort[hostPort.index(after: hostPort.startIndex)..<end]) }
        if hostPort.filter({ $0 == ":" }).count == 1, let colon = hostPort.firstIndex(of: ":") { return String(hostPort[..<colon]) }
        return hostPort
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    /// `HOST=USER:PASSWORD` or `HOST=TOKEN` (username `oauth2`, which GitLab and GitHub
    /// both accept with a personal access token).
    public static func parse(_ entry: String) throws(Malformed) -> HostCredential {
        guard let eq = entry.firstIndex(of: "=") else {
            throw Malformed(description: "want HOST=USER:PASSWORD or HOST=TOKEN")
        }
        let host = String(entry[..<eq]).trimmingCharacters(in: .whitespaces)
        let secret = String(entry[entry.index(after: eq)...])
        guard !host.isEmpty, !host.contains("/"), !secret.isEmpty else {
            throw Malformed(description: "want HOST=USER:PASSWORD or HOST=TOKEN")
        }
        guard !secret.contains(where: \.isNewline) else { throw Malformed(description: "a credential cannot contain a line break") }
        if let colon = secret.firstIndex(of: ":") {
            return HostCredential(host: host, username: String(secret[..<colon]), password: String(secret[secret.index(after: colon)...]))
        }
        return HostCredential(host: host, username: "oauth2", password: secret)
    }
}

/// A `.netrc` file read as the go command reads it: `machine`, `login` and `password`
/// tokens, `macdef` bodies skipped, and nothing after `default` (which the go command
/// ignores). The first entry for a machine wins.
public enum NetrcFile {
    /// `$NETRC`, else `~/.netrc`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let path = environment["NETRC"], !path.isEmpty { return path }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.netrc"
    }

    public static func read(_ path: String) -> [HostCredential] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return parse(text)
    }

    public static func parse(_ text: String) -> [HostCredential] {
        var out: [HostCredential] = []
        var machine: String?, login = "", password = ""
        func flush() {
            if let m = machine, !login.isEmpty || !password.isEmpty, !out.contains(where: { $0.host == m }) {
                out.append(HostCredential(host: m, username: login, password: password))
            }
            machine = nil
            login = ""
            password = ""
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var inMacro = false
        var tokens: [Substring] = []
        for line in lines {
            if inMacro {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { inMacro = false }
                continue
            }
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })[...]
            while let f = fields.first {
                fields = fields.dropFirst()
                if f == "macdef" {
                    inMacro = true
                    fields = []
                } else {
                    tokens.append(f)
                }
            }
        }
        var i = 0
        while i < tokens.count {
            let key = tokens[i]
            let value = i + 1 < tokens.count ? String(tokens[i + 1]) : ""
            switch key {
            case "default":
                flush()
                return out
            case "machine":
                flush()
                machine = value
                i += 2
            case "login":
                login = value
                i += 2
            case "password":
                password = value
                i += 2
            default:
                i += 1
            }
        }
        flush()
        return out
    }
}
