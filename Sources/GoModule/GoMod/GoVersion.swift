/// Go language versions as written in go.mod's `go` directive (`1.21`, `1.21.0`, `1.21rc1`).
///
/// Zip rules changed with `go 1.24` (vendor handling), so the zip code must compare the
/// language version of a module's go.mod the way the go command's go/version does.
public enum GoVersion {
    /// Reports whether `v` is acceptable in a `go` directive:
    /// `^([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?$`.
    public static func isValidGoDirective(_ v: String) -> Bool {
        parse(v) != nil
    }

    /// The language version: `1.21` for `1.21.3` or `1.21rc1`; nil for an invalid version.
    public static func language(_ v: String) -> String? {
        guard let p = parse(v) else { return nil }
        return "\(p.major).\(p.minor)"
    }

    /// Compares two go-directive versions by language version only (major, then minor);
    /// an invalid version sorts before every valid one.
    public static func compareLanguage(_ a: String, _ b: String) -> Int {
        switch (parse(a), parse(b)) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case let (x?, y?):
            if x.major != y.major { return x.major < y.major ? -1 : 1 }
            if x.minor != y.minor { return x.minor < y.minor ? -1 : 1 }
            return 0
        }
    }

    struct Parts { var major: Int; var minor: Int; var patch: Int? }

    static func parse(_ v: String) -> Parts? {
        let u = Array(v.utf8)
        var i = 0
        func number() -> Int? {
            let start = i
            while i < u.count, SemVer.isDigit(u[i]) { i += 1 }
            guard i > start, i - start <= 9 else { return nil }
            if u[start] == UInt8(ascii: "0") && i - start > 1 { return nil }
            return u[start..<i].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        guard let major = number(), major >= 1 else { return nil }
        guard i < u.count, u[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        guard let minor = number() else { return nil }
        var patch: Int?
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            guard let p = number() else { return nil }
            patch = p
        }
        if i < u.count {
            // Pre-release: lower-case letters then digits (rc1, beta2).
            let letters = i
            while i < u.count, u[i] >= 0x61 && u[i] <= 0x7A { i += 1 }
            guard i > letters else { return nil }
            let digits = i
            while i < u.count, SemVer.isDigit(u[i]) { i += 1 }
            guard i > digits, i == u.count else { return nil }
        }
        return Parts(major: major, minor: minor, patch: patch)
    }
}
