/// How an upstream URL is named wherever someone other than the operator may see it:
/// error bodies sent to clients, metric labels, log lines.
///
/// A GOPROXY URL may carry credentials in its user info (`https://user:pass@host`) or in
/// its query (`?token=…`), and a `file://` URL names a local directory. None of that
/// helps a client or a dashboard, and each is a leak, so the name keeps the scheme, host,
/// port and path of a network URL, and only the last directory of a `file://` tree.
public enum URLDisplayName {
    public static func of(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let scheme = url[..<schemeEnd.lowerBound]
        var rest = url[schemeEnd.upperBound...]
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        if scheme == "file" {
            let path = rest.split(separator: "/")
            return path.last.map { "file://…/\($0)" } ?? "file:///"
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return String(scheme) + "://" + authority + rest[authorityEnd...]
    }

    /// The secrets a URL carries: its user name and password, and its query values.
    /// Text that came back from that upstream is scrubbed of them before anyone sees it.
    public static func secrets(of url: String) -> [String] {
        guard let schemeEnd = url.firstRange(of: "://") else { return [] }
        let rest = url[schemeEnd.upperBound...]
        var out: [String] = []
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            out += authority[..<at].split(separator: ":").map(String.init)
        }
        if let q = rest.firstIndex(of: "?") {
            let query = rest[rest.index(after: q)...].prefix { $0 != "#" }
            for pair in query.split(separator: "&") {
                let value = pair.split(separator: "=", maxSplits: 1).dropFirst().first ?? pair
                out.append(String(value))
            }
        }
        // Percent-decoded forms too: an upstream may echo either.
        out += out.compactMap { $0.removingPercentEscapes() }
        return Array(Set(out.filter { $0.utf8.count >= 3 }))
    }

    /// `text` with every one of `secrets` replaced by `xxxxx`.
    public static func scrub(_ text: String, secrets: [String]) -> String {
        var out = text
        for secret in secrets.sorted(by: { $0.utf8.count > $1.utf8.count }) where out.contains(secret) {
            out = out.replacing(secret, with: "xxxxx")
        }
        return out
    }
}

extension String {
    /// `%XX` escapes decoded; nil when there are none or they are malformed.
    func removingPercentEscapes() -> String? {
        guard utf8.contains(UInt8(ascii: "%")) else { return nil }
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard let h = it.popFirst(), let l = it.popFirst(), let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(v)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
