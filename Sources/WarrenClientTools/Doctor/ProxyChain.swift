import GoModule

/// GOPROXY read item by item, keeping what the go command would reject or ignore, so
/// the doctor can point at the exact entry (ProxyList stops at the first error).
public struct ProxyChain: Sendable, Equatable {
    public struct Item: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable { case proxy, direct, off, invalid }
        /// As written.
        public var raw: String
        public var kind: Kind
        /// The normalized URL of a proxy (https:// added as the go command adds it).
        public var url: String?
        /// The separator written after this entry: `,`, `|`, or nil for the last.
        public var separator: String?
        /// Written after `direct` or `off`: the go command never reaches it.
        public var ignored: Bool
        /// Why the go command rejects it.
        public var error: String?

        /// How a failure of this entry is handled, in words.
        public var fallThrough: String {
            switch kind {
            case .direct: return "last: fetches from version control"
            case .off: return "last: refuses to download"
            case .invalid: return "rejected: the go command stops with an error"
            case .proxy:
                if separator == "|" { return "on any error, falls through to the next" }
                if separator == "," { return "only on 404/410, falls through to the next" }
                return "last: its error is final"
            }
        }
    }

    public let items: [Item]

    public init(_ text: String) {
        var items: [Item] = []
        var rest = Substring(text)
        var stopped = false
        while !rest.isEmpty {
            var separator: String?
            let item: Substring
            if let i = rest.firstIndex(where: { $0 == "," || $0 == "|" }) {
                item = rest[..<i]
                separator = String(rest[i])
                rest = rest[rest.index(after: i)...]
            } else {
                item = rest
                rest = ""
            }
            let raw = item.trimmingCharacters(in: .whitespaces)
            if raw.isEmpty { continue }
            var entry = Item(raw: raw, kind: .proxy, url: nil, separator: separator, ignored: stopped, error: nil)
            switch raw {
            case "direct": entry.kind = .direct
            case "off": entry.kind = .off
            default:
                do {
                    entry.url = try ProxyList.normalize(raw)
                } catch {
                    entry.kind = .invalid
                    entry.error = error.description
                }
            }
            if entry.kind == .direct || entry.kind == .off { stopped = true }
            items.append(entry)
        }
        if let last = items.indices.last { items[last].separator = nil }
        self.items = items
    }

    /// The entries the go command uses, in order.
    public var active: [Item] { items.filter { !$0.ignored } }
    /// The http(s) proxies the go command may ask.
    public var httpProxies: [Item] { active.filter { $0.kind == .proxy && ($0.url?.hasPrefix("http") ?? false) } }
    public var endsInDirect: Bool { active.last?.kind == .direct }

    /// The list written back, from the given items.
    public static func render(_ items: [Item]) -> String {
        var out = ""
        for (i, item) in items.enumerated() {
            out += item.raw
            if i < items.count - 1 { out += item.separator ?? "," }
        }
        return out
    }
}
