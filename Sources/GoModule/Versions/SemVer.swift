/// Semantic versions exactly as the go command reads them (golang.org/x/mod/semver).
///
/// Go's dialect differs from semver.org in ways that matter to a proxy: versions carry a
/// leading `v`, the shorthands `v1` and `v1.2` are valid (meaning `v1.0.0` and `v1.2.0`)
/// but may not carry a pre-release or build suffix, and build metadata is ignored when
/// comparing. Every function here accepts arbitrary strings and treats an invalid one as
/// smaller than every valid one, as the go command does, so callers never crash on input.
public enum SemVer {
    /// The parsed parts of a version string. Numbers stay as decimal strings because Go
    /// versions may have arbitrarily many digits (`v1.99999999999999999999.0` is valid).
    struct Parsed: Sendable {
        var major: String
        var minor: String
        var patch: String
        /// Set when the version was written as `vX` or `vX.Y`.
        var short: String
        /// Including the leading `-`, or empty.
        var prerelease: String
        /// Including the leading `+`, or empty.
        var build: String
    }

    /// Reports whether `v` is a valid semantic version in Go's dialect.
    public static func isValid(_ v: String) -> Bool {
        parse(v) != nil
    }

    /// The canonical form: `vMAJOR.MINOR.PATCH[-PRERELEASE]`, without build metadata.
    /// Returns the empty string for an invalid version, like Go.
    public static func canonical(_ v: String) -> String {
        guard let p = parse(v) else { return "" }
        if !p.build.isEmpty {
            // Build metadata is dropped; `+incompatible` is re-added by ModuleVersion.canonical.
            return String(decoding: v.utf8.prefix(v.utf8.count - p.build.utf8.count), as: UTF8.self)
        }
        if !p.short.isEmpty {
            return v + p.short
        }
        return v
    }

    /// `vMAJOR`, or the empty string for an invalid version.
    public static func major(_ v: String) -> String {
        guard let p = parse(v) else { return "" }
        return "v" + p.major
    }

    /// `vMAJOR.MINOR`, or the empty string for an invalid version.
    public static func majorMinor(_ v: String) -> String {
        guard let p = parse(v) else { return "" }
        return "v" + p.major + "." + p.minor
    }

    /// The pre-release suffix including its `-`, or the empty string.
    public static func prerelease(_ v: String) -> String {
        guard let p = parse(v) else { return "" }
        return p.prerelease
    }

    /// The build suffix including its `+`, or the empty string.
    public static func build(_ v: String) -> String {
        guard let p = parse(v) else { return "" }
        return p.build
    }

    /// Compares two versions: -1, 0 or +1. Invalid versions compare equal to each other
    /// and below every valid version; build metadata never affects the result.
    public static func compare(_ v: String, _ w: String) -> Int {
        let pv = parse(v)
        let pw = parse(w)
        switch (pv, pw) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case let (a?, b?):
            if let c = nonZero(compareInt(a.major, b.major)) { return c }
            if let c = nonZero(compareInt(a.minor, b.minor)) { return c }
            if let c = nonZero(compareInt(a.patch, b.patch)) { return c }
            return comparePrerelease(a.prerelease, b.prerelease)
        }
    }

    /// The larger of two versions; `v` when they are equal. An invalid `w` never wins.
    public static func max(_ v: String, _ w: String) -> String {
        if !isValid(v) && !isValid(w) { return "" }
        return compare(v, w) >= 0 ? v : w
    }

    /// Sorts in increasing version order, breaking ties (equal up to build metadata, or
    /// both invalid) by byte order, as `semver.Sort` does.
    public static func sort(_ list: inout [String]) {
        list.sort(by: less)
    }

    /// The ordering behind `sort`.
    public static func less(_ a: String, _ b: String) -> Bool {
        let c = compare(a, b)
        if c != 0 { return c < 0 }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    // MARK: - Parsing

    static func parse(_ v: String) -> Parsed? {
        let u = Array(v.utf8)
        guard u.first == UInt8(ascii: "v") else { return nil }
        var i = 1
        guard let major = number(u, &i) else { return nil }
        var short = ""
        var minor: Range<Int> = 0..<0
        var patch: Range<Int> = 0..<0
        func sub(_ r: Range<Int>) -> String { String(decoding: u[r], as: UTF8.self) }
        if i == u.count {
            return Parsed(major: sub(major), minor: "0", patch: "0", short: ".0.0", prerelease: "", build: "")
        }
        guard u[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        guard let mi = number(u, &i) else { return nil }
        minor = mi
        if i == u.count {
            return Parsed(major: sub(major), minor: sub(minor), patch: "0", short: ".0", prerelease: "", build: "")
        }
        guard u[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        guard let pa = number(u, &i) else { return nil }
        patch = pa
        short = ""
        var pre: Range<Int> = i..<i
        if i < u.count, u[i] == UInt8(ascii: "-") {
            guard let r = prereleaseRange(u, &i) else { return nil }
            pre = r
        }
        var build: Range<Int> = i..<i
        if i < u.count, u[i] == UInt8(ascii: "+") {
            guard let r = buildRange(u, &i) else { return nil }
            build = r
        }
        guard i == u.count else { return nil }
        return Parsed(major: sub(major), minor: sub(minor), patch: sub(patch), short: short,
                      prerelease: sub(pre), build: sub(build))
    }

    /// A decimal number without leading zeros (a lone `0` is fine).
    private static func number(_ u: [UInt8], _ i: inout Int) -> Range<Int>? {
        let start = i
        while i < u.count, isDigit(u[i]) { i += 1 }
        if i == start { return nil }
        if u[start] == UInt8(ascii: "0") && i - start > 1 { return nil }
        return start..<i
    }

    /// `-ident(.ident)*`: identifiers are non-empty `[0-9A-Za-z-]`, numeric ones without
    /// leading zeros.
    private static func prereleaseRange(_ u: [UInt8], _ i: inout Int) -> Range<Int>? {
        let start = i
        i += 1
        var identStart = i
        while i < u.count, u[i] != UInt8(ascii: "+") {
            let c = u[i]
            if c == UInt8(ascii: ".") {
                if !isGoodNumericIdent(u, identStart..<i) { return nil }
                identStart = i + 1
            } else if !isIdentChar(c) {
                return nil
            }
            i += 1
        }
        if !isGoodNumericIdent(u, identStart..<i) { return nil }
        return start..<i
    }

    /// `+ident(.ident)*`: identifiers are non-empty `[0-9A-Za-z-]`, leading zeros allowed.
    private static func buildRange(_ u: [UInt8], _ i: inout Int) -> Range<Int>? {
        let start = i
        i += 1
        var identStart = i
        while i < u.count {
            let c = u[i]
            if c == UInt8(ascii: ".") {
                if identStart == i { return nil }
                identStart = i + 1
            } else if !isIdentChar(c) {
                return nil
            }
            i += 1
        }
        if identStart == i { return nil }
        return start..<i
    }

    private static func isGoodNumericIdent(_ u: [UInt8], _ r: Range<Int>) -> Bool {
        if r.isEmpty { return false }
        let allDigits = r.allSatisfy { isDigit(u[$0]) }
        if allDigits && u[r.lowerBound] == UInt8(ascii: "0") && r.count > 1 { return false }
        return true
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private static func isIdentChar(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "-")
    }

    // MARK: - Comparison

    private static func nonZero(_ c: Int) -> Int? { c == 0 ? nil : c }

    /// Compares decimal strings without leading zeros: longer is larger, then byte order.
    private static func compareInt<S: StringProtocol>(_ x: S, _ y: S) -> Int {
        if x == y { return 0 }
        if x.utf8.count != y.utf8.count { return x.utf8.count < y.utf8.count ? -1 : 1 }
        return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1
    }

    /// semver.org's precedence rules: no pre-release beats any pre-release; identifiers
    /// compare numerically when both are numbers, numbers sort before words, and a
    /// shorter list of equal identifiers sorts first.
    private static func comparePrerelease(_ x: String, _ y: String) -> Int {
        if x == y { return 0 }
        if x.isEmpty { return 1 }
        if y.isEmpty { return -1 }
        let xs = x.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        let ys = y.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        for (a, b) in zip(xs, ys) where a != b {
            let an = a.utf8.allSatisfy(isDigit)
            let bn = b.utf8.allSatisfy(isDigit)
            if an != bn { return an ? -1 : 1 }
            if an { return compareInt(a, b) }
            return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
        }
        if xs.count == ys.count { return 0 }
        return xs.count < ys.count ? -1 : 1
    }
}
