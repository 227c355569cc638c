import Foundation
import Hummingbird
import WarrenCore

/// The status page: traffic and hit ratio from this replica's own metrics (the numbers
/// Prometheus scrapes), upstreams, checksum databases, storage, database and cache size.
extension Console {
    func status(_ caller: Caller) async -> Response {
        var content = "<h1>Status</h1>"
        if let metrics, let history {
            let now = MetricsSnapshot(registry: metrics.registry)
            let base = history.record(now)
            let seconds = max(0.001, Double((now.time - base.time).components.seconds) + Double((now.time - base.time).components.attoseconds) / 1e18)
            func rate(_ name: String, _ labels: [String: String] = [:]) -> Double {
                max(0, now.sum(name, labels) - base.sum(name, labels)) / seconds
            }
            let hits = now.sum("warren_cache_hits_total"), misses = now.sum("warren_cache_misses_total")
            let recentHits = hits - base.sum("warren_cache_hits_total"), recentMisses = misses - base.sum("warren_cache_misses_total")
            let ratio = { (h: Double, m: Double) in h + m > 0 ? ConsoleHTML.number(100 * h / (h + m)) + " %" : "–" }
            content += "<h2>Traffic on this replica</h2><p class=\"muted\">Rates over the last \(Int(seconds.rounded())) s; totals since it started.</p><div class=\"cards\">"
            content += ConsoleHTML.card("requests/s", ConsoleHTML.number(rate("warren_http_requests_total"), digits: 2), id: "requests-rate")
            content += ConsoleHTML.card("cache hit ratio (recent)", ratio(recentHits, recentMisses), id: "hit-ratio")
            content += ConsoleHTML.card("cache hit ratio (total)", ratio(hits, misses), id: "hit-ratio-total")
            content += ConsoleHTML.card("bytes served/s", ConsoleHTML.bytes(Int64(rate("warren_http_bytes_served_total"))), id: "bytes-rate")
            content += ConsoleHTML.card("bytes served", ConsoleHTML.bytes(Int64(now.sum("warren_http_bytes_served_total"))), id: "bytes-total")
            content += ConsoleHTML.card("requests", String(Int64(now.sum("warren_http_requests_total"))), id: "requests-total")
            content += ConsoleHTML.card("cold fetches (cache misses)", String(Int64(misses)), id: "cold-fetches")
            content += ConsoleHTML.card("open connections", String(Int64(now.sum("warren_client_connections"))), id: "connections")
            content += "</div>"
            content += upstreamTable(now: now, base: base)
            let mismatches = now.sum("warren_checksum_mismatches_total")
            content += checksumSection(now: now, mismatches: mismatches)
            content += webhookSection(now)
        } else {
            content += ConsoleHTML.notice("Metrics are off in this process, so traffic is not shown.", error: true)
        }
        content += await checksumHeads()
        content += await healthSection()
        content += await cacheSection()
        return page(caller, "Status", current: "status", content: content)
    }

    func upstreamTable(now: MetricsSnapshot, base: MetricsSnapshot) -> String {
        var out = "<h2>Upstreams</h2><table id=\"upstreams\"><thead><tr><th>Upstream</th><th class=\"num\">Requests</th><th class=\"num\">Errors</th>"
            + "<th class=\"num\">Recent errors</th><th class=\"num\">Mean latency</th><th class=\"num\">p95 (small)</th><th>Circuit</th><th>Health</th></tr></thead><tbody>"
        let names = proxy.upstreamNames
        guard !names.isEmpty else { return out + "<tr><td colspan=\"8\">none (hosted modules only)</td></tr></tbody></table>" }
        let circuits = Dictionary(proxy.upstreamHealth().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in names {
            let total = now.sum("warren_upstream_requests_total", ["upstream": name])
            // As the WarrenUpstreamFailing alert counts them: failures, timeouts and refusals.
            let answered = { (s: MetricsSnapshot) in
                s.sum("warren_upstream_requests_total", ["upstream": name])
                    - ["failed", "timeout", "refused"].reduce(0.0) { $0 + s.sum("warren_upstream_requests_total", ["upstream": name, "outcome": $1]) }
            }
            let ok = answered(now)
            let errors = total - ok
            let recentTotal = total - base.sum("warren_upstream_requests_total", ["upstream": name])
            let recentOK = ok - answered(base)
            let recentErrors = recentTotal - recentOK
            let sum = now.sum("warren_upstream_request_duration_seconds_sum", ["upstream": name])
            let count = now.sum("warren_upstream_request_duration_seconds_count", ["upstream": name])
            let health: String
            if recentTotal == 0 {
                health = "<span class=\"tag\">idle</span>"
            } else if recentErrors == 0 {
                health = "<span class=\"tag ok\">healthy</span>"
            } else if recentErrors < recentTotal {
                health = "<span class=\"tag bad\">failing sometimes</span>"
            } else {
                health = "<span class=\"tag bad\">failing</span>"
            }
            out += "<tr><td>\(HTMLText.escaped(name))</td><td class=\"num\">\(Int64(total))</td><td class=\"num\">\(Int64(errors))</td>"
                + "<td class=\"num\">\(Int64(recentErrors))</td><td class=\"num\">\(count > 0 ? ConsoleHTML.number(1000 * sum / count) + " ms" : "–")</td>"
                + "<td class=\"num\">\(circuits[name]?.p95.map { ConsoleHTML.number($0 / .milliseconds(1)) + " ms" } ?? "–")</td>"
                + "<td>\(circuits[name].map { $0.circuit == .closed ? "closed" : "<span class=\"tag bad\">\($0.circuit.rawValue)</span>" } ?? "–")</td><td>\(health)</td></tr>"
        }
        return out + "</tbody></table>"
    }

    /// Each webhook target's deliveries, from the metrics.
    func webhookSection(_ now: MetricsSnapshot) -> String {
        let targets = Set(now.series.filter { $0.name == "warren_webhook_deliveries_total" || $0.name == "warren_webhook_retries_total" }
            .compactMap { $0.labels["target"] }).sorted()
        guard !targets.isEmpty else { return "" }
        var out = "<h2>Webhooks</h2><table id=\"webhooks\"><thead><tr><th>Target</th><th class=\"num\">Delivered</th><th class=\"num\">Retries</th>"
            + "<th class=\"num\">Given up</th><th class=\"num\">Dropped (queue full)</th></tr></thead><tbody>"
        for target in targets {
            let count = { (result: String) in Int64(now.sum("warren_webhook_deliveries_total", ["target": target, "result": result])) }
            out += "<tr><td>\(HTMLText.escaped(target))</td><td class=\"num\">\(count("delivered"))</td>"
                + "<td class=\"num\">\(Int64(now.sum("warren_webhook_retries_total", ["target": target])))</td>"
                + "<td class=\"num\">\(count("failed"))</td><td class=\"num\">\(count("dropped"))</td></tr>"
        }
        return out + "</tbody></table>"
    }

    func checksumSection(now: MetricsSnapshot, mismatches: Double) -> String {
        let verified = now.sum("warren_checksum_verifications_total", ["result": "ok"])
        return "<h2>Checksum verification</h2><div class=\"cards\">"
            + ConsoleHTML.card("versions verified", String(Int64(verified)), id: "verified")
            + ConsoleHTML.card("mismatches refused", String(Int64(mismatches)), id: "mismatches")
            + "</div>"
    }

    /// The largest tree head known of the database modules are checked against (verified
    /// by any replica, or carried by an imported bundle), and Warren's own log's size.
    func checksumHeads() async -> String {
        var rows: [String] = []
        if let verifier = proxy.checksums?.verifier {
            let head = await verifier.knownHead()
            let carried = await verifier.carriedTreeHead()
            let source = carried != nil && carried == head ? " (carried by an imported bundle)" : ""
            rows.append("<tr><td>\(HTMLText.escaped(verifier.name))</td><td>verifies modules</td><td id=\"sumdb-head\">"
                + (head.map { "tree size \($0.size), hash <span class=\"hash\">\(Data($0.hash).base64EncodedString())</span>\(source)" } ?? "no tree head verified yet")
                + "</td></tr>")
        } else {
            rows.append("<tr><td>–</td><td>verification is off (--sumdb off)</td><td></td></tr>")
        }
        if let own = proxy.checksumLog {
            let size = try? await own.size()
            rows.append("<tr><td>\(HTMLText.escaped(own.name))</td><td>Warren's own log</td><td id=\"own-log\">"
                + (size.map { "\($0) records" } ?? "unavailable") + "</td></tr>")
        }
        return "<h2>Checksum databases</h2><table id=\"sumdbs\"><thead><tr><th>Database</th><th>Role</th><th>State</th></tr></thead><tbody>"
            + rows.joined() + "</tbody></table>"
    }

    func healthSection() async -> String {
        let storageProblem = await storage.readinessProblem()
        let indexProblem: String? = await index?.readinessProblem()
        func row(_ what: String, _ problem: String?, id: String) -> String {
            "<tr><td>\(what)</td><td id=\"\(id)\">" + (problem.map { "<span class=\"tag bad\">\(HTMLText.escaped($0))</span>" } ?? "<span class=\"tag ok\">ok</span>")
                + "</td></tr>"
        }
        var out = "<h2>Health</h2><table id=\"health\"><tbody>" + row("Storage", storageProblem, id: "storage-health")
        if index != nil { out += row("Database", indexProblem, id: "database-health") }
        return out + "</tbody></table>"
    }

    /// Cached zips against the quota (`--cache-max-size`).
    func cacheSection() async -> String {
        guard let index, let zips = try? await index.cachedZips() else { return "" }
        let hosted = proxy.configuration.hosted
        let cached = zips.filter { hosted.patterns.isEmpty || !hosted.matches($0.module) }
        let bytes = cached.reduce(Int64(0)) { $0 + ($1.zipSize ?? 0) }
        var out = "<h2>Cache</h2><p id=\"cache-size\">\(ConsoleHTML.bytes(bytes)) in \(cached.count) cached zips"
        let limits = cacheLimits()
        if let max = limits?.maxBytes, max > 0 {
            let percent = min(100, Double(bytes) * 100 / Double(max))
            out += " of a \(ConsoleHTML.bytes(max)) quota (\(ConsoleHTML.number(percent)) %)</p>"
                + "<meter id=\"quota\" min=\"0\" max=\"100\" value=\"\(ConsoleHTML.number(percent))\">\(ConsoleHTML.number(percent)) %</meter>"
        } else {
            out += "; no quota is set (--cache-max-size)</p>"
        }
        if let age = limits?.maxAge { out += "<p>Zips unused for \(Int(age)) s are evicted (--cache-max-age).</p>" }
        return out
    }
}
