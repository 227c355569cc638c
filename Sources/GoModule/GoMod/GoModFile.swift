/// What a module proxy and its tools need to know from a go.mod file.
///
/// Warren parses go.mod to check that a `.mod` names the module it was requested for, to
/// report `// Deprecated:` notices and retractions, and (in doctor/bench) to read the
/// requirements of a project. Other directives are accepted and kept only as far as
/// these uses need.
public struct GoModFile: Sendable, Equatable {
    /// The module path from the `module` directive, unquoted.
    public var modulePath: String?
    /// The text after `Deprecated:` in the module directive's comments, if any.
    public var deprecated: String?
    /// The `go` directive's version (`1.21`, `1.22.3`, `1.23rc1`).
    public var goVersion: String?
    public var toolchain: String?
    public var requirements: [Requirement] = []
    public var excludes: [Requirement] = []
    public var retractions: [Retraction] = []
    public var replacements: [Replacement] = []

    /// A `replace` directive: `old [version] => new [version]`. Without a new version the
    /// replacement is a directory on disk (nothing to fetch).
    public struct Replacement: Sendable, Equatable {
        public var oldPath: String
        /// nil: every version of `oldPath`.
        public var oldVersion: String?
        public var newPath: String
        public var newVersion: String?

        public init(oldPath: String, oldVersion: String?, newPath: String, newVersion: String?) {
            self.oldPath = oldPath
            self.oldVersion = oldVersion
            self.newPath = newPath
            self.newVersion = newVersion
        }
    }

    /// Where `path@version` really comes from under this file's replacements (a
    /// version-specific one wins over a wildcard), or nil for a directory replacement.
    public func replaced(_ path: String, _ version: String) -> (path: String, version: String)? {
        let match = replacements.first { $0.oldPath == path && $0.oldVersion == version }
            ?? replacements.first { $0.oldPath == path && $0.oldVersion == nil }
        guard let match else { return (path, version) }
        guard let newVersion = match.newVersion else { return nil }
        return (match.newPath, newVersion)
    }

    public struct Requirement: Sendable, Equatable {
        public var path: String
        public var version: String
        /// Marked `// indirect`.
        public var indirect: Bool

        public init(path: String, version: String, indirect: Bool = false) {
            self.path = path
            self.version = version
            self.indirect = indirect
        }
    }

    /// A `retract` directive: one version (low == high) or an inclusive interval.
    public struct Retraction: Sendable, Equatable {
        public var low: String
        public var high: String
        /// The comment text above or beside the directive, one entry per comment line.
        public var rationale: String

        /// Reports whether `version` lies inside this retraction.
        public func contains(_ version: String) -> Bool {
            SemVer.compare(low, version) <= 0 && SemVer.compare(version, high) <= 0
        }
    }

    public init() {}

    /// Reports whether any `retract` directive covers `version`.
    public func isRetracted(_ version: String) -> Bool {
        retractions.contains { $0.contains(version) }
    }

    /// The go.mod the go command synthesizes for a module version that has none
    /// (`module <path>\n`), quoting the path when go.mod syntax requires it.
    public static func synthesized(modulePath: String) -> String {
        "module \(autoQuote(modulePath))\n"
    }

    /// Quotes `s` when it could not stand as a bare go.mod token (modfile.AutoQuote).
    public static func autoQuote(_ s: String) -> String {
        mustQuote(s) ? goQuoteForGoMod(s) : s
    }

    static func mustQuote(_ s: String) -> Bool {
        for scalar in s.unicodeScalars {
            switch scalar {
            case " ", "\"", "'", "`":
                return true
            case "(", ")", "[", "]", "{", "}", ",":
                if s.unicodeScalars.count > 1 { return true }
            default:
                if !GoQuote.isPrint(scalar) { return true }
            }
        }
        return s.isEmpty || s.contains("//") || s.contains("/*")
    }

    private static func goQuoteForGoMod(_ s: String) -> String { GoQuote.string(s) }
}

/// A go.mod syntax or directive error, positioned like the go command's
/// (`go.mod:3:8: unexpected newline in string`).
public struct GoModSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    /// 1-based rune column, or 0 when the error concerns a whole line.
    public let column: Int
    public let message: String

    public var description: String {
        column > 0 ? "\(file):\(line):\(column): \(message)" : "\(file):\(line): \(message)"
    }
}
