import Hummingbird
import Logging
import Metrics
import WarrenCore

/// One log line and the request metrics per request, written when the response is
/// complete (for streamed bodies, when the last byte is sent or the transfer is cut).
struct RequestLogLine: Sendable {
    let method: String
    let path: String
    let start: ContinuousClock.Instant
    let logger: Logger
    var cache: String?
    var bytes: Int64?

    init(method: String, path: String, start: ContinuousClock.Instant, logger: Logger) {
        self.method = method
        self.path = path
        self.start = start
        self.logger = logger
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

    func complete(endpoint: String, status: Int, aborted: String? = nil) {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if logger.logLevel <= .info {
            var metadata: Logger.Metadata = [
                "method": "\(method)", "path": "\(path)", "status": "\(status)",
                "ms": "\(Int(seconds * 10_000) / 10).\(Int(seconds * 10_000) % 10)",
            ]
            if let cache { metadata["cache"] = "\(cache)" }
            if let bytes { metadata["bytes"] = "\(bytes)" }
            if let aborted { metadata["aborted"] = "\(aborted)" }
            logger.info("request", metadata: metadata)
        }

        let statusLabel = String(status)
        MetricHandles.counter("warren_http_requests_total", [("endpoint", endpoint), ("status", statusLabel)]).increment()
        MetricHandles.timer("warren_http_request_duration_seconds", [("endpoint", endpoint)])
            .recordNanoseconds(Int64(seconds * 1e9))
        if let bytes, bytes > 0 {
            MetricHandles.counter("warren_http_bytes_served_total", [("endpoint", endpoint)]).increment(by: bytes)
        }
    }
}
