import Metrics
import Synchronization

/// Reuses swift-metrics handles instead of creating one per event: creating a handle
/// goes through the metrics factory (locks, label building) and dominated the cost of
/// serving a cached `.info`.
public enum MetricHandles {
    private struct Key: Hashable {
        var label: String
        var dimensions: [String]
    }

    private static let counters = Mutex<[Key: Counter]>([:])
    private static let timers = Mutex<[Key: Timer]>([:])
    private static let gauges = Mutex<[Key: Gauge]>([:])

    public static func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        cached(counters, label, dimensions) { Counter(label: label, dimensions: dimensions) }
    }

    public static func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        cached(gauges, label, dimensions) { Gauge(label: label, dimensions: dimensions) }
    }

    public static func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        cached(timers, label, dimensions) { Timer(label: label, dimensions: dimensions) }
    }

    private static func cached<H>(_ store: borrowing Mutex<[Key: H]>, _ label: String, _ dimensions: [(String, String)],
                                  make: () -> H) -> H {
        let key = Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        return store.withLock { map in
            if let h = map[key] { return h }
            let h = make()
            map[key] = h
            return h
        }
    }
}

/// Cache hits and misses by endpoint, counted the same way wherever a request is answered.
public enum CacheMetrics {
    public static func count(_ endpoint: String, hit: Bool) {
        counter(endpoint, hit: hit).increment()
    }

    /// The handle itself, for callers that count the same thing again and again.
    public static func counter(_ endpoint: String, hit: Bool) -> Counter {
        MetricHandles.counter(hit ? "warren_cache_hits_total" : "warren_cache_misses_total", [("endpoint", endpoint)])
    }
}
