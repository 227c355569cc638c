import Foundation
import Logging
import Synchronization

/// One log record per line on standard error, as text (`time level message key=value`)
/// or JSON — what container platforms and log shippers expect.
struct LineLogHandler: LogHandler {
    let label: String
    let json: Bool
    /// A level set on this logger alone (a quieter copy for a library); nil: the process's
    /// level, which a reload of `log-level` changes for every logger at once.
    var ownLevel: Logger.Level?
    var metadata: Logger.Metadata = [:]

    static let processLevel = Atomic<Int>(Logger.Level.allCases.firstIndex(of: .info) ?? 2)

    static func setProcessLevel(_ level: Logger.Level) {
        processLevel.store(Logger.Level.allCases.firstIndex(of: level) ?? 2, ordering: .relaxed)
    }

    init(label: String, json: Bool) {
        self.label = label
        self.json = json
    }

    var logLevel: Logger.Level {
        get { ownLevel ?? Logger.Level.allCases[Self.processLevel.load(ordering: .relaxed)] }
        set { ownLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let time = Self.timestamp()
        var line: String
        if json {
            var object: [String: String] = ["time": time, "level": event.level.rawValue, "msg": "\(event.message)"]
            for (k, v) in all { object[k] = "\(v)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = "\(time) \(event.level.rawValue.uppercased()) \(event.message)"
            for (k, v) in all.sorted(by: { $0.key < $1.key }) {
                let s = "\(v)"
                line += " \(k)=" + (s.contains(" ") || s.isEmpty ? "\"\(s)\"" : s)
            }
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func timestamp() -> String {
        var t = timeval()
        gettimeofday(&t, nil)
        var seconds = t.tv_sec
        var tm = tm()
        gmtime_r(&seconds, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec, Int(t.tv_usec / 1000))
    }
}
