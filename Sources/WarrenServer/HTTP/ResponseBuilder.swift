import Foundation
import GoModule
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import WarrenCore

/// Turns what the engine served into an HTTP response: caching headers, conditional
/// requests (304), byte ranges (206/416), HEAD, and streamed bodies.
struct ResponseBuilder {
    let threadPool: NIOThreadPool
    /// The request's connection.
    let channel: any Channel
    /// Whether stored files may be sent with sendfile (plain-text HTTP only).
    let zeroCopy: Bool
    /// Remembers whole 200 answers of in-memory immutable artifacts for the hot path.
    let hot: HotResponseTable?
    let logger: Logger

    var pacer: EventLoopPacer { EventLoopPacer(eventLoop: channel.eventLoop) }

    /// Chunk size for copying zips that cannot go out with sendfile (still arriving, or no
    /// plain HTTP/1 connection): large enough for few thread-pool hops, small enough that
    /// hundreds of concurrent downloads stay within a small memory budget (with
    /// `EventLoopPacer`, at most about two chunks per connection are in memory).
    static let chunkSize: Int64 = 128 * 1024

    func build(_ served: ServedArtifact, request: Request, head: Bool, log: RequestLogLine, endpoint: String) async -> Response {
        var log = log
        var headers = HTTPFields()
        headers[.contentType] = served.contentType
        headers[.cacheControl] = served.cachePolicy.headerValue(shared: !log.restricted)
        headers[ProxyResponder.cacheHeader] = served.cacheStatus.rawValue
        if let etag = served.etag { headers[.eTag] = etag }
        if let lm = served.lastModified { headers[.lastModified] = HTTPDate.format(lm) }
        if !served.advisories.isEmpty { headers[ProxyResponder.vulnerabilitiesHeader] = served.advisories.joined(separator: ", ") }

        if Self.preconditionFails(request, etag: served.etag, lastModified: served.lastModified) {
            return log.finish(ProxyResponder.text(.preconditionFailed, "precondition failed: the artifact's ETag or date does not match"), endpoint: endpoint)
        }
        if Self.notModified(request, etag: served.etag, lastModified: served.lastModified) {
            return log.finish(Response(status: .notModified, headers: headers), endpoint: endpoint)
        }

        // A zip still arriving: wait until there is something to send or a verdict. A zip
        // that fails before any byte could be released (small zips, upstream errors) gets a
        // proper error response. A range request waits for the whole zip: ranges are for
        // resuming, and only a complete, verified file can answer them.
        var body = served.body
        if case .download(let d) = body {
            let wholeZip = request.headers[.range] != nil
            let first = wholeZip ? await d.waitUntilFinished() : await d.waitForFirstRelease()
            switch first.outcome {
            case .success(let meta)?:
                body = .file(d.file, size: meta.size)
                headers[.eTag] = meta.etag
                headers[.lastModified] = HTTPDate.format(meta.storedAt)
            case .failure(let e)?:
                return log.finish(ProxyResponder.error(e), endpoint: endpoint)
            case nil:
                break
            }
        }

        switch body {
        case .bytes(let buffer):
            headers[.acceptRanges] = "bytes"
            let size = Int64(buffer.readableBytes)
            switch rangeFor(request, size: size, etag: headers[.eTag], lastModified: served.lastModified) {
            case .unsatisfiable:
                return log.finish(Self.unsatisfiable(size), endpoint: endpoint)
            case .range(let r):
                headers[.contentRange] = "bytes \(r.start)-\(r.end)/\(size)"
                headers[.contentLength] = String(r.length)
                let slice = buffer.getSlice(at: buffer.readerIndex + Int(r.start), length: Int(r.length)) ?? ByteBuffer()
                return log.finish(Response(status: .partialContent, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: slice)), endpoint: endpoint)
            case .none:
                headers[.contentLength] = String(size)
                if let path = request.head.path, served.advisories.isEmpty {
                    hot?.remember(rawPath: path, served: served, headers: headers, endpoint: endpoint, download: log.download, module: log.module)
                }
                return log.finish(Response(status: .ok, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: buffer)), endpoint: endpoint)
            }

        case .file(let file, let size):
            headers[.acceptRanges] = "bytes"
            var status = HTTPResponse.Status.ok
            var range = ByteRange(start: 0, end: size - 1)
            switch rangeFor(request, size: size, etag: headers[.eTag], lastModified: served.lastModified) {
            case .unsatisfiable:
                return log.finish(Self.unsatisfiable(size), endpoint: endpoint)
            case .range(let r):
                status = .partialContent
                range = r
                headers[.contentRange] = "bytes \(r.start)-\(r.end)/\(size)"
            case .none:
                break
            }
            headers[.contentLength] = String(max(0, range.length))
            if status == .ok, let path = request.head.path, served.advisories.isEmpty {
                hot?.remember(rawPath: path, served: served, headers: headers, endpoint: endpoint, download: log.download, module: log.module)
            }
            if head || range.length <= 0 {
                return log.finish(Response(status: status, headers: headers), endpoint: endpoint)
            }
            log.bytes = range.length
            let pool = threadPool, pacer = self.pacer, zeroCopy = self.zeroCopy, channel = self.channel
            let (finalRange, finalStatus, line) = (range, status, log)
            return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(range.length)) { writer in
                let range = finalRange, status = finalStatus
                var offset = range.start
                do {
                    if zeroCopy, try await ZeroCopyFileBody.send(file, range: range, channel: channel) {
                        offset = range.end + 1
                    }
                    while offset <= range.end {
                        let count = Int(min(Self.chunkSize, range.end - offset + 1))
                        let chunk = try await file.readChunk(at: offset, count: count, pool: pool)
                        offset += Int64(chunk.readableBytes)
                        try await writer.write(chunk)
                        try await pacer.catchUp()
                    }
                    try await writer.finish(nil)
                    line.complete(endpoint: endpoint, status: Int(status.code))
                } catch {
                    // The client went away mid-body: nginx's 499, not a server fault.
                    line.complete(endpoint: endpoint, status: Self.clientClosedRequest, aborted: "client closed the connection")
                    throw error
                }
            })

        case .download(let download):
            if let length = download.snapshot.expectedLength { headers[.contentLength] = String(length) }
            if head {
                return log.finish(Response(status: .ok, headers: headers), endpoint: endpoint)
            }
            let pacer = self.pacer
            let released = ReleasedZipBytes(download, chunkSize: Int(Self.chunkSize), threadPool: threadPool)
            let length = download.snapshot.expectedLength.map { Int($0) }
            let line = log
            return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: length) { writer in
                var sent: Int64 = 0
                var log = line
                do {
                    // The engine decides what may be sent; this only copies it.
                    for try await chunk in released {
                        sent += Int64(chunk.readableBytes)
                        try await writer.write(chunk)
                        try await pacer.catchUp()
                    }
                    try await writer.finish(nil)
                    log.bytes = sent
                    log.complete(endpoint: endpoint, status: 200)
                } catch let e as ProxyError {
                    // Headers are gone already: cutting the connection is the only way to
                    // tell the client, and it never gets a complete bad zip.
                    log.bytes = sent
                    log.complete(endpoint: endpoint, status: e.statusCode, aborted: e.message)
                    throw e
                } catch let e as FileIOError {
                    // Warren could not read its own staging file: a server fault.
                    log.bytes = sent
                    log.complete(endpoint: endpoint, status: 500, aborted: "\(e)")
                    throw e
                } catch {
                    // Writing failed: the client closed the connection (nginx's 499). Not
                    // a 5xx: the download goes on for the others and for the cache.
                    log.bytes = sent
                    log.complete(endpoint: endpoint, status: Self.clientClosedRequest, aborted: "client closed the connection")
                    throw error
                }
            })
        }
    }

    /// The status logged and counted for a client that closed the connection before its
    /// answer was complete, as nginx does.
    static let clientClosedRequest = 499

    /// RFC 9110 §13.1.1 and §13.1.4, evaluated first (§13.2.2): If-Match compares strong
    /// tags (a weak tag never matches; `*` matches whatever exists), and only in its absence
    /// is If-Unmodified-Since looked at.
    static func preconditionFails(_ request: Request, etag: String?, lastModified: Double?) -> Bool {
        if let ifMatch = request.headers[.ifMatch] {
            let tags = ifMatch.split(separator: ",").map { $0.trimmingSpaces() }
            if tags.contains("*") { return false }
            guard let etag else { return true }
            return !tags.contains { $0 == etag }
        }
        if let ius = request.headers[.ifUnmodifiedSince], let since = HTTPDate.parse(ius), let lastModified {
            return lastModified.rounded(.down) > since
        }
        return false
    }

    /// RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since. A date in the future
    /// is not a valid If-Modified-Since (§13.1.3) and is ignored.
    static func notModified(_ request: Request, etag: String?, lastModified: Double?, now: Double = Date().timeIntervalSince1970) -> Bool {
        if let inm = request.headers[.ifNoneMatch] {
            guard let etag else { return false }
            return inm.split(separator: ",").contains { tag in
                let t = tag.trimmingSpaces()
                return t == "*" || t == etag || t == "W/" + etag
            }
        }
        if let ims = request.headers[.ifModifiedSince], let since = HTTPDate.parse(ims), let lastModified, since <= now {
            return lastModified.rounded(.down) <= since
        }
        return false
    }

    /// The range to serve, honouring If-Range (a range only if the validator still matches).
    func rangeFor(_ request: Request, size: Int64, etag: String?, lastModified: Double?) -> ByteRange.Parsed {
        guard let header = request.headers[.range] else { return .none }
        if let ifRange = request.headers[.ifRange] {
            let matches: Bool
            if ifRange.hasPrefix("\"") {
                matches = etag == ifRange
            } else if let date = HTTPDate.parse(ifRange), let lastModified {
                matches = lastModified.rounded(.down) == date
            } else {
                matches = false
            }
            if !matches { return .none }
        }
        return ByteRange.parse(header, size: size)
    }

    static func unsatisfiable(_ size: Int64) -> Response {
        var r = ProxyResponder.text(.rangeNotSatisfiable, "requested range not satisfiable")
        r.headers[.contentRange] = "bytes */\(size)"
        return r
    }
}
