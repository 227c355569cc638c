import Foundation

/// The feeds built from the metadata index, in the formats clients already read.
public enum IndexFeed {
    /// `/index?since=…&limit=…` as index.golang.org answers: one JSON object a line,
    /// `{"Path","Version","Timestamp"}`, oldest first. `since` is RFC 3339 (fractional
    /// seconds allowed); `limit` at most 2000, as index.golang.org allows.
    public static func indexLines(_ versions: [IndexedVersion]) -> String {
        versions.map { v in
            "{\"Path\":\(jsonString(v.module)),\"Version\":\(jsonString(v.version)),\"Timestamp\":\"\(timestamp(v.storedAt))\"}\n"
        }.joined()
    }

    /// `/catalog?token=…&pagesize=…` as Athens answers: `{"modules":[{"module","version"}],
    /// "next":token}`, the token naming where the next page starts ("" on the last page).
    ///
    /// `visible` leaves out entries the caller may not see; paging still follows the
    /// whole index, so a page may hold fewer entries than asked for.
    public static func catalogJSON(_ versions: [IndexedVersion], pageSize: Int, visible: (String) -> Bool = { _ in true }) -> String {
        let items = versions.filter { visible($0.module) }
            .map { "{\"module\":\(jsonString($0.module)),\"version\":\(jsonString($0.version))}" }
        let next = versions.count == pageSize ? versions.last.map { catalogToken($0.module, $0.version) } ?? "" : ""
        return "{\"modules\":[\(items.joined(separator: ","))],\"next\":\(jsonString(next))}\n"
    }

    /// A catalog token: `module@version` of the last entry given.
    public static func catalogToken(_ module: String, _ version: String) -> String { module + "@" + version }

    public static func parseCatalogToken(_ token: String) -> (module: String, version: String)? {
        guard let at = token.lastIndex(of: "@") else { return nil }
        let module = String(token[..<at]), version = String(token[token.index(after: at)...])
        return module.isEmpty || version.isEmpty ? nil : (module, version)
    }

    /// RFC 3339 in UTC with microseconds (`2019-04-10T19:08:52.997264Z`), cut rather
    /// than rounded, so a timestamp given back as `since` includes its own entry.
    public static func timestamp(_ seconds: Double) -> String {
        var whole = time_t(floor(seconds))
        let micros = min(999_999, Int(((seconds - floor(seconds)) * 1_000_000).rounded(.down)))
        var parts = tm()
        gmtime_r(&whole, &parts)
        func pad(_ n: Int, _ width: Int) -> String {
            let d = String(n)
            return String(repeating: "0", count: max(0, width - d.count)) + d
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(micros, 6))Z"
    }

    /// Seconds since 1970 from RFC 3339 text in UTC (`Z`), with or without fractional
    /// seconds; nil for anything else.
    public static func parseTimestamp(_ text: String) -> Double? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var n = 0
            for c in b[from..<(from + count)] {
                guard c >= 0x30 && c <= 0x39 else { return nil }
                n = n * 10 + Int(c - 0x30)
            }
            return n
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i == b.count - 1, b[i] == UInt8(ascii: "Z") else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Double(timegm(&parts)) + fraction
    }

    static func jsonString(_ s: String) -> String { JSONString.quoted(s) }
}
