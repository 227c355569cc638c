/// The major-version suffix of a module path (`/v2`, or `.v2` for gopkg.in) and whether a
/// version fits it — semantic import versioning, go.dev/ref/mod#major-version-suffixes.
public enum ModulePathMajor {
    /// Splits `path` into the prefix and its major-version suffix (`"/v2"`, `".v1"`, or
    /// `""`). `ok` is false for a suffix the go command rejects, such as `/v1`, `/v0`, `/v2.1`.
    public static func split(_ path: String) -> (prefix: String, pathMajor: String, ok: Bool) {
        if path.hasPrefix("gopkg.in/") { return splitGopkgIn(path) }
        let u = Array(path.utf8)
        var i = u.count
        var dot = false
        while i > 0, SemVer.isDigit(u[i - 1]) || u[i - 1] == UInt8(ascii: ".") {
            if u[i - 1] == UInt8(ascii: ".") { dot = true }
            i -= 1
        }
        if i <= 1 || i == u.count || u[i - 1] != UInt8(ascii: "v") || u[i - 2] != UInt8(ascii: "/") {
            return (path, "", true)
        }
        let prefix = String(decoding: u[..<(i - 2)], as: UTF8.self)
        let major = String(decoding: u[(i - 2)...], as: UTF8.self)
        let m = Array(major.utf8)
        if dot || m.count <= 2 || m[2] == UInt8(ascii: "0") || major == "/v1" {
            return (path, "", false)
        }
        return (prefix, major, true)
    }

    private static func splitGopkgIn(_ path: String) -> (prefix: String, pathMajor: String, ok: Bool) {
        let u = Array(path.utf8)
        var i = u.count
        if path.hasSuffix("-unstable") { i -= "-unstable".utf8.count }
        while i > 0, SemVer.isDigit(u[i - 1]) { i -= 1 }
        if i <= 1 || u[i - 1] != UInt8(ascii: "v") || u[i - 2] != UInt8(ascii: ".") {
            return (path, "", false)
        }
        let prefix = String(decoding: u[..<(i - 2)], as: UTF8.self)
        let major = String(decoding: u[(i - 2)...], as: UTF8.self)
        let m = Array(major.utf8)
        if m.count <= 2 || (m[2] == UInt8(ascii: "0") && major != ".v0") {
            return (path, "", false)
        }
        return (prefix, major, true)
    }

    /// Checks that version `v` may be used with a module whose path ends in `pathMajor`.
    public static func check(version v: String, pathMajor: String) throws(InvalidVersionError) {
        var pathMajor = pathMajor
        if pathMajor.hasPrefix(".v") && pathMajor.hasSuffix("-unstable") {
            pathMajor.removeLast("-unstable".count)
        }
        // gopkg.in/yaml.v1 pseudo-versions start at v0.0.0.
        if v.hasPrefix("v0.0.0-") && pathMajor == ".v1" { return }
        let m = SemVer.major(v)
        let wanted: String
        if pathMajor.isEmpty {
            if m == "v0" || m == "v1" || SemVer.build(v) == "+incompatible" { return }
            wanted = "v0 or v1"
        } else {
            let bare = String(pathMajor.dropFirst())
            if m == bare { return }
            wanted = bare
        }
        throw InvalidVersionError(version: v, reason: "should be \(wanted), not \(m)")
    }

    public static func matches(version v: String, pathMajor: String) -> Bool {
        (try? check(version: v, pathMajor: pathMajor)) != nil
    }

    /// The major version a path suffix asks for (`"/v2"` → `"v2"`), or nil when the suffix
    /// is empty or malformed.
    public static func prefixVersion(_ pathMajor: String) -> String? {
        guard pathMajor.hasPrefix("/") || pathMajor.hasPrefix(".") else { return nil }
        var p = pathMajor
        if p.hasPrefix(".v") && p.hasSuffix("-unstable") { p.removeLast("-unstable".count) }
        let m = String(p.dropFirst())
        return m == SemVer.major(m) ? m : nil
    }
}
