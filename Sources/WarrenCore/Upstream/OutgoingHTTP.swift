import AsyncHTTPClient
import Foundation
import NIOSSL

/// How Warren reaches the outside: extra CAs to trust (a company's TLS-intercepting
/// proxy, an internal upstream: the fix is trusting its CA, never turning verification
/// off), an optional client certificate for upstreams that ask for one, and the
/// `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` of the environment. Every outgoing request uses
/// it: upstream proxies, checksum databases, `?go-get=1` discovery, and git.
public struct OutgoingHTTP: Sendable, Equatable {
    /// PEM file of CAs trusted besides the system's.
    public var caFile: String?
    /// PEM certificate (chain) and key presented to upstreams that ask.
    public var clientCertificate: String?
    public var clientKey: String?
    public var proxies: ProxyEnvironment

    public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
                proxies: ProxyEnvironment = ProxyEnvironment(environment: ProcessInfo.processInfo.environment)) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.proxies = proxies
    }

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The TLS configuration of every outgoing client.
    public func tlsConfiguration(forUpstreams: Bool = true) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !certificates.isEmpty else { throw Problem(description: "no certificate in \(caFile)") }
                tls.additionalTrustRoots = [.certificates(certificates)]
            } catch let problem as Problem {
                throw problem
            } catch {
                throw Problem(description: "cannot read the CA file \(caFile): \(error)")
            }
        }
        if forUpstreams, let clientCertificate, let clientKey {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientKey, format: .pem))
            } catch {
                throw Problem(description: "cannot read the upstream client certificate \(clientCertificate) or its key: \(type(of: error))")
            }
        }
        return tls
    }

    /// For git, which replaces its CA bundle rather than adding to it: the system's
    /// bundle followed by the extra CAs, written once to `directory`; nil without extra CAs.
    public func gitCABundle(in directory: String) throws -> String? {
        guard let caFile else { return nil }
        let system = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
            .compactMap { FileManager.default.contents(atPath: $0) }.first ?? Data()
        guard let extra = FileManager.default.contents(atPath: caFile) else {
            throw Problem(description: "cannot read the CA file \(caFile)")
        }
        let path = directory + "/git-ca-bundle.pem"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try (system + Data("\n".utf8) + extra).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }
}

/// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` as the go command reads them (upper or
/// lower case): loopback is never proxied, `NO_PROXY` entries match a host and its
/// subdomains, `*` turns proxies off.
public struct ProxyEnvironment: Sendable, Equatable {
    public struct Proxy: Sendable, Equatable, Hashable {
        public let host: String
        public let port: Int
    }

    public let http: Proxy?
    public let https: Proxy?
    public let noProxy: [String]

    public init(environment: [String: String]) {
        func proxy(_ name: String) -> Proxy? {
            guard let v = environment[name] ?? environment[name.lowercased()], !v.isEmpty,
                  let url = URL(string: v.contains("://") ? v : "http://" + v), let host = url.host else { return nil }
            return Proxy(host: host, port: url.port ?? 80)
        }
        http = proxy("HTTP_PROXY")
        https = proxy("HTTPS_PROXY")
        noProxy = (environment["NO_PROXY"] ?? environment["no_proxy"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    /// The proxy for a URL: the scheme's, unless the host is loopback or in NO_PROXY.
    public func proxy(for url: URL) -> Proxy? {
        let host = (url.host ?? "").lowercased()
        if host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" { return nil }
        for entry in noProxy {
            if entry == "*" { return nil }
            let bare = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            if host == bare || host.hasSuffix("." + bare) { return nil }
        }
        return url.scheme == "https" ? https : http
    }
}
