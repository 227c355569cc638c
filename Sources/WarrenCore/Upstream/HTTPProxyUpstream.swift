import AsyncHTTPClient
import Foundation
import GoModule
import Logging
import NIOCore
import NIOSSL
import NIOHTTP1

/// An `http://` or `https://` GOPROXY server.
///
/// Timeouts: connecting (client configuration), receiving the response head
/// (`headerTimeout`), and the whole exchange (`totalTimeout`, checked as the body
/// arrives; the client's read timeout catches a body that stalls). Transient faults —
/// connection failures, timeouts before any response, 502/503/504 — are retried with
/// exponential backoff; a body that fails midway is not, since bytes may already be on
/// their way to a client.
public struct HTTPProxyUpstream: Upstream {
    public let baseURL: String
    /// `URLDisplayName` of the base URL: what clients, metrics and logs see.
    public let name: String
    /// Credentials in the base URL, scrubbed from anything the upstream says back.
    let secrets: [String]
    let client: HTTPClient
    let headerTimeout: Double
    let totalTimeout: Double
    let retries: Int
    let logger: Logger

    public init(baseURL: String, client: HTTPClient, headerTimeout: Double, totalTimeout: Double, retries: Int, logger: Logger) {
        var base = baseURL
        if let fragment = base.firstIndex(of: "#") { base = String(base[..<fragment]) }
        self.baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.name = URLDisplayName.of(self.baseURL)
        self.secrets = URLDisplayName.secrets(of: self.baseURL)
        self.client = client
        self.headerTimeout = headerTimeout
        self.totalTimeout = totalTimeout
        self.retries = retries
        self.logger = logger
    }

    /// The shared HTTP client for upstreams, with the configured connect and idle timeouts.
    public static func makeClient(connectTimeout: Double, readTimeout: Double, tls: TLSConfiguration? = nil,
                                  proxy: ProxyEnvironment.Proxy? = nil) -> HTTPClient {
        var config = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .milliseconds(Int64(connectTimeout * 1000)), read: .milliseconds(Int64(readTimeout * 1000)))
        )
        if let tls { config.tlsConfiguration = tls }
        if let proxy { config.proxy = .server(host: proxy.host, port: proxy.port) }
        config.decompression = .disabled
        config.httpVersion = .automatic
        // AsyncHTTPClient's default, 8 connections to one host, would queue every other
        // cold fetch behind eight slow zips from an HTTP/1.1 upstream.
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public func fetch(_ request: ProxyRequest) async throws(UpstreamFailure) -> UpstreamResponse {
        let path = request.proxyPath
        let deadline = ContinuousClock.now + .milliseconds(Int64(totalTimeout * 1000))
        var attempt = 0
        while true {
            do {
                return try await attemptFetch(path, deadline: deadline)
            } catch {
                attempt += 1
                guard error.isRetryable, attempt <= retries, ContinuousClock.now < deadline else { throw error }
                let backoff = 0.1 * pow(2, Double(attempt - 1)) * Double.random(in: 0.8...1.2)
                logger.debug("retrying upstream", metadata: ["upstream": "\(name)", "path": "\(path)", "attempt": "\(attempt)", "error": "\(URLDisplayName.scrub(error.description, secrets: secrets))"])
                try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
            }
        }
    }

    private func attemptFetch(_ path: String, deadline: ContinuousClock.Instant) async throws(UpstreamFailure) -> UpstreamResponse {
        var request = HTTPClientRequest(url: Self.join(baseURL, path))
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "warren/0.1 (Go module proxy)")
        if CachedOnlyFetch.isActive { request.headers.add(name: "Disable-Module-Fetch", value: "true") }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(headerTimeout * 1000)))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw .timedOut(message: "upstream \(name) timed out")
        } catch {
            // DNS, connection and TLS failures: say which upstream, keep internals for the log.
            if case .timedOut(let m) = UpstreamFailure.classify(error) { throw .timedOut(message: m) }
            logger.debug("upstream unreachable", metadata: ["upstream": "\(name)", "error": "\(URLDisplayName.scrub(String(describing: error), secrets: secrets))"])
            throw .failed(message: "cannot reach upstream \(name)")
        }
        let status = Int(response.status.code)
        switch status {
        case 200:
            let length = response.headers.first(name: "content-length").flatMap { Int64($0) }
            let body = response.body
            let upstreamName = name
            return UpstreamResponse(contentLength: length, body: UpstreamBody {
                var iterator = body.makeAsyncIterator()
                return UpstreamBody.Iterator {
                    if ContinuousClock.now > deadline {
                        throw UpstreamFailure.timedOut(message: "upstream \(upstreamName) took longer than the total timeout")
                    }
                    do {
                        return try await iterator.next()
                    } catch {
                        throw UpstreamFailure.classify(error)
                    }
                }
            })
        default:
            // Read a little of the error body for the message; never the whole thing.
            let text = URLDisplayName.scrub(await Self.errorText(response.body), secrets: secrets)
            let message = text.isEmpty ? "upstream \(name) answered \(status)" : text
            switch status {
            case 404, 410: throw .notFound(status: status, message: message)
            case 400..<500: throw .refused(status: status, message: message)
            default: throw .failed(message: "upstream \(name) answered \(status): \(message)")
            }
        }
    }

    /// The URL of `path` below `base`, keeping a query the base carries (some private
    /// proxies take a token there) after the path, as the go command joins them.
    static func join(_ base: String, _ path: String) -> String {
        guard let q = base.firstIndex(of: "?") else { return base + "/" + path }
        var prefix = base[..<q]
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return prefix + "/" + path + base[q...]
    }

    static func errorText(_ body: HTTPClientResponse.Body) async -> String {
        var bytes: [UInt8] = []
        do {
            // Stop after the first 512 bytes: an error page may be huge, and is not worth
            // reading. Only its first line (at most 200 characters) is ever relayed.
            for try await chunk in body {
                bytes.append(contentsOf: chunk.readableBytesView.prefix(512 - bytes.count))
                if bytes.count >= 512 { break }
            }
        } catch {}
        var line = ProxyError.oneLine(String(decoding: bytes, as: UTF8.self)).trimmingCharacters(in: .whitespaces)
        if line.count > 200 { line = String(line.prefix(200)) + "…" }
        return line
    }
}
