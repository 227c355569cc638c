/// `<meta name="go-import" content="PREFIX VCS REPO">` tags, as the go command reads them
/// from a `?go-get=1` page (go.dev/ref/mod#vcs-find): only tags before `<body>` or
/// `</head>` count, names and tags are case-insensitive, and `mod` entries (a GOPROXY
/// serving that prefix) come first and replace non-`mod` entries for the same prefix.
public struct GoImportMeta: Sendable, Equatable, CustomStringConvertible {
    public var prefix: String
    public var vcs: String
    public var repoRoot: String

    public init(prefix: String, vcs: String, repoRoot: String) {
        self.prefix = prefix
        self.vcs = vcs
        self.repoRoot = repoRoot
    }

    public var description: String { "\(prefix) \(vcs) \(repoRoot)" }

    /// The go-import tags of an HTML page, `mod` entries first.
    public static func parse(_ html: [UInt8]) -> [GoImportMeta] {
        var found: [GoImportMeta] = []
        var scanner = TagScanner(html)
        while let tag = scanner.next() {
            if tag.name == "body" && !tag.closing { break }
            if tag.name == "head" && tag.closing { break }
            guard tag.name == "meta", !tag.closing, tag.attributes["name"] == "go-import",
                  let content = tag.attributes["content"] else { continue }
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            if fields.count == 3 {
                found.append(GoImportMeta(prefix: String(fields[0]), vcs: String(fields[1]), repoRoot: String(fields[2])))
            }
        }
        let modPrefixes = Set(found.filter { $0.vcs == "mod" }.map(\.prefix))
        return found.filter { $0.vcs == "mod" } + found.filter { $0.vcs != "mod" && !modPrefixes.contains($0.prefix) }
    }

    public struct MatchError: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The one tag whose prefix is a path prefix of `importPath` (the go command's
    /// matchGoImport): a `mod` entry wins over the rest; two other matches are an error.
    public static func match(_ imports: [GoImportMeta], importPath: String) throws(MatchError) -> GoImportMeta {
        var match: GoImportMeta?
        var mismatches: [String] = []
        for im in imports {
            guard hasPathPrefix(importPath, im.prefix) else {
                mismatches.append(im.prefix)
                continue
            }
            if let m = match {
                if m.vcs == "mod" && im.vcs != "mod" { break }
                throw MatchError(description: "multiple meta tags match import path \(GoQuote.string(importPath))")
            }
            match = im
        }
        guard let match else {
            throw MatchError(description: mismatches.isEmpty
                ? "no go-import meta tags"
                : "meta tags do not match import path \(GoQuote.string(importPath)): \(mismatches.joined(separator: ", "))")
        }
        return match
    }

    /// `a/b` is a path prefix of `a/b` and `a/b/c`, not of `a/bc`.
    public static func hasPathPrefix(_ s: String, _ prefix: String) -> Bool {
        if s == prefix { return true }
        if prefix.isEmpty { return false }
        if prefix.hasSuffix("/") { return s.hasPrefix(prefix) }
        return s.hasPrefix(prefix + "/")
    }
}

/// Just enough of an HTML tokenizer for go-import tags: tag names and attributes
/// (quoted with ' or ", or bare), comments skipped, entities in values decoded.
struct TagScanner {
    struct Tag {
        var name: String
        var closing: Bool
        var attributes: [String: String]
    }

    private let bytes: [UInt8]
    private var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> Tag? {
        while at < bytes.count {
            guard let lt = bytes[at...].firstIndex(of: UInt8(ascii: "<")) else { at = bytes.count; return nil }
            at = lt + 1
            if starts(with: "!--") {
                at = find("-->").map { $0 + 3 } ?? bytes.count
                continue
            }
            var closing = false
            if at < bytes.count, bytes[at] == UInt8(ascii: "/") { closing = true; at += 1 }
            let name = readName()
            guard !name.isEmpty else { continue }
            var attributes: [String: String] = [:]
            while at < bytes.count {
                skipSpace()
                guard at < bytes.count else { break }
                if bytes[at] == UInt8(ascii: ">") { at += 1; break }
                if bytes[at] == UInt8(ascii: "/") { at += 1; continue }
                let key = readName()
                if key.isEmpty { at += 1; continue }
                skipSpace()
                var value = ""
                if at < bytes.count, bytes[at] == UInt8(ascii: "=") {
                    at += 1
                    skipSpace()
                    value = readValue()
                }
                if attributes[key] == nil { attributes[key] = Self.decodeEntities(value) }
            }
            return Tag(name: name, closing: closing, attributes: attributes)
        }
        return nil
    }

    private func starts(with text: String) -> Bool {
        let t = Array(text.utf8)
        return at + t.count <= bytes.count && Array(bytes[at..<(at + t.count)]) == t
    }

    private func find(_ text: String) -> Int? {
        let t = Array(text.utf8)
        var i = at
        while i + t.count <= bytes.count {
            if Array(bytes[i..<(i + t.count)]) == t { return i }
            i += 1
        }
        return nil
    }

    private mutating func skipSpace() {
        while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0C].contains(bytes[at]) { at += 1 }
    }

    private mutating func readName() -> String {
        let start = at
        while at < bytes.count {
            let c = bytes[at]
            if [0x20, 0x09, 0x0A, 0x0D, 0x0C, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "=")].contains(c) { break }
            at += 1
        }
        return String(decoding: bytes[start..<at], as: UTF8.self).lowercased()
    }

    private mutating func readValue() -> String {
        guard at < bytes.count else { return "" }
        let quote = bytes[at]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            at += 1
            let start = at
            while at < bytes.count, bytes[at] != quote { at += 1 }
            let value = String(decoding: bytes[start..<at], as: UTF8.self)
            at = min(at + 1, bytes.count)
            return value
        }
        let start = at
        while at < bytes.count, ![0x20, 0x09, 0x0A, 0x0D, 0x0C, UInt8(ascii: ">")].contains(bytes[at]) { at += 1 }
        return String(decoding: bytes[start..<at], as: UTF8.self)
    }

    static func decodeEntities(_ s: String) -> String {
        guard s.contains("&") else { return s }
        let named = ["&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&apos;": "'"]
        var out = s
        for (entity, text) in named where entity != "&amp;" { out = out.replacingAll(entity, with: text) }
        return out.replacingAll("&amp;", with: "&")
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation in GoModule).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
