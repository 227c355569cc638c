import Foundation
import GoModule
import Synchronization

/// `?go-get=1` discovery (go.dev/ref/mod#vcs-find): asks `https://PATH?go-get=1` for the
/// go-import tag matching a module path; when the tag names a shorter prefix, that
/// prefix's own page must agree, so a page under someone else's path cannot claim the
/// root. Plain HTTP is tried only for hosts marked insecure, and a secure lookup never
/// follows a redirect to plain HTTP. Answers are cached for a while.
final class ImportDiscovery: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// Nothing is there (no page, no matching tag, no such host): a 404 for the
        /// client, as proxy.golang.org answers "unrecognized import path".
        let notFound: Bool
    }

    let http: DiscoveryHTTP
    let insecure: ModulePathPatterns
    let credentials: [HostCredential]
    private let cache = Mutex<[String: (Result<GoImportMeta, Failure>, ContinuousClock.Instant)]>([:])
    static let successTTL: Duration = .seconds(600)
    static let failureTTL: Duration = .seconds(30)
    static let pruneThreshold = 4096

    init(http: DiscoveryHTTP, insecure: ModulePathPatterns, credentials: [HostCredential]) {
        self.http = http
        self.insecure = insecure
        self.credentials = credentials
    }

    /// The go-import tag for `importPath`.
    func discover(_ importPath: String) async throws(Failure) -> GoImportMeta {
        let now = ContinuousClock.now
        if let (result, expires) = cache.withLock({ $0[importPath] }), now < expires { return try result.get() }
        let result: Result<GoImportMeta, Failure>
        do {
            result = .success(try await lookUp(importPath))
        } catch {
            result = .failure(error)
        }
        let ttl: Duration
        switch result {
        case .success: ttl = Self.successTTL
        case .failure: ttl = Self.failureTTL
        }
        cache.withLock { entries in
            // Paths come from clients: drop expired answers so the table cannot grow
            // without bound.
            if entries.count >= Self.pruneThreshold {
                entries = entries.filter { now < $0.value.1 }
                if entries.count >= Self.pruneThreshold { entries.removeAll() }
            }
            entries[importPath] = (result, now + ttl)
        }
        return try result.get()
    }

    private func lookUp(_ importPath: String) async throws(Failure) -> GoImportMeta {
        let (url, imports) = try await metaImports(importPath)
        let meta: GoImportMeta
        do {
            meta = try GoImportMeta.match(imports, importPath: importPath)
        } catch {
            throw Failure(description: "unrecognized import path \(GoQuote.string(importPath)): parse \(url): \(error.description)", notFound: true)
        }
        if meta.prefix != importPath {
            // A tag naming a shorter prefix is only trusted if the prefix's page agrees.
            let (rootURL, rootImports) = try await metaImports(meta.prefix)
            guard let again = try? GoImportMeta.match(rootImports, importPath: importPath), again == meta else {
                throw Failure(description: "\(url) and \(rootURL) disagree about go-import for \(meta.prefix)", notFound: true)
            }
        }
        guard let repo = URL(string: meta.repoRoot), let scheme = repo.scheme, !scheme.isEmpty else {
            throw Failure(description: "\(url): invalid repo root \(GoQuote.string(meta.repoRoot)): no scheme", notFound: true)
        }
        guard scheme != "file" else {
            throw Failure(description: "\(url): invalid repo root \(GoQuote.string(meta.repoRoot)): file scheme disallowed", notFound: true)
        }
        return meta
    }

    /// The go-import tags on `prefix`'s page, and the URL that answered.
    private func metaImports(_ prefix: String) async throws(Failure) -> (String, [GoImportMeta]) {
        let allowHTTP = insecure.matches(prefix)
        var firstError: String?
        for scheme in allowHTTP ? ["https", "http"] : ["https"] {
            guard let start = URL(string: "\(scheme)://\(prefix)?go-get=1") else {
                throw Failure(description: "malformed import path \(GoQuote.string(prefix))", notFound: true)
            }
            do {
                let (final, page) = try await follow(start, allowHTTP: allowHTTP)
                let imports = GoImportMeta.parse(page.body)
                if imports.isEmpty && page.status != 200 {
                    throw Failure(description: "unrecognized import path \(GoQuote.string(prefix)): reading \(final): \(page.status) \(HTTPStatusText.text(page.status))",
                                  notFound: page.status < 500)
                }
                return (final.absoluteString, imports)
            } catch let failure as Failure {
                if scheme == "https" && allowHTTP { firstError = failure.description; continue }
                throw failure
            } catch {
                let text = "unrecognized import path \(GoQuote.string(prefix)): \(scheme) fetch: \(Self.describe(error))"
                if scheme == "https" && allowHTTP { firstError = text; continue }
                throw Failure(description: text, notFound: true)
            }
        }
        throw Failure(description: firstError ?? "unrecognized import path \(GoQuote.string(prefix))", notFound: true)
    }

    /// GET with redirects followed by hand (at most 10), never from https to http unless
    /// the host is insecure.
    private func follow(_ start: URL, allowHTTP: Bool) async throws -> (URL, DiscoveryHTTP.Page) {
        var url = start
        for _ in 0..<10 {
            let page = try await http.get(url, authorization: authorization(for: url))
            guard [301, 302, 303, 307, 308].contains(page.status), let location = page.location,
                  let next = URL(string: location, relativeTo: url)?.absoluteURL else {
                return (url, page)
            }
            if next.scheme == "http" && !allowHTTP {
                throw Failure(description: "unrecognized import path: redirected from secure URL \(url) to insecure URL \(next)", notFound: true)
            }
            guard next.scheme == "http" || next.scheme == "https" else {
                throw Failure(description: "unrecognized import path: redirected to \(next)", notFound: true)
            }
            url = next
        }
        throw Failure(description: "unrecognized import path: stopped after 10 redirects from \(start)", notFound: true)
    }

    /// Basic credentials for the URL's host, from the configuration or .netrc.
    private func authorization(for url: URL) -> String? {
        guard let host = url.host else { return nil }
        let hostPort = url.port.map { "\(host):\($0)" } ?? host
        guard let c = credentials.first(where: { $0.applies(to: hostPort) }) else { return nil }
        return "Basic " + Data("\(c.username):\(c.password)".utf8).base64EncodedString()
    }

    static func describe(_ error: any Error) -> String {
        if let failure = error as? ProxiedGet.Failure { return failure.description }
        let text = "\(error)"
        if text.contains("connect") || text.contains("Connect") { return "connection failed (\(text.prefix(120)))" }
        return String(text.prefix(160))
    }
}

/// Reason phrases for the few statuses discovery reports.
enum HTTPStatusText {
    static func text(_ status: Int) -> String {
        switch status {
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 410: return "Gone"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return ""
        }
    }
}
