/// Finds paths that would collide on a case-insensitive file system (`a.go` and `A.GO`),
/// duplicate entries, and paths used both as a file and as a directory.
struct CollisionChecker {
    private var seen: [String: (path: String, isDirectory: Bool)] = [:]

    /// Records `path` (and its parent directories); returns the go command's message for
    /// the first conflict, or nil.
    mutating func check(_ path: String, isDirectory: Bool) -> String? {
        let folded = CaseFold.fold(path)
        if let other = seen[folded] {
            if path != other.path {
                return "case-insensitive file name collision: \(GoQuote.string(other.path)) and \(GoQuote.string(path))"
            }
            if isDirectory != other.isDirectory {
                return "entry \(GoQuote.string(path)) is both a file and a directory"
            }
            if !isDirectory {
                return "multiple entries for file \(GoQuote.string(path))"
            }
        } else {
            seen[folded] = (path, isDirectory)
        }
        let parent = ModuleZipRules.dirName(path)
        if parent != "." {
            return check(parent, isDirectory: true)
        }
        return nil
    }
}

/// Unicode simple case folding to a canonical representative, so that two strings are
/// equal under Go's strings.EqualFold exactly when their folds are equal.
enum CaseFold {
    static func fold(_ s: String) -> String {
        // Fast path: ASCII without upper case, as almost every path is.
        if s.utf8.allSatisfy({ $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) }) { return s }
        var out = ""
        for scalar in s.unicodeScalars {
            out.unicodeScalars.append(representative(scalar))
        }
        return out
    }

    /// The smallest scalar in the case orbit of `s` (reached through single-scalar
    /// upper/lower/title mappings), with A–Z mapped to a–z.
    static func representative(_ s: Unicode.Scalar) -> Unicode.Scalar {
        if s.isASCII {
            return (s.value >= 0x41 && s.value <= 0x5A) ? Unicode.Scalar(s.value + 32) ?? s : s
        }
        var orbit: Set<UInt32> = [s.value]
        var frontier: [Unicode.Scalar] = [s]
        while let c = frontier.popLast() {
            let p = c.properties
            for mapped in [p.lowercaseMapping, p.uppercaseMapping, p.titlecaseMapping] {
                let scalars = Array(mapped.unicodeScalars)
                guard scalars.count == 1, let m = scalars.first else { continue }
                if orbit.insert(m.value).inserted { frontier.append(m) }
            }
        }
        guard let least = orbit.min(), var r = Unicode.Scalar(least) else { return s }
        if r.value >= 0x41 && r.value <= 0x5A, let lower = Unicode.Scalar(r.value + 32) { r = lower }
        return r
    }
}
