import GoModule

/// Reasoning about GOPRIVATE-style pattern lists: which pattern makes another one
/// redundant, and which patterns can never match anything.
public enum PatternAnalysis {
    /// Reports whether every module path `narrow` matches is matched by `wide` too.
    /// Patterns match leading path elements, so `wide` must have no more elements than
    /// `narrow`, and each of its elements must accept the corresponding one.
    public static func covers(_ wide: String, _ narrow: String) -> Bool {
        let w = wide.split(separator: "/", omittingEmptySubsequences: false)
        let n = narrow.split(separator: "/", omittingEmptySubsequences: false)
        guard w.count <= n.count else { return false }
        for (a, b) in zip(w, n) {
            if isGlob(b) {
                if a != "*" && a != b { return false }
            } else if (try? GlobPattern.match(String(a), String(b))) != true {
                return false
            }
        }
        return true
    }

    /// Reports whether any pattern of `list` covers `pattern`.
    public static func covered(_ pattern: String, by list: [String]) -> String? {
        list.first { covers($0, pattern) }
    }

    /// Pairs (redundant, because-of) within one list, each redundant pattern once.
    public static func shadowed(in patterns: [String]) -> [(redundant: String, by: String)] {
        var out: [(String, String)] = []
        for (i, p) in patterns.enumerated() {
            for (j, q) in patterns.enumerated() where i != j {
                // Of two identical patterns, the later one is the redundant one.
                if p == q && j > i { continue }
                if covers(q, p) {
                    out.append((p, q))
                    break
                }
            }
        }
        return out
    }

    /// Why a pattern can never match a module path, or nil when it can.
    public static func neverMatches(_ pattern: String) -> String? {
        if pattern.contains("://") || pattern.hasPrefix("https:") || pattern.hasPrefix("http:") {
            return "patterns match module paths, which have no scheme"
        }
        if pattern.contains("@") {
            return "patterns match module paths; a version (@…) never matches"
        }
        for element in pattern.split(separator: "/") where (try? GlobPattern.match(String(element), "x")) == nil {
            return "\(element) is not a valid glob (the go command ignores the pattern)"
        }
        return nil
    }

    static func isGlob(_ s: Substring) -> Bool {
        s.contains { "*?[\\".contains($0) }
    }
}
