/// A comma-separated list of module path prefix patterns, as in GOPRIVATE, GONOPROXY,
/// GONOSUMDB and GOINSECURE (go.dev/ref/mod#private-modules).
///
/// Each pattern is a `path.Match` glob matched against the same number of leading path
/// elements of a module path, so `github.com/corp` covers `github.com/corp/tool/v2`
/// and `*.corp.example.com` covers every repository on those hosts.
public struct ModulePathPatterns: Sendable, Equatable, CustomStringConvertible {
    /// The non-empty patterns, trailing slashes removed.
    public let patterns: [String]

    public init(_ list: String) {
        patterns = list.split(separator: ",", omittingEmptySubsequences: false)
            .map { p -> String in
                var s = String(p)
                while s.hasSuffix("/") { s.removeLast() }
                return s
            }
            .filter { !$0.isEmpty }
    }

    public var isEmpty: Bool { patterns.isEmpty }
    public var description: String { patterns.joined(separator: ",") }

    /// Reports whether any pattern matches a prefix of `target`.
    public func matches(_ target: String) -> Bool {
        firstMatch(target) != nil
    }

    /// The first pattern that matches a prefix of `target` (for explaining a decision).
    public func firstMatch(_ target: String) -> String? {
        for glob in patterns {
            let elements = glob.utf8.count(where: { $0 == UInt8(ascii: "/") }) + 1
            let parts = target.split(separator: "/", maxSplits: elements, omittingEmptySubsequences: false)
            guard parts.count >= elements else { continue }
            let prefix = parts.prefix(elements).joined(separator: "/")
            if (try? GlobPattern.match(glob, prefix)) == true { return glob }
        }
        return nil
    }
}
