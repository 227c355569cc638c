/// A GOPROXY-style list of module sources, parsed exactly as the go command parses it
/// (go.dev/ref/mod#goproxy-protocol).
///
/// Entries are separated by `,` (fall through to the next only when this one answers
/// 404 or 410) or `|` (fall through on any error, timeouts included). `direct` and
/// `off` end the list: anything after them is ignored. A bare host like `goproxy.cn`
/// means `https://goproxy.cn`.
public struct ProxyList: Sendable, Equatable, CustomStringConvertible {
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// An `http://`, `https://` or `file://` proxy base URL (no trailing slash).
        case url(String)
        /// Fetch from version control.
        case direct
        /// Refuse to fetch.
        case off

        /// The list as logged: each URL by its display name (no credentials, no query,
        /// no local path).
        public var description: String {
            switch self {
            case .url(let u): return URLDisplayName.of(u)
            case .direct: return "direct"
            case .off: return "off"
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public var source: Source
        /// True when this entry is followed by `|`: any failure falls through to the next.
        /// Otherwise (`,` or last) only "not found" (404/410) falls through.
        public var fallBackOnError: Bool
    }

    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let entries: [Entry]
    /// Entries written after `direct` or `off`, which the go command ignores.
    public let ignored: [String]

    public init(_ text: String) throws(ParseError) {
        var entries: [Entry] = []
        var ignored: [String] = []
        var rest = Substring(text)
        var stopped = false
        while !rest.isEmpty {
            let item: Substring
            var fallBack = false
            if let i = rest.firstIndex(where: { $0 == "," || $0 == "|" }) {
                item = rest[..<i]
                fallBack = rest[i] == "|"
                rest = rest[rest.index(after: i)...]
            } else {
                item = rest
                rest = ""
            }
            let raw = item.trimmingSpaces()
            if raw.isEmpty { continue }
            if stopped {
                ignored.append(raw)
                continue
            }
            switch raw {
            case "off":
                entries.append(Entry(source: .off, fallBackOnError: false))
                stopped = true
            case "direct":
                entries.append(Entry(source: .direct, fallBackOnError: false))
                stopped = true
            default:
                let url = try Self.normalize(raw)
                entries.append(Entry(source: .url(url), fallBackOnError: fallBack))
            }
        }
        if entries.isEmpty {
            throw ParseError(description: "GOPROXY list is not the empty string, but contains no entries")
        }
        self.entries = entries
        self.ignored = ignored
    }

    /// The list written back in GOPROXY syntax, secrets redacted.
    public var description: String {
        var out = ""
        for (i, e) in entries.enumerated() {
            out += e.source.description
            if i < entries.count - 1 { out += e.fallBackOnError ? "|" : "," }
        }
        return out
    }

    /// Adds `https://` where the go command would, and checks the scheme.
    public static func normalize(_ raw: String) throws(ParseError) -> String {
        var url = raw
        if raw.contains(where: { ".:/".contains($0) }) && !raw.contains(":/") && !raw.hasPrefix("/") {
            url = "https://" + raw
        }
        guard let colon = url.firstIndex(of: ":"), url[url.index(after: colon)...].hasPrefix("/") || url.hasPrefix("file:") else {
            throw ParseError(description: "invalid proxy URL missing scheme: \(redact(url))")
        }
        let scheme = url[..<colon].lowercased()
        guard scheme.first?.isLetter == true,
              scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else {
            throw ParseError(description: "invalid proxy URL missing scheme: \(redact(url))")
        }
        switch scheme {
        case "http", "https":
            let afterScheme = url[url.index(after: colon)...]
            guard afterScheme.hasPrefix("//"), afterScheme.count > 2 else {
                throw ParseError(description: "invalid proxy URL missing host: \(redact(url))")
            }
        case "file":
            let afterScheme = url[url.index(after: colon)...]
            // Only a path: file:///srv/goproxy (or file:/srv/goproxy).
            let path = afterScheme.hasPrefix("//") ? afterScheme.dropFirst(2) : afterScheme
            if !path.hasPrefix("/") || path.contains("?") || path.contains("#") {
                throw ParseError(description: "invalid file:// proxy URL with non-path elements: \(redact(url))")
            }
        default:
            throw ParseError(description: "invalid proxy URL scheme (must be https, http, file): \(redact(url))")
        }
        while url.hasSuffix("/") && !url.hasSuffix("://") { url.removeLast() }
        return url
    }

    /// Hides the password of `user:password@` in a URL, as Go's URL.Redacted does.
    public static func redact(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return url }
        let userinfo = authority[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return url }
        return String(url[..<schemeEnd.upperBound]) + userinfo[..<colon] + ":xxxxx" + String(rest[at...])
    }
}
