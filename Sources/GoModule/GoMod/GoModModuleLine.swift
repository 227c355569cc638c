/// The module path of a go.mod read the way the go command reads a dependency's go.mod
/// in version control (x/mod's `modfile.ModulePath`): the first `module` line wins, and
/// nothing else in the file has to parse. A go.mod with a syntax error further down is
/// still a module; one without a `module` line is not.
public enum GoModModuleLine {
    /// The declared path, or "" when there is no usable `module` line.
    public static func modulePath(_ goMod: [UInt8]) -> String {
        for rawLine in goMod.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var line = Array(rawLine)
            if let comment = firstComment(line) { line = Array(line[..<comment]) }
            line = trimmed(line)
            let keyword = Array("module".utf8)
            guard line.starts(with: keyword) else { continue }
            let rest = Array(line[keyword.count...])
            let value = trimmed(rest)
            // "module" must be followed by space, and by something.
            if value.count == rest.count || value.isEmpty { continue }
            let text = String(decoding: value, as: UTF8.self)
            if value[0] == UInt8(ascii: "\"") || value[0] == UInt8(ascii: "`") {
                return GoStringLiteral.unquote(text) ?? ""
            }
            return text
        }
        return ""
    }

    /// Whether a go.mod declaring `declared` may serve a module path ending in
    /// `pathMajor` (the go command's isMajor): only the major version has to agree, so
    /// forks that keep their original module line still resolve.
    public static func isMajor(_ declared: String, pathMajor: String) -> Bool {
        guard !declared.isEmpty else { return false }
        let (_, declaredMajor, ok) = ModulePathMajor.split(declared)
        guard ok else { return false }
        if pathMajor.isEmpty {
            let prefix = ModulePathMajor.prefixVersion(declaredMajor) ?? ""
            return prefix == "" || prefix == "v0" || prefix == "v1"
        }
        guard !declaredMajor.isEmpty else { return false }
        return pathMajor.dropFirst() == declaredMajor.dropFirst()
    }

    private static func firstComment(_ line: [UInt8]) -> Int? {
        var i = 0
        while i + 1 < line.count {
            if line[i] == UInt8(ascii: "/") && line[i + 1] == UInt8(ascii: "/") { return i }
            i += 1
        }
        return nil
    }

    private static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        // bytes.TrimSpace: ASCII white space (and Unicode spaces, which go.mod files
        // do not use in practice).
        let space: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        var start = 0, end = bytes.count
        while start < end, space.contains(bytes[start]) { start += 1 }
        while end > start, space.contains(bytes[end - 1]) { end -= 1 }
        return Array(bytes[start..<end])
    }
}
