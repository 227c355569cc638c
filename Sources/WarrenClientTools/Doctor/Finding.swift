/// One thing `warren doctor` found: what is wrong, why it matters, and the exact command
/// that fixes it. The code is stable, for scripts reading `--json`.
public struct Finding: Sendable, Codable, Equatable {
    public enum Severity: String, Sendable, Codable, Comparable {
        /// Worth knowing; nothing breaks.
        case info
        /// Works today, but is fragile, slow, or weakens verification.
        case warning
        /// Downloads fail, or modules go somewhere they must not.
        case error

        var rank: Int { self == .info ? 0 : self == .warning ? 1 : 2 }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public var code: String
    public var severity: Severity
    /// One line: what is wrong.
    public var summary: String
    /// Why it matters, in a sentence or two.
    public var detail: String
    /// The command (or edit) that fixes it.
    public var fix: String?

    public init(code: String, severity: Severity, summary: String, detail: String, fix: String? = nil) {
        self.code = code
        self.severity = severity
        self.summary = summary
        self.detail = detail
        self.fix = fix
    }
}

extension GoEnvironment {
    /// The command that sets `key` where it is currently set: `export` when the process
    /// environment sets it (`go env -w` cannot override that), else `go env -w`.
    public func setCommand(_ key: String, _ value: String) -> String {
        if source(key) == .environment {
            return "export \(key)=\(ShellQuote.quote(value))"
        }
        return "go env -w \(key)=\(ShellQuote.quote(value))"
    }

    /// The command that makes `key` take its default again.
    public func unsetCommand(_ key: String) -> String {
        var parts: [String] = []
        if let e = settings[key]?.environmentValue, !e.isEmpty { parts.append("unset \(key)") }
        if let f = settings[key]?.fileValue, !f.isEmpty { parts.append("go env -u \(key)") }
        return parts.isEmpty ? "unset \(key)" : parts.joined(separator: " && ")
    }
}

/// Quotes a value for a POSIX shell only when it needs it.
enum ShellQuote {
    static func quote(_ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy { s in
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || "-_./:,=@+%".unicodeScalars.contains(s)
        }
        if plain && !value.isEmpty { return value }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
