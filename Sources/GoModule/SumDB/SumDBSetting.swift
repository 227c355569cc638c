/// A checksum database as GOSUMDB names it (go.dev/ref/mod#environment-variables):
/// `off`, `sum.golang.org`, `sum.golang.google.cn` (sum.golang.org's log served from
/// China), or `<name>+<hash>+<key>` followed by an optional URL.
public enum SumDBSetting: Sendable, Equatable, CustomStringConvertible {
    case off
    case database(key: VerifierKey, url: String)

    /// sum.golang.org's public key, as the go command knows it.
    public static let sumGolangOrgKey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
    /// Names the go command accepts instead of a key, and the URL each stands for.
    static let knownNames = ["sum.golang.org": "https://sum.golang.org", "sum.golang.google.cn": "https://sum.golang.google.cn"]

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(ParseError) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = fields.first, fields.count <= 2 else {
            throw ParseError(description: "want off, sum.golang.org, or NAME+HASH+KEY [URL]")
        }
        if first == "off" && fields.count == 1 {
            self = .off
            return
        }
        let keyText = Self.knownNames[first] != nil ? Self.sumGolangOrgKey : first
        let key: VerifierKey
        do {
            key = try VerifierKey(keyText)
        } catch {
            throw ParseError(description: error.description)
        }
        guard Self.isHostLike(key.name) else {
            throw ParseError(description: "checksum database name \(GoQuote.string(key.name)) must be a host name (letters, digits, '.', '-', '_')")
        }
        var url = fields.count == 2 ? fields[1] : (Self.knownNames[first] ?? "https://" + key.name)
        if !url.contains("://") { url = "https://" + url }
        while url.hasSuffix("/") { url.removeLast() }
        guard Self.isHTTPURL(url) else {
            throw ParseError(description: "checksum database URL \(GoQuote.string(url)) is not a valid http(s) URL")
        }
        self = .database(key: key, url: url)
    }

    /// `http(s)://host[:port][/path]`, nothing unprintable.
    static func isHTTPURL(_ url: String) -> Bool {
        guard !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else { return false }
        let rest: Substring
        if url.hasPrefix("https://") { rest = url.dropFirst(8) } else if url.hasPrefix("http://") { rest = url.dropFirst(7) } else { return false }
        let authority = rest.prefix { $0 != "/" }
        var host = authority
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let port = authority[authority.index(after: colon)...]
            guard let p = Int(port), (1...65535).contains(p) else { return false }
            host = authority[..<colon]
        }
        return !host.isEmpty && !host.contains("@")
    }

    /// Names become directories in the data dir and path elements of `/sumdb/<name>/`.
    static func isHostLike(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first != ".", first != "-", !name.contains("..") else { return false }
        return name.unicodeScalars.allSatisfy { s in
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "-" || s == "_"
        }
    }

    public var description: String {
        switch self {
        case .off: return "off"
        case .database(let key, let url): return "\(key.name) (\(url))"
        }
    }
}
