/// Shell-style patterns over slash-separated names, with the semantics of Go's
/// `path.Match`: `*` and `?` never match `/`, `[...]` classes with ranges and `^`
/// negation, and `\` escapes.
public enum GlobPattern {
    public struct BadPattern: Error, Equatable, Sendable {}

    /// Reports whether `name` matches `pattern` in full; throws for a malformed pattern.
    public static func match(_ pattern: String, _ name: String) throws(BadPattern) -> Bool {
        let p = Array(pattern.unicodeScalars)
        let n = Array(name.unicodeScalars)
        // Validate the whole pattern first, as Go reports ErrBadPattern even when an
        // earlier part already fails to match.
        try validate(p)
        return matchHere(p, 0, n, 0)
    }

    private static func matchHere(_ p: [Unicode.Scalar], _ pi: Int, _ n: [Unicode.Scalar], _ ni: Int) -> Bool {
        var pi = pi, ni = ni
        while pi < p.count {
            switch p[pi] {
            case "*":
                var rest = pi
                while rest < p.count && p[rest] == "*" { rest += 1 }
                if rest == p.count { return !n[ni...].contains("/") }
                var k = ni
                while true {
                    if matchHere(p, rest, n, k) { return true }
                    if k >= n.count || n[k] == "/" { return false }
                    k += 1
                }
            case "?":
                guard ni < n.count, n[ni] != "/" else { return false }
                pi += 1; ni += 1
            case "[":
                guard ni < n.count, n[ni] != "/" else { return false }
                guard let (matched, next) = matchClass(p, pi, n[ni]) else { return false }
                if !matched { return false }
                pi = next; ni += 1
            case "\\":
                guard pi + 1 < p.count, ni < n.count, p[pi + 1] == n[ni] else { return false }
                pi += 2; ni += 1
            default:
                guard ni < n.count, p[pi] == n[ni] else { return false }
                pi += 1; ni += 1
            }
        }
        return ni == n.count
    }

    /// Matches one scalar against the class starting at `p[start] == "["`; returns the
    /// verdict and the index after `]`, or nil for a malformed class.
    private static func matchClass(_ p: [Unicode.Scalar], _ start: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
        var i = start + 1
        var negated = false
        if i < p.count && p[i] == "^" { negated = true; i += 1 }
        var matched = false
        var first = true
        while true {
            guard i < p.count else { return nil }
            if p[i] == "]" && !first { i += 1; break }
            first = false
            guard let (lo, afterLo) = classChar(p, i) else { return nil }
            var hi = lo
            i = afterLo
            if i < p.count && p[i] == "-" {
                guard let (h, afterHi) = classChar(p, i + 1) else { return nil }
                hi = h
                i = afterHi
            }
            if lo.value <= c.value && c.value <= hi.value { matched = true }
        }
        return (matched != negated, i)
    }

    private static func classChar(_ p: [Unicode.Scalar], _ i: Int) -> (Unicode.Scalar, Int)? {
        guard i < p.count else { return nil }
        switch p[i] {
        case "-", "]": return nil
        case "\\":
            guard i + 1 < p.count else { return nil }
            return (p[i + 1], i + 2)
        default:
            return (p[i], i + 1)
        }
    }

    private static func validate(_ p: [Unicode.Scalar]) throws(BadPattern) {
        var i = 0
        while i < p.count {
            switch p[i] {
            case "[":
                guard let (_, next) = matchClass(p, i, "\u{0}") else { throw BadPattern() }
                i = next
            case "\\":
                guard i + 1 < p.count else { throw BadPattern() }
                i += 2
            default:
                i += 1
            }
        }
    }
}
