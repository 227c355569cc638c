import GoModule

extension ProxyRequest {
    /// The request's path on a GOPROXY server, case-encoded
    /// (`github.com/!burnt!sushi/toml/@v/v1.2.1.zip`): what HTTP and `file://` upstreams
    /// ask for. Upstreams receive the typed request and escape it here, and only here;
    /// direct mode never sees a path at all.
    public var proxyPath: String {
        switch self {
        case .list(let module):
            return Self.escaped(module) + "/@v/list"
        case .latest(let module):
            return Self.escaped(module) + "/@latest"
        case .artifact(let module, let version, let kind):
            return Self.escaped(module) + "/@v/" + ((try? PathEscaping.escapeVersion(version)) ?? "invalid-version") + "." + kind.rawValue
        }
    }

    /// Requests are validated when parsed, so escaping cannot fail; the placeholder would
    /// still name nothing outside the module's space.
    private static func escaped(_ module: String) -> String {
        (try? PathEscaping.escapePath(module)) ?? "invalid-module"
    }
}
