import Metrics
import Synchronization

/// Module popularity for dashboards, with bounded cardinality: a gauge
/// `warren_module_downloads{module, version}` for the ten most downloaded versions only
/// (from the index, so every replica's downloads count), never a label per module on a
/// counter. Versions that leave the ten have their series removed.
public final class TopModulesGauge: Sendable {
    public static let size = 10
    private let current = Mutex<[String: Gauge]>([:])

    public init() {}

    /// Sets the gauges to the index's most downloaded versions now.
    public func refresh(from index: any MetadataIndex) async throws {
        let top = try await index.mostDownloaded(limit: Self.size)
        let gone = current.withLock { gauges -> [Gauge] in
            var next: [String: Gauge] = [:]
            for v in top {
                let key = v.module + "@" + v.version
                let gauge = gauges[key] ?? Gauge(label: "warren_module_downloads", dimensions: [("module", v.module), ("version", v.version)])
                gauge.record(v.downloads)
                next[key] = gauge
            }
            let removed = gauges.filter { next[$0.key] == nil }.map(\.value)
            gauges = next
            return removed
        }
        for gauge in gone { gauge.destroy() }
    }
}
