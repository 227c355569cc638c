/// The kind of path being checked; the rules differ slightly for each (see `PathRules`).
public enum PathKind: String, Sendable {
    case module
    case `import`
    case file
}

/// A module, import or file path that breaks the Go module rules.
/// Its text matches the go command's (`malformed module path "x": missing dot in first path element`).
public struct InvalidPathError: Error, Equatable, Sendable, CustomStringConvertible {
    public let kind: PathKind
    /// The offending path, already quoted Go-style so that invalid UTF-8 survives.
    public let quotedPath: String
    public let reason: String

    public var description: String { "malformed \(kind.rawValue) path \(quotedPath): \(reason)" }
}

/// A version string that is malformed or does not fit its module path.
public struct InvalidVersionError: Error, Equatable, Sendable, CustomStringConvertible {
    public let version: String
    public let pseudo: Bool
    public let reason: String

    public init(version: String, pseudo: Bool = false, reason: String) {
        self.version = version
        self.pseudo = pseudo
        self.reason = reason
    }

    var noun: String { pseudo ? "pseudo-version" : "version" }
    public var description: String { "\(noun) \(GoQuote.string(version)) invalid: \(reason)" }
}

/// An error about one module (and possibly one version of it), worded like the go command's.
public struct ModuleError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let version: String
    public let underlying: any Error & Sendable

    public init(path: String, version: String = "", underlying: any Error & Sendable) {
        self.path = path
        self.version = version
        self.underlying = underlying
    }

    public var description: String {
        if let v = underlying as? InvalidVersionError {
            return "\(path)@\(v.version): invalid \(v.noun): \(v.reason)"
        }
        if !version.isEmpty {
            return "\(path)@\(version): \(underlying)"
        }
        return "module \(path): \(underlying)"
    }
}
