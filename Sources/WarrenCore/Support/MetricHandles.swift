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

    public static func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        return counters.withLock { map in
            if let c = map[key] { return c }
            let c = Counter(label: label, dimensions: dimensions)
            map[key] = c
            return c
        }
    }

    public static func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        let key = Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        return timers.withLock { map in
            if let t = map[key] { return t }
            let t = Timer(label: label, dimensions: dimensions)
            map[key] = t
            return t
        }
    }
}
