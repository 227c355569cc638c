import Foundation
import Prometheus
import Synchronization

/// What this process's metrics read at one moment, parsed back from the Prometheus
/// exposition it serves at `/metrics`: the console's status page shows the same numbers
/// an operator's Prometheus would scrape, not a second bookkeeping that could disagree.
struct MetricsSnapshot: Sendable {
    struct Series: Sendable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let series: [Series]
    let time: ContinuousClock.Instant

    init(registry: PrometheusCollectorRegistry, time: ContinuousClock.Instant = .now) {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        self.init(text: String(decoding: buffer, as: UTF8.self), time: time)
    }

    init(text: String, time: ContinuousClock.Instant = .now) {
        var out: [Series] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if let s = Self.parse(line) { out.append(s) }
        }
        series = out
        self.time = time
    }

    /// `name{a="b",c="d"} 1.5` (the exposition format's label values escape `\`, `"` and
    /// newlines).
    static func parse(_ line: Substring) -> Series? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let head = line[..<space]
        guard let brace = head.firstIndex(of: "{") else { return Series(name: String(head), labels: [:], value: value) }
        var labels: [String: String] = [:]
        var i = head.index(after: brace)
        while i < head.endIndex, head[i] != "}" {
            guard let eq = head[i...].firstIndex(of: "=") else { return nil }
            let key = String(head[i..<eq])
            var j = head.index(eq, offsetBy: 2, limitedBy: head.endIndex) ?? head.endIndex
            var text = ""
            while j < head.endIndex, head[j] != "\"" {
                if head[j] == "\\", head.index(after: j) < head.endIndex {
                    j = head.index(after: j)
                    text.append(head[j] == "n" ? "\n" : head[j])
                } else {
                    text.append(head[j])
                }
                j = head.index(after: j)
            }
            labels[key] = text
            i = head.index(after: j)
            if i < head.endIndex, head[i] == "," { i = head.index(after: i) }
        }
        return Series(name: String(head[..<brace]), labels: labels, value: value)
    }

    /// The sum over series of `name` whose labels include `matching`.
    func sum(_ name: String, _ matching: [String: String] = [:]) -> Double {
        series.lazy.filter { s in s.name == name && matching.allSatisfy { k, v in s.labels[k] == v } }.reduce(0) { $0 + $1.value }
    }

    /// The sum over series of `name`, grouped by one label's values.
    func sum(_ name: String, by label: String, where keep: ([String: String]) -> Bool = { _ in true }) -> [String: Double] {
        var out: [String: Double] = [:]
        for s in series where s.name == name && keep(s.labels) {
            out[s.labels[label] ?? "", default: 0] += s.value
        }
        return out
    }
}

/// Snapshots taken when the status page is shown, so it can report rates over the last
/// minutes without a background task: the rate is the change since the oldest snapshot
/// kept (at most five minutes old), or since the process started.
final class MetricsHistory: Sendable {
    private let snapshots: Mutex<[MetricsSnapshot]>
    static let window: Duration = .seconds(300)

    init(start: MetricsSnapshot) {
        snapshots = Mutex([start])
    }

    /// Adds `now` and returns the snapshot to compare it with.
    func record(_ now: MetricsSnapshot) -> MetricsSnapshot {
        snapshots.withLock { kept in
            while kept.count > 1, now.time - kept[1].time > Self.window { kept.removeFirst() }
            let base = kept.first(where: { now.time - $0.time <= Self.window && now.time - $0.time >= .seconds(1) }) ?? kept[0]
            if let last = kept.last, now.time - last.time >= .seconds(5) { kept.append(now) }
            if kept.count > 120 { kept.removeFirst(kept.count - 120) }
            return base
        }
    }
}
