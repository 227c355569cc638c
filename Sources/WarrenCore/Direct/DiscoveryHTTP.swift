import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// HTTP for `?go-get=1` discovery. Like the go command it honours `HTTPS_PROXY`,
/// `HTTP_PROXY` and `NO_PROXY` (loopback is never proxied; see ProxiedGet), and it does
/// not follow redirects on its own: discovery follows them itself, so that a secure
/// lookup is never redirected to plain HTTP.
public final class DiscoveryHTTP: Sendable {
    let plain: HTTPClient
    let proxies: ProxyEnvironment
    let timeout: TimeAmount

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, connectTimeout: Double = 5, readTimeout: Double = 30,
                tls: TLSConfiguration? = nil) {
        var config = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(connectTimeout * 1000)), read: .milliseconds(Int64(readTimeout * 1000)))
        )
        config.decompression = .enabled(limit: .size(4 << 20))
        if let tls { config.tlsConfiguration = tls }
        plain = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        proxies = ProxyEnvironment(environment: environment)
        timeout = .milliseconds(Int64((connectTimeout + readTimeout) * 1000))
    }

    public func shutdown() async {
        try? await plain.shutdown()
    }

    /// The proxy for a URL: the scheme's, unless the host is loopback or listed in
    /// NO_PROXY.
    func proxy(for url: URL) -> ProxyEnvironment.Proxy? {
        proxies.proxy(for: url)
    }

    struct Page {
        var status: Int
        var location: String?
        var body: [UInt8]
    }

    /// One GET, at most `limit` bytes of body.
    func get(_ url: URL, authorization: String?, limit: Int = 1 << 20) async throws -> Page {
        var headers = [("User-Agent", "Warren (go-get discovery)")]
        if let authorization { headers.append(("Authorization", authorization)) }
        if let proxy = proxy(for: url) {
            return try await ProxiedGet.get(url, proxyHost: proxy.host, proxyPort: proxy.port, headers: headers, limit: limit, timeout: timeout)
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await plain.execute(request, timeout: timeout)
        var body: [UInt8] = []
        for try await chunk in response.body {
            body.append(contentsOf: chunk.readableBytesView.prefix(max(0, limit - body.count)))
            if body.count >= limit { break }
        }
        return Page(status: Int(response.status.code), location: response.headers.first(name: "Location"), body: body)
    }
}
