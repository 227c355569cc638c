import Foundation

/// `warren bench` results as a terminal table, Markdown or one self-contained HTML page.
/// Inconsistencies always come first: a fast proxy serving the wrong bytes is the news.
public enum BenchRenderers {
    static func ms(_ v: Double?) -> String {
        guard let v else { return "-" }
        return v < 10 ? String(format: "%.1f", v) : String(format: "%.0f", v)
    }

    static func failures(_ f: [String: Int]) -> String {
        f.isEmpty ? "0" : f.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }

    /// Rows: proxy, endpoint, count, first-byte p50, p50, p90, p99, max, cold p50, warm p50.
    static func rows(_ r: BenchResult) -> [[String]] {
        var rows: [[String]] = []
        for s in r.stats {
            for e in s.endpoints {
                rows.append([s.proxy, e.endpoint, "\(e.total?.count ?? 0)", ms(e.firstByte?.p50), ms(e.total?.p50), ms(e.total?.p90), ms(e.total?.p99),
                             ms(e.total?.max), ms(e.cold?.p50), ms(e.warm?.p50)])
            }
        }
        return rows
    }

    static let header = ["proxy", "endpoint", "ok", "ttfb p50", "p50 ms", "p90 ms", "p99 ms", "max ms", "cold p50", "warm p50"]

    static func headline(_ r: BenchResult) -> String {
        "\(r.items.count) module version\(r.items.count == 1 ? "" : "s") × \(r.proxies.count) prox\(r.proxies.count == 1 ? "y" : "ies") × \(r.repetitions) repetition\(r.repetitions == 1 ? "" : "s"), concurrency \(r.concurrency), \(String(format: "%.1f", r.wallSeconds)) s"
    }

    public static func text(_ r: BenchResult, style: TerminalStyle) -> String {
        var out = style.bold("warren bench") + ": " + headline(r) + "\n\n"
        out += consistencyText(r, style: style)
        let table = [header] + rows(r)
        let widths = (0..<header.count).map { c in table.map { $0[c].count }.max() ?? 0 }
        for (n, row) in table.enumerated() {
            let line = row.enumerated().map { c, cell in c < 2 ? TerminalStyle.pad(cell, widths[c]) : String(repeating: " ", count: widths[c] - cell.count) + cell }
                .joined(separator: "  ")
            out += (n == 0 ? style.bold(line) : line) + "\n"
        }
        out += "\n"
        for s in r.stats {
            out += "\(s.proxy): \(s.requests) requests, failures: \(failures(s.failures)), \(String(format: "%.2f", Double(s.bytes) / 1e6)) MB"
                + (s.zipThroughputMBps.map { String(format: ", zip %.1f MB/s", $0) } ?? "") + style.dim(" (cold/warm by \(s.coldWarmBasis))") + "\n"
        }
        return out
    }

    static func consistencyText(_ r: BenchResult, style: TerminalStyle) -> String {
        var out = ""
        if r.inconsistencies.isEmpty {
            out += style.green("✓ every proxy served the same lists, .info versions, .mod and .zip hashes") + "\n"
        } else {
            out += style.red("✗ \(r.inconsistencies.count) inconsistenc\(r.inconsistencies.count == 1 ? "y" : "ies") — the most important finding:") + "\n"
            for i in r.inconsistencies {
                out += "  " + style.red(i.summary) + "\n"
                for (k, v) in i.values.sorted(by: { $0.key < $1.key }) { out += "      \(k): \(v)\n" }
            }
        }
        if let db = r.checksumDatabase { out += style.dim("checksum database \(db): \(r.checksumDatabaseNote ?? "")") + "\n" }
        return out + "\n"
    }

    public static func markdown(_ r: BenchResult) -> String {
        var out = "# warren bench\n\n\(headline(r)), started \(r.startedAt).\n\n## Consistency\n\n"
        if r.inconsistencies.isEmpty {
            out += "Every proxy served the same version lists, `.info` versions, `.mod` and `.zip` hashes.\n"
        } else {
            for i in r.inconsistencies {
                out += "- **\(i.summary)**\n"
                for (k, v) in i.values.sorted(by: { $0.key < $1.key }) { out += "  - \(k): `\(v)`\n" }
            }
        }
        if let db = r.checksumDatabase { out += "\nChecksum database \(db): \(r.checksumDatabaseNote ?? "").\n" }
        out += "\n## Latency\n\n| " + header.joined(separator: " | ") + " |\n|" + header.map { _ in "---" }.joined(separator: "|") + "|\n"
        for row in rows(r) { out += "| " + row.joined(separator: " | ") + " |\n" }
        out += "\n## Per proxy\n\n| proxy | requests | failures | MB | zip MB/s | cold/warm by |\n|---|---|---|---|---|---|\n"
        for s in r.stats {
            out += "| \(s.proxy) | \(s.requests) | \(failures(s.failures)) | \(String(format: "%.2f", Double(s.bytes) / 1e6)) | \(s.zipThroughputMBps.map { String(format: "%.1f", $0) } ?? "-") | \(s.coldWarmBasis) |\n"
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// One page, no scripts and nothing fetched: inline CSS and SVG bar charts (p50 bar,
    /// p90 whisker) per endpoint, one colour per proxy.
    public static func html(_ r: BenchResult) -> String {
        let colors = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030"]
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>warren bench</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2em;color:#1a202c;max-width:1100px}
        table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #cbd5e0;padding:4px 8px;text-align:right}
        td:first-child,td:nth-child(2),th{text-align:left}th{background:#edf2f7}
        .bad{color:#c53030;font-weight:bold}.good{color:#2f855a;font-weight:bold}
        .chart{display:inline-block;margin:0 1.5em 1.5em 0;vertical-align:top}.legend span{margin-right:1.5em}
        code{background:#edf2f7;padding:1px 4px}
        </style></head><body>
        <h1>warren bench</h1>
        <p>\(escape(headline(r))), started \(escape(r.startedAt)).</p>
        <h2>Consistency</h2>

        """
        if r.inconsistencies.isEmpty {
            out += "<p class=\"good\">Every proxy served the same version lists, .info versions, .mod and .zip hashes.</p>\n"
        } else {
            out += "<ul id=\"inconsistencies\">\n"
            for i in r.inconsistencies {
                out += "<li class=\"bad\">\(escape(i.summary))<ul>"
                for (k, v) in i.values.sorted(by: { $0.key < $1.key }) { out += "<li>\(escape(k)): <code>\(escape(v))</code></li>" }
                out += "</ul></li>\n"
            }
            out += "</ul>\n"
        }
        if let db = r.checksumDatabase { out += "<p>Checksum database \(escape(db)): \(escape(r.checksumDatabaseNote ?? "")).</p>\n" }
        out += "<h2>Latency by endpoint</h2>\n<p class=\"legend\">"
        for (i, p) in r.proxies.enumerated() {
            out += "<span><svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\"\(colors[i % colors.count])\"/></svg> \(escape(p))</span>"
        }
        out += "</p>\n"
        for e in BenchEndpoint.allCases {
            let values = r.stats.map { s in s.endpoints.first { $0.endpoint == e.rawValue }?.total }
            guard values.contains(where: { $0 != nil }) else { continue }
            let top = max(1, values.compactMap { $0?.p90 }.max() ?? 1)
            let barHeight = 22, gap = 8, width = 300, labelWidth = 170
            let height = values.count * (barHeight + gap) + 24
            out += "<div class=\"chart\"><h3>\(e.rawValue)</h3><svg class=\"bars\" width=\"\(width + labelWidth + 10)\" height=\"\(height)\" role=\"img\" aria-label=\"\(e.rawValue) latency\">\n"
            for (i, v) in values.enumerated() {
                let y = i * (barHeight + gap)
                let p50 = v?.p50 ?? 0, p90 = v?.p90 ?? 0
                let w = Int(Double(width) * p50 / top), w90 = Int(Double(width) * p90 / top)
                out += "<rect x=\"0\" y=\"\(y)\" width=\"\(max(1, w))\" height=\"\(barHeight)\" fill=\"\(colors[i % colors.count])\"><title>\(escape(r.proxies[i])) p50 \(ms(v?.p50)) ms</title></rect>"
                out += "<line x1=\"\(w)\" y1=\"\(y + barHeight / 2)\" x2=\"\(max(w, w90))\" y2=\"\(y + barHeight / 2)\" stroke=\"#1a202c\"/>"
                out += "<text x=\"\(max(w, w90) + 6)\" y=\"\(y + barHeight - 6)\" font-size=\"12\">\(v == nil ? "failed" : "\(ms(v?.p50)) ms (p90 \(ms(v?.p90)))")</text>\n"
            }
            out += "<text x=\"0\" y=\"\(height - 6)\" font-size=\"11\" fill=\"#4a5568\">p50 bar, p90 whisker, milliseconds</text></svg></div>\n"
        }
        out += "<h2>Table</h2>\n<table id=\"latency\"><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in rows(r) { out += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
        out += "</table>\n<table id=\"proxies\"><tr><th>proxy</th><th>requests</th><th>failures</th><th>MB</th><th>zip MB/s</th><th>cold/warm by</th></tr>\n"
        for s in r.stats {
            out += "<tr><td>\(escape(s.proxy))</td><td>\(s.requests)</td><td>\(escape(failures(s.failures)))</td><td>\(String(format: "%.2f", Double(s.bytes) / 1e6))</td><td>\(s.zipThroughputMBps.map { String(format: "%.1f", $0) } ?? "-")</td><td>\(s.coldWarmBasis)</td></tr>\n"
        }
        out += "</table>\n</body></html>\n"
        return out
    }
}
