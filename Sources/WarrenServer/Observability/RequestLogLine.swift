import Hummingbird
import Logging
import WarrenCore

/// One log line and the request metrics per request, written when the response is
/// complete (for streamed bodies, when the last byte is sent or the transfer is cut).
/// The line goes to the `AccessLog` when there is one (`warren serve` always has one);
/// otherwise, as a swift-log record.
struct RequestLogLine: Sendable {
    let method: String
    let path: String
    let start: ContinuousClock.Instant
    let logger: Logger
    let accessLog: AccessLog?
    var cache: String?
    var bytes: Int64?
    /// Set for a zip request: counted as a download once a full answer (or a redirect
    /// to the bucket) has gone out.
    var download: DownloadMark?
    /// The module asked for (for the fast path's access checks).
    var module: String?
    /// Only some callers may have this answer (a rule protects the module): no shared
    /// caching.
    var restricted = false

    init(method: String, path: String, start: ContinuousClock.Instant, logger: Logger, accessLog: AccessLog?) {
        self.method = method
        self.path = path
        self.start = start
        self.logger = logger
        self.accessLog = accessLog
    }

    /// Records a response whose body is already known, and returns it.
    func finish(_ response: Response, endpoint: String) -> Response {
        var copy = self
        if copy.bytes == nil, let length = response.headers[.contentLength].flatMap({ Int64($0) }) {
            copy.bytes = method == "HEAD" ? 0 : length
        }
        copy.complete(endpoint: endpoint, status: Int(response.status.code))
        return response
    }

    func complete(endpoint: String, status: Int, aborted: String? = nil, metrics: RequestMetrics? = nil) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        let tenths = nanoseconds / 100_000
        if let accessLog {
            accessLog.record(method: method, path: path, status: status, tenthsOfMilliseconds: tenths, cache: cache,
                             bytes: bytes, aborted: aborted)
        } else if logger.logLevel <= .info {
            var metadata: Logger.Metadata = [
                "method": "\(method)", "path": "\(path)", "status": "\(status)",
                "ms": "\(tenths / 10).\(tenths % 10)",
            ]
            if let cache { metadata["cache"] = "\(cache)" }
            if let bytes { metadata["bytes"] = "\(bytes)" }
            if let aborted { metadata["aborted"] = "\(aborted)" }
            logger.info("request", metadata: metadata)
        }
        (metrics ?? RequestMetrics(endpoint: endpoint, status: status)).record(nanoseconds: nanoseconds, bytes: bytes)
        if let download, aborted == nil, method == "GET", status == 200 || status == 302 {
            download.tally.count(module: download.module, version: download.version)
        }
    }
}

/// A zip download to count in the tally that feeds the metadata index.
struct DownloadMark: Sendable {
    let tally: DownloadTally
    let module: String
    let version: String
}
