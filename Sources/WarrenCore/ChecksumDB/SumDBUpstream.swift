import AsyncHTTPClient
import GoModule
import NIOCore

/// Where a checksum database's answers come from: the database itself
/// (`https://sum.golang.org`) or another proxy's `/sumdb/<name>` relay. Every answer it
/// returns still has to be verified by `ChecksumDatabase`.
struct SumDBUpstream: Sendable {
    let name: String
    let baseURL: String
    let client: HTTPClient
    let timeout: TimeAmount
    /// Credentials in the URL, scrubbed from what the database says back.
    let secrets: [String]

    /// Lookups, tree heads and tiles are all small; anything larger is not an answer.
    static let answerLimit = 1 << 20

    init(name: String, url: String, client: HTTPClient, timeout: TimeAmount) {
        self.name = name
        self.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.client = client
        self.timeout = timeout
        self.secrets = URLDisplayName.secrets(of: url)
    }

    /// A database's own words, made safe to relay: one short line, no credentials.
    func sanitised(_ bytes: ByteBufferView) -> String {
        var line = ProxyError.oneLine(String(decoding: bytes.prefix(300), as: UTF8.self))
        if line.count > 120 { line = String(line.prefix(120)) + "…" }
        return URLDisplayName.scrub(line, secrets: secrets)
    }

    func get(_ path: String) async throws(ChecksumDatabase.Failure) -> [UInt8] {
        do {
            let response = try await client.execute(HTTPClientRequest(url: baseURL + path), timeout: timeout)
            let body = try await response.body.collect(upTo: Self.answerLimit)
            switch response.status.code {
            case 200:
                return Array(body.readableBytesView)
            case 404, 410:
                let reason = sanitised(body.readableBytesView)
                throw ChecksumDatabase.Failure(.notFound, "\(name) has no \(path): \(reason)")
            default:
                throw ChecksumDatabase.Failure(.unavailable, "\(name): \(path) answered \(response.status.code)")
            }
        } catch let e as ChecksumDatabase.Failure {
            throw e
        } catch {
            // The transport's own error text can name addresses and internals: clients get
            // its kind only.
            throw ChecksumDatabase.Failure(.unavailable, "\(name): \(path): \(UpstreamFailure.classify(error).description)")
        }
    }
}
