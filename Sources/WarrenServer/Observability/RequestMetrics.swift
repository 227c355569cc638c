import Metrics
import WarrenCore

/// The per-request metric handles of one endpoint and status. Looking them up costs a
/// lock and a few allocations, so the hot path keeps one ready per answer.
struct RequestMetrics: Sendable {
    let requests: Counter
    let duration: Timer
    let bytesServed: Counter

    init(endpoint: String, status: Int) {
        requests = MetricHandles.counter("warren_http_requests_total", [("endpoint", endpoint), ("status", String(status))])
        duration = MetricHandles.timer("warren_http_request_duration_seconds", [("endpoint", endpoint)])
        bytesServed = MetricHandles.counter("warren_http_bytes_served_total", [("endpoint", endpoint)])
    }

    func record(nanoseconds: Int64, bytes: Int64?) {
        requests.increment()
        duration.recordNanoseconds(nanoseconds)
        if let bytes, bytes > 0 { bytesServed.increment(by: bytes) }
    }
}
