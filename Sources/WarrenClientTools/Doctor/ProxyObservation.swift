import GoModule

/// What one quick request to a proxy showed — enough for the configuration checks to
/// tell a dead proxy, a web page and a certificate problem apart.
public struct ProxyObservation: Sendable, Codable, Equatable {
    public var url: String
    public var status: Int?
    public var contentType: String?
    public var looksLikeHTML: Bool
    public var failure: ProbeFailure?
    public var tls: TLSReport?
    /// The .netrc file has an entry for the proxy's host (the secret is never read out).
    public var netrcEntry: Bool
    public var timings: PhaseTimings

    /// GETs `<proxy>/<module>/@v/list`.
    public static func observe(proxyURL: String, module: String, client: TimedHTTPClient) async -> ProxyObservation {
        let escaped = (try? PathEscaping.escapePath(module)) ?? module
        let exchange = await client.get(proxyURL + "/" + escaped + "/@v/list", bodyLimit: 64 * 1024)
        let host = ConfigurationChecks.hostOf(proxyURL)
        return ProxyObservation(
            url: proxyURL, status: exchange.response?.status, contentType: exchange.response?.contentType,
            looksLikeHTML: exchange.response.map(isHTML) ?? false, failure: exchange.failure, tls: exchange.tls,
            netrcEntry: client.credentials.contains { $0.applies(to: host) }, timings: exchange.timings)
    }

    /// An HTML page where the protocol wants plain text or JSON.
    public static func isHTML(_ response: TimedResponse) -> Bool {
        if response.contentType?.lowercased().contains("html") == true { return true }
        let start = response.text.prefix(512).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return start.hasPrefix("<!doctype html") || start.hasPrefix("<html") || start.hasPrefix("<head")
    }
}
