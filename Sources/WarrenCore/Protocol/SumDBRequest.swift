import GoModule

/// A request for a checksum database through the proxy (go.dev/ref/mod#checksum-database):
/// `$base/sumdb/<name>/supported|latest|lookup/<module>@<version>|tile/…`, decoded and
/// validated so that only well-formed requests reach a database.
public enum SumDBRequest: Sendable, Equatable {
    case supported
    case latest
    case lookup(module: String, version: String)
    case tile(LogTile)

    /// A short name for metrics and logs.
    public var endpoint: String {
        switch self {
        case .supported: return "sumdb_supported"
        case .latest: return "sumdb_latest"
        case .lookup: return "sumdb_lookup"
        case .tile: return "sumdb_tile"
        }
    }

    /// Parses the part of a request path after `sumdb/`, still percent-encoded: the
    /// database name and the request.
    public static func parse(rawPath: String) throws(ProxyError) -> (database: String, request: SumDBRequest) {
        let path = try ProxyRequest.percentDecode(rawPath)
        guard let slash = path.firstIndex(of: "/") else { throw .notFound("want /sumdb/NAME/supported, latest, lookup/… or tile/…") }
        let name = String(path[..<slash])
        let rest = String(path[path.index(after: slash)...])
        switch rest {
        case "supported": return (name, .supported)
        case "latest": return (name, .latest)
        default: break
        }
        if rest.hasPrefix("lookup/") {
            let target = rest.dropFirst("lookup/".count)
            guard let at = target.lastIndex(of: "@") else { throw .badRequest("want lookup/MODULE@VERSION") }
            do {
                let module = try PathEscaping.unescapePath(String(target[..<at]))
                let version = try PathEscaping.unescapeVersion(String(target[target.index(after: at)...]))
                _ = try ModuleVersion(path: module, version: version)
                return (name, .lookup(module: module, version: version))
            } catch {
                throw .badRequest("invalid lookup \(GoQuote.string(String(target))): \(error)")
            }
        }
        if rest.hasPrefix("tile/") {
            // Every Go checksum database serves tiles of height 8, and only those.
            guard let tile = LogTile(path: rest), tile.height == 8 else {
                throw .notFound("no such tile \(GoQuote.string(rest)) (want tile/8/L/N[.p/W])")
            }
            return (name, .tile(tile))
        }
        throw .notFound("unknown checksum database request \(GoQuote.string(rest))")
    }
}
