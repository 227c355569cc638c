/// Case-encoding of module paths and versions for proxy URLs and file names
/// (go.dev/ref/mod#goproxy-protocol): every upper-case letter becomes `!` plus its
/// lower-case form, so that case-insensitive file systems and caches never merge
/// `github.com/Azure` with `github.com/azure`.
public enum PathEscaping {
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Encodes a module path after validating it.
    public static func escapePath(_ path: String) throws(InvalidPathError) -> String {
        try PathRules.checkModulePath(path)
        return escape(path)
    }

    /// Encodes a version; versions may not contain `!` nor be invalid path elements.
    public static func escapeVersion(_ v: String) throws(InvalidVersionError) -> String {
        if PathRules.elementProblem(v, kind: .file) != nil || v.contains("!") {
            throw InvalidVersionError(version: v, reason: "disallowed version string")
        }
        return escape(v)
    }

    /// Decodes and validates an escaped module path. Rejects every encoding that the go
    /// command would not have produced: an upper-case letter, `!` before anything but a
    /// lower-case ASCII letter, a trailing `!`, non-ASCII bytes.
    public static func unescapePath(_ escaped: String) throws(Error) -> String {
        guard let path = unescape(escaped) else {
            throw Error(description: "invalid escaped module path \(GoQuote.string(escaped))")
        }
        do {
            try PathRules.checkModulePath(path)
        } catch {
            throw Error(description: "invalid escaped module path \(GoQuote.string(escaped)): \(error.reason)")
        }
        return path
    }

    /// Decodes and validates an escaped version.
    public static func unescapeVersion(_ escaped: String) throws(Error) -> String {
        guard let v = unescape(escaped) else {
            throw Error(description: "invalid escaped version \(GoQuote.string(escaped))")
        }
        if let problem = PathRules.elementProblem(v, kind: .file) {
            throw Error(description: "invalid escaped version \(GoQuote.string(v)): \(problem)")
        }
        return v
    }

    static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 4)
        for b in s.utf8 {
            if b >= 0x41 && b <= 0x5A {
                out.append(UInt8(ascii: "!"))
                out.append(b + 32)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unescape(_ escaped: String) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(escaped.utf8.count)
        var bang = false
        for b in escaped.utf8 {
            if b >= 0x80 { return nil }
            if bang {
                bang = false
                guard b >= 0x61 && b <= 0x7A else { return nil }
                out.append(b - 32)
                continue
            }
            if b == UInt8(ascii: "!") {
                bang = true
                continue
            }
            if b >= 0x41 && b <= 0x5A { return nil }
            out.append(b)
        }
        if bang { return nil }
        return String(decoding: out, as: UTF8.self)
    }
}
