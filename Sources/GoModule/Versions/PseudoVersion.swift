import Foundation

/// Pseudo-versions (go.dev/ref/mod#pseudo-versions): versions that name an untagged commit.
///
/// The three forms are
/// 1. `vX.0.0-yyyymmddhhmmss-abcdef123456` — no earlier tag with this major version;
/// 2. `vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456` — the latest earlier tag is `vX.Y.Z`;
/// 3. `vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456` — the latest earlier tag is `vX.Y.Z-pre`.
/// A proxy must never list them in `list`, and direct mode must build them byte for byte
/// as the go command does or go.sum lines will disagree.
public enum PseudoVersion {
    /// The 14-digit UTC timestamp layout used in pseudo-versions.
    public static let timestampFormat = "yyyyMMddHHmmss"

    /// Reports whether `v` has the shape of a pseudo-version.
    public static func isPseudoVersion(_ v: String) -> Bool {
        guard v.utf8.count(where: { $0 == UInt8(ascii: "-") }) >= 2, SemVer.isValid(v) else { return false }
        return matchesShape(v)
    }

    /// Reports whether `v` is the zero pseudo-version `vX.0.0-00010101000000-000000000000`.
    public static func isZeroPseudoVersion(_ v: String) -> Bool {
        v == zero(major: SemVer.major(v))
    }

    /// `vX.0.0-00010101000000-000000000000`, which sorts before every other version of `vX`.
    public static func zero(major: String) -> String {
        (major.isEmpty ? "v0" : major) + ".0.0-00010101000000-000000000000"
    }

    /// Builds the pseudo-version for revision `rev` (normally the 12-character commit
    /// prefix) committed at `time`, where `older` is the highest semver tag reachable from
    /// that commit (or empty) and `major` the module's major version (`v0`, `v2`, …).
    public static func make(major: String, older: String, time: Date, rev: String) -> String {
        let major = major.isEmpty ? "v0" : major
        let segment = timestamp(time) + "-" + rev
        let build = SemVer.build(older)
        let base = SemVer.canonical(older)
        if base.isEmpty {
            return major + ".0.0-" + segment
        }
        if !SemVer.prerelease(base).isEmpty {
            return base + ".0." + segment + build
        }
        let lastDot = base.lastIndex(of: ".").map { base.index(after: $0) } ?? base.endIndex
        return String(base[..<lastDot]) + incrementDecimal(String(base[lastDot...])) + "-0." + segment + build
    }

    /// The tag this pseudo-version was derived from (`v1.2.3` for `v1.2.4-0.…`), or ""
    /// for form 1. Throws for a malformed pseudo-version.
    public static func base(_ v: String) throws(InvalidVersionError) -> String {
        let p = try parse(v)
        switch SemVer.prerelease(p.base) {
        case "":
            if !p.build.isEmpty {
                throw InvalidVersionError(version: v, pseudo: true, reason: "lacks base version, but has build metadata \(GoQuote.string(p.build))")
            }
            return ""
        case "-0":
            let trimmed = String(p.base.dropLast(2))
            guard let dot = trimmed.lastIndex(of: ".") else {
                throw InvalidVersionError(version: v, pseudo: true, reason: "syntax error")
            }
            let patch = decrementDecimal(String(trimmed[trimmed.index(after: dot)...]))
            if patch.isEmpty {
                throw InvalidVersionError(version: v, pseudo: true, reason: "version before \(trimmed) would have negative patch number")
            }
            return String(trimmed[...dot]) + patch + p.build
        default:
            guard p.base.hasSuffix(".0") else {
                throw InvalidVersionError(version: v, pseudo: true, reason: "syntax error")
            }
            return String(p.base.dropLast(2)) + p.build
        }
    }

    /// The commit time encoded in the pseudo-version (UTC).
    public static func time(_ v: String) throws(InvalidVersionError) -> Date {
        let p = try parse(v)
        guard let date = parseTimestamp(p.timestamp) else {
            throw InvalidVersionError(version: v, pseudo: true, reason: "malformed time \(GoQuote.string(p.timestamp))")
        }
        return date
    }

    /// The revision identifier (commit hash prefix) at the end of the pseudo-version.
    public static func revision(_ v: String) throws(InvalidVersionError) -> String {
        try parse(v).rev
    }

    /// Checks a pseudo-version against what the repository says about its commit:
    /// the commit's full hash, its time, and the highest tag reachable from it (empty when
    /// none). This is the check the go command applies before accepting a pseudo-version
    /// that a user typed: the revision must be the canonical 12-character prefix, the
    /// timestamp must equal the commit time, and the base must be that tag.
    public static func validate(_ v: String, commitHash: String, commitTime: Date, baseTag: String) throws(InvalidVersionError) {
        let p = try parse(v)
        let rev = p.rev
        if rev.count != 12 {
            throw InvalidVersionError(version: v, pseudo: true, reason: "revision is \(rev.count < 12 ? "shorter" : "longer") than canonical (expected \(String(commitHash.prefix(12))))")
        }
        if !commitHash.hasPrefix(rev) {
            throw InvalidVersionError(version: v, pseudo: true, reason: "revision \(rev) does not match commit \(String(commitHash.prefix(12)))")
        }
        if p.timestamp != timestamp(commitTime) {
            throw InvalidVersionError(version: v, pseudo: true, reason: "does not match version-control timestamp (expected \(timestamp(commitTime)))")
        }
        let claimed = try base(v)
        let wantBase = SemVer.canonical(baseTag) + SemVer.build(baseTag)
        if baseTag.isEmpty {
            if !claimed.isEmpty {
                throw InvalidVersionError(version: v, pseudo: true, reason: "preceding tag (\(claimed)) not found")
            }
        } else if claimed != wantBase {
            let expected = make(major: SemVer.major(v), older: baseTag, time: commitTime, rev: rev)
            throw InvalidVersionError(version: v, pseudo: true, reason: "base version \(claimed.isEmpty ? "(none)" : claimed) does not match the latest tag \(baseTag) (expected \(expected))")
        }
    }

    // MARK: - Implementation

    struct Parts {
        var base: String
        var timestamp: String
        var rev: String
        var build: String
    }

    static func parse(_ v: String) throws(InvalidVersionError) -> Parts {
        guard isPseudoVersion(v) else {
            throw InvalidVersionError(version: v, pseudo: true, reason: "syntax error")
        }
        let build = SemVer.build(v)
        let noBuild = String(v.dropLast(build.count))
        guard let lastDash = noBuild.lastIndex(of: "-") else {
            throw InvalidVersionError(version: v, pseudo: true, reason: "syntax error")
        }
        let rev = String(noBuild[noBuild.index(after: lastDash)...])
        let rest = String(noBuild[..<lastDash])
        let dash = rest.lastIndex(of: "-")
        if let dot = rest.lastIndex(of: "."), dash.map({ dot > $0 }) ?? true {
            return Parts(base: String(rest[..<dot]), timestamp: String(rest[rest.index(after: dot)...]), rev: rev, build: build)
        }
        guard let dash else { throw InvalidVersionError(version: v, pseudo: true, reason: "syntax error") }
        return Parts(base: String(rest[..<dash]), timestamp: String(rest[rest.index(after: dash)...]), rev: rev, build: build)
    }

    /// The regular expression of x/mod, by hand:
    /// `^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`
    /// (the version is already known to be valid semver, which covers the build suffix).
    private static func matchesShape(_ v: String) -> Bool {
        let build = SemVer.build(v)
        let u = Array(v.utf8.dropLast(build.utf8.count))
        // Trailing `-[A-Za-z0-9]+`
        guard let revDash = u.lastIndex(of: UInt8(ascii: "-")), revDash + 1 < u.count else { return false }
        guard u[(revDash + 1)...].allSatisfy(isAlnum) else { return false }
        // Preceding `\d{14}`
        let tsStart = revDash - 14
        guard tsStart > 0, u[tsStart..<revDash].allSatisfy(SemVer.isDigit) else { return false }
        let head = u[..<tsStart]  // e.g. "v1.0.0-" or "v1.2.4-0." or "v1.2.3-pre.0."
        let s = String(decoding: head, as: UTF8.self)
        // `v[0-9]+\.` then either `0\.0-` or `\d+\.\d+-([^+]*\.)?0\.`
        guard s.hasPrefix("v") else { return false }
        var rest = s.dropFirst()
        let majorDigits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard !majorDigits.isEmpty else { return false }
        rest = rest.dropFirst(majorDigits.count)
        guard rest.first == "." else { return false }
        rest = rest.dropFirst()
        if rest == "0.0-" { return true }
        let minor = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard !minor.isEmpty else { return false }
        rest = rest.dropFirst(minor.count)
        guard rest.first == "." else { return false }
        rest = rest.dropFirst()
        let patch = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard !patch.isEmpty else { return false }
        rest = rest.dropFirst(patch.count)
        guard rest.first == "-" else { return false }
        rest = rest.dropFirst()
        // `([^+]*\.)?0\.`
        guard rest.hasSuffix("0.") else { return false }
        let middle = rest.dropLast(2)
        if middle.isEmpty { return true }
        return middle.hasSuffix(".") && !middle.contains("+")
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        SemVer.isDigit(c) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    static func timestamp(_ date: Date) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ n: Int?, _ w: Int) -> String {
            let s = String(n ?? 0)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2)
    }

    static func parseTimestamp(_ s: String) -> Date? {
        let u = Array(s.utf8)
        guard u.count == 14, u.allSatisfy(SemVer.isDigit) else { return nil }
        func num(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(u[$1] - 0x30) } }
        var c = DateComponents()
        c.year = num(0..<4); c.month = num(4..<6); c.day = num(6..<8)
        c.hour = num(8..<10); c.minute = num(10..<12); c.second = num(12..<14)
        guard let month = c.month, (1...12).contains(month), let day = c.day, (1...31).contains(day),
              let hour = c.hour, hour < 24, let minute = c.minute, minute < 60, let second = c.second, second < 60
        else { return nil }
        guard let date = utcCalendar.date(from: c) else { return nil }
        // Reject dates that roll over (February 30th) as Go's time.Parse does.
        return timestamp(date) == s ? date : nil
    }

    static let utcCalendar: Calendar = {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? cal.timeZone
        return cal
    }()

    static func incrementDecimal(_ d: String) -> String {
        var digits = Array(d.utf8)
        var i = digits.count - 1
        while i >= 0 && digits[i] == UInt8(ascii: "9") {
            digits[i] = UInt8(ascii: "0")
            i -= 1
        }
        if i >= 0 {
            digits[i] += 1
        } else {
            digits.insert(UInt8(ascii: "1"), at: 0)
        }
        return String(decoding: digits, as: UTF8.self)
    }

    static func decrementDecimal(_ d: String) -> String {
        var digits = Array(d.utf8)
        var i = digits.count - 1
        while i >= 0 && digits[i] == UInt8(ascii: "0") {
            digits[i] = UInt8(ascii: "9")
            i -= 1
        }
        if i < 0 { return "" }
        if i == 0 && digits[i] == UInt8(ascii: "1") && digits.count > 1 {
            digits.removeFirst()
        } else {
            digits[i] -= 1
        }
        return String(decoding: digits, as: UTF8.self)
    }
}
