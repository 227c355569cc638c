import Foundation
import GoModule

/// Latency percentiles of a set of requests, in milliseconds.
public struct LatencyStats: Sendable, Codable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double
    public var mean: Double

    /// Nearest-rank percentiles; nil for no samples.
    public static func of(_ values: [Double]) -> LatencyStats? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ p: Double) -> Double { sorted[Swift.max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1)] }
        return LatencyStats(count: sorted.count, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted[sorted.count - 1],
                            mean: sorted.reduce(0, +) / Double(sorted.count))
    }
}

/// The outcome of `warren bench`: per-proxy latencies and failures, and — first in
/// every report — any disagreement about what a module version contains.
public struct BenchResult: Sendable, Codable, Equatable {
    public struct EndpointStats: Sendable, Codable, Equatable {
        public var endpoint: String
        public var total: LatencyStats?
        public var firstByte: LatencyStats?
        /// Requests the proxy had not served before (a cache miss, or the first repetition).
        public var cold: LatencyStats?
        /// Requests it had (a cache hit, or a later repetition).
        public var warm: LatencyStats?
    }

    public struct ProxyStats: Sendable, Codable, Equatable {
        public var proxy: String
        public var requests: Int
        public var failures: [String: Int]
        public var bytes: Int
        /// Megabytes per second while downloading zips.
        public var zipThroughputMBps: Double?
        /// How cold and warm were told apart: `cache header` or `repetition`.
        public var coldWarmBasis: String
        public var endpoints: [EndpointStats]
    }

    public struct Inconsistency: Sendable, Codable, Equatable {
        /// `proxies-disagree`, `checksum-database`, `go.sum`, `unstable`.
        public var kind: String
        public var module: String
        public var endpoint: String
        public var summary: String
        /// Proxy (or source) → what it served.
        public var values: [String: String]
    }

    public var proxies: [String]
    public var items: [BenchItem]
    public var repetitions: Int
    public var concurrency: Int
    public var startedAt: String
    public var wallSeconds: Double
    public var checksumDatabase: String?
    public var checksumDatabaseNote: String?
    public var inconsistencies: [Inconsistency]
    public var stats: [ProxyStats]

    static func summarize(configuration c: BenchConfiguration, samples: [BenchSample], references: ChecksumReferences,
                          startedAt: Date, wallSeconds: Double) -> BenchResult {
        let names = c.proxies.map(ProxyList.redact)
        var stats: [ProxyStats] = []
        for (p, name) in names.enumerated() {
            let mine = samples.filter { $0.proxy == p }
            var failures: [String: Int] = [:]
            for s in mine { if let f = s.failure { failures[f, default: 0] += 1 } }
            let headerBased = mine.contains { $0.cache != nil }
            func isCold(_ s: BenchSample) -> Bool { headerBased ? s.cache == "miss" : s.repetition == 0 }
            func isWarm(_ s: BenchSample) -> Bool { headerBased ? s.cache == "hit" : s.repetition > 0 }
            var endpoints: [EndpointStats] = []
            for e in BenchEndpoint.allCases {
                let ok = mine.filter { $0.endpoint == e && $0.failure == nil }
                guard !mine.filter({ $0.endpoint == e }).isEmpty else { continue }
                endpoints.append(EndpointStats(
                    endpoint: e.rawValue, total: .of(ok.map(\.totalMs)), firstByte: .of(ok.compactMap(\.firstByteMs)),
                    cold: .of(ok.filter(isCold).map(\.totalMs)), warm: .of(ok.filter(isWarm).map(\.totalMs))))
            }
            let zips = mine.filter { $0.endpoint == .zip && $0.failure == nil }
            let zipSeconds = zips.map(\.totalMs).reduce(0, +) / 1000
            let zipBytes = zips.map(\.bytes).reduce(0, +)
            stats.append(ProxyStats(proxy: name, requests: mine.count, failures: failures, bytes: mine.map(\.bytes).reduce(0, +),
                                    zipThroughputMBps: zipSeconds > 0 ? Double(zipBytes) / 1e6 / zipSeconds : nil,
                                    coldWarmBasis: headerBased ? "cache header" : "repetition", endpoints: endpoints))
        }
        var note: String?
        if references.database != nil {
            if let why = references.unreachable {
                note = "not reachable: \(why)"
            } else {
                note = "records compared (signed tree head verified; inclusion proofs not checked)"
                    + (references.unknown.isEmpty ? "" : "; unknown to it: \(references.unknown.sorted().joined(separator: ", "))")
            }
        }
        let formatter = ISO8601DateFormatter()
        return BenchResult(proxies: names, items: c.items, repetitions: c.repetitions, concurrency: c.concurrency,
                           startedAt: formatter.string(from: startedAt), wallSeconds: wallSeconds,
                           checksumDatabase: references.database, checksumDatabaseNote: note,
                           inconsistencies: consistency(names: names, items: c.items, samples: samples, references: references),
                           stats: stats)
    }

    /// Every way the answers disagree: between proxies, with the checksum database,
    /// with go.sum, and within one proxy across repetitions.
    static func consistency(names: [String], items: [BenchItem], samples: [BenchSample], references: ChecksumReferences) -> [Inconsistency] {
        var out: [Inconsistency] = []
        for (i, item) in items.enumerated() {
            for e in BenchEndpoint.allCases {
                var served: [String: String] = [:]
                for (p, name) in names.enumerated() {
                    let prints = samples.filter { $0.proxy == p && $0.item == i && $0.endpoint == e }.compactMap(\.fingerprint)
                    guard let first = prints.first else { continue }
                    served[name] = first
                    if Set(prints).count > 1 {
                        out.append(Inconsistency(kind: "unstable", module: item.id, endpoint: e.rawValue,
                                                 summary: "\(name) served different \(e.rawValue) contents for \(item.id) across repetitions",
                                                 values: Dictionary(uniqueKeysWithValues: Set(prints).sorted().enumerated().map { ("answer \($0.offset + 1)", $0.element) })))
                    }
                }
                if Set(served.values).count > 1 {
                    let groups = Dictionary(grouping: served.keys, by: { served[$0] ?? "" })
                    let odd = groups.count == 2 ? groups.values.min { $0.count < $1.count }?.sorted() ?? [] : []
                    let who = odd.count == 1 && names.count > 2 ? "\(odd[0]) differs from the other proxies" : "the proxies disagree"
                    out.append(Inconsistency(kind: "proxies-disagree", module: item.id, endpoint: e.rawValue,
                                             summary: "\(item.id) \(e.rawValue): \(who)", values: served))
                }
                let reference: (String, String)?
                switch e {
                case .zip: reference = references.zip[item.id].map { (references.database ?? "checksum database", $0) }
                case .mod: reference = references.mod[item.id].map { (references.database ?? "checksum database", $0) }
                default: reference = nil
                }
                if let (source, want) = reference {
                    let wrong = served.filter { $0.value != want }
                    if !wrong.isEmpty {
                        out.append(Inconsistency(kind: "checksum-database", module: item.id, endpoint: e.rawValue,
                                                 summary: "\(item.id) \(e.rawValue) from \(wrong.keys.sorted().joined(separator: ", ")) does not match \(source)",
                                                 values: served.merging([source: want]) { a, _ in a }))
                    }
                }
                let goSum = e == .zip ? item.goSumZipHash : e == .mod ? item.goSumModHash : nil
                if let want = goSum {
                    let wrong = served.filter { $0.value != want }
                    if !wrong.isEmpty {
                        out.append(Inconsistency(kind: "go.sum", module: item.id, endpoint: e.rawValue,
                                                 summary: "\(item.id) \(e.rawValue) from \(wrong.keys.sorted().joined(separator: ", ")) does not match go.sum",
                                                 values: served.merging(["go.sum": want]) { a, _ in a }))
                    }
                }
            }
        }
        return out
    }
}
