import HTTPTypes
import Hummingbird
import NIOCore
import WarrenCore

/// `/index` and `/catalog`: what Warren has stored, from the metadata index, in the
/// formats that index.golang.org and Athens give, so mirrors and tools that read those
/// read Warren.
extension ProxyResponder {
    /// Most entries one page may hold (index.golang.org's limit too).
    static let maxFeedPage = 2000

    /// `visible`: whether the caller may see a module (access rules).
    func feed(_ which: String, index: any MetadataIndex, query: Parameters, visible: @escaping (String) -> Bool = { _ in true }) async -> Response {
        do {
            if which == "index" {
                var since = 0.0
                if let text = query["since"].map(String.init), !text.isEmpty {
                    guard let parsed = IndexFeed.parseTimestamp(text) else {
                        return Self.text(.badRequest, "since must be an RFC 3339 time in UTC, such as 2019-04-10T19:08:52.997264Z")
                    }
                    since = parsed
                }
                let limit = try Self.pageSize(query["limit"].map(String.init), name: "limit")
                return Self.feedAnswer(IndexFeed.indexLines(try await index.feed(since: since, limit: limit).filter { visible($0.module) }),
                                       contentType: "application/json; charset=utf-8")
            }
            let size = try Self.pageSize(query["pagesize"].map(String.init), name: "pagesize")
            var after: (module: String, version: String)?
            if let token = query["token"].map(String.init), !token.isEmpty {
                guard let parsed = IndexFeed.parseCatalogToken(token) else {
                    return Self.text(.badRequest, "token must be the next value of a previous /catalog answer")
                }
                after = parsed
            }
            return Self.feedAnswer(IndexFeed.catalogJSON(try await index.catalog(after: after, limit: size), pageSize: size, visible: visible),
                                   contentType: "application/json")
        } catch let bad as BadPageSize {
            return Self.text(.badRequest, bad.message)
        } catch {
            logger.warning("the metadata index failed", metadata: ["feed": "\(which)", "error": "\(error)"])
            return Self.text(.serviceUnavailable, "the metadata index is unavailable")
        }
    }

    struct BadPageSize: Error { let message: String }

    static func pageSize(_ text: String?, name: String) throws -> Int {
        guard let text, !text.isEmpty else { return maxFeedPage }
        guard let n = Int(text), n >= 1 else { throw BadPageSize(message: "\(name) must be a whole number from 1 to \(maxFeedPage)") }
        return min(n, maxFeedPage)
    }

    static func feedAnswer(_ body: String, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
