import Dispatch
import Synchronization
import WarrenCore
#if canImport(Glibc)
import Glibc
#endif

/// The one-line-per-request log, written so that it costs the request almost nothing.
///
/// Going through swift-log cost more than serving a cached `.info` itself: a metadata
/// dictionary per request, a sorted, formatted line, and a `write` to standard error on
/// the event loop — throughput halved with logs on. Here a line is formatted straight
/// into bytes (same text and JSON shapes as the other log lines), appended to a buffer
/// under a lock, and written by a queue of its own: when 64 KiB have gathered, and at
/// least every 100 ms, like nginx's `access_log … buffer=64k flush=100ms`. `flush()`
/// writes what is left (at shutdown).
public final class AccessLog: Sendable {
    public enum Format: Sendable { case text, json }

    public let format: Format
    /// False below `info`: nothing is formatted at all. A reload of `log-level` moves it.
    public var enabled: Bool { isEnabled.load(ordering: .relaxed) }
    private let isEnabled: Atomic<Bool>
    private let descriptor: Int32
    private let pending = Mutex<[UInt8]>([])
    private let queue = DispatchQueue(label: "warren.access-log")
    private let flushInterval: DispatchTimeInterval
    static let flushBytes = 64 * 1024

    public init(format: Format, enabled: Bool, descriptor: Int32 = 2, flushInterval: DispatchTimeInterval = .milliseconds(100)) {
        self.format = format
        self.isEnabled = Atomic(enabled)
        self.descriptor = descriptor
        self.flushInterval = flushInterval
        scheduleFlush()
    }

    public func setEnabled(_ enabled: Bool) {
        isEnabled.store(enabled, ordering: .relaxed)
    }

    /// Every `flushInterval`, on the log's own queue, what has gathered is written; the
    /// chain ends with the log.
    private func scheduleFlush() {
        queue.asyncAfter(deadline: .now() + flushInterval) { [weak self] in
            guard let self else { return }
            Self.write(self.takePending(), to: self.descriptor)
            self.scheduleFlush()
        }
    }

    private func takePending() -> [UInt8] {
        pending.withLock { buffer in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
    }

    /// One request: the same fields, in the same order, as the text log handler gives.
    func record(method: String, path: String, status: Int, tenthsOfMilliseconds: Int64, cache: String?, bytes: Int64?,
                aborted: String?) {
        guard enabled else { return }
        var line: [UInt8] = []
        line.reserveCapacity(160 + path.utf8.count)
        switch format {
        case .text:
            Self.appendTimestamp(&line)
            line.append(contentsOf: " INFO request".utf8)
            if let aborted { Self.textField(&line, "aborted", aborted) }
            if let bytes { Self.numberField(&line, " bytes=", bytes) }
            if let cache { Self.textField(&line, "cache", cache) }
            Self.textField(&line, "method", method)
            line.append(contentsOf: " ms=".utf8)
            Self.appendMilliseconds(&line, tenthsOfMilliseconds)
            Self.textField(&line, "path", path)
            Self.numberField(&line, " status=", Int64(status))
        case .json:
            line.append(UInt8(ascii: "{"))
            if let aborted { Self.jsonField(&line, "aborted", aborted) }
            if let bytes { Self.jsonField(&line, "bytes", String(bytes)) }
            if let cache { Self.jsonField(&line, "cache", cache) }
            Self.jsonField(&line, "level", "info")
            Self.jsonField(&line, "method", method)
            Self.jsonField(&line, "ms", Self.milliseconds(tenthsOfMilliseconds))
            Self.jsonField(&line, "msg", "request")
            Self.jsonField(&line, "path", path)
            Self.jsonField(&line, "status", String(status))
            var time: [UInt8] = []
            Self.appendTimestamp(&time)
            Self.jsonField(&line, "time", String(decoding: time, as: UTF8.self), last: true)
            line.append(UInt8(ascii: "}"))
        }
        line.append(10)
        let full = pending.withLock { buffer -> [UInt8]? in
            buffer.append(contentsOf: line)
            guard buffer.count >= Self.flushBytes else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if let full {
            let fd = descriptor
            queue.async { Self.write(full, to: fd) }
        }
    }

    /// Writes everything recorded so far, and waits until it is written.
    public func flush() {
        queue.sync { Self.write(takePending(), to: descriptor) }
    }

    private static func write(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                return  // a closed or full log must not stop the server
            }
            offset += n
        }
    }

    // MARK: Formatting, by hand: this runs for every request.

    static func milliseconds(_ tenths: Int64) -> String {
        var out: [UInt8] = []
        appendMilliseconds(&out, tenths)
        return String(decoding: out, as: UTF8.self)
    }

    /// `12.3` from 123 tenths of a millisecond, without making strings.
    static func appendMilliseconds(_ out: inout [UInt8], _ tenths: Int64) {
        appendInteger(&out, tenths / 10)
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(tenths % 10))
    }

    /// `prefix` and a whole number, straight into the line.
    static func numberField(_ out: inout [UInt8], _ prefix: StaticString, _ value: Int64) {
        prefix.withUTF8Buffer { out.append(contentsOf: $0) }
        appendInteger(&out, value)
    }

    static func appendInteger(_ out: inout [UInt8], _ value: Int64) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            appendInteger(&out, value == Int64.min ? Int64.max : -value)
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            } while v > 0
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[i]) }
        }
    }

    /// `2026-12-01T21:13:52.361Z`, as the other log lines print it.
    static func appendTimestamp(_ out: inout [UInt8]) {
        var t = timeval()
        gettimeofday(&t, nil)
        var seconds = t.tv_sec
        var tm = tm()
        gmtime_r(&seconds, &tm)
        appendDigits(&out, Int(tm.tm_year) + 1900, 4)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, Int(tm.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, Int(tm.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        appendDigits(&out, Int(tm.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, Int(tm.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, Int(tm.tm_sec), 2)
        out.append(UInt8(ascii: "."))
        appendDigits(&out, Int(t.tv_usec / 1000), 3)
        out.append(UInt8(ascii: "Z"))
    }

    static func appendDigits(_ out: inout [UInt8], _ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8((v / divisor) % 10))
            v %= divisor
            divisor /= 10
        }
    }

    /// ` key=value`, quoted (with `"` and `\` escaped) when the value has a space, a quote
    /// or nothing at all; control characters become `?`, so a line stays one line.
    static func textField(_ out: inout [UInt8], _ key: StaticString, _ value: String) {
        out.append(UInt8(ascii: " "))
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "="))
        let quote = value.isEmpty || value.utf8.contains { $0 == 0x20 || $0 == 0x22 }
        if quote { out.append(0x22) }
        for b in value.utf8 {
            if b < 0x20 || b == 0x7F {
                out.append(UInt8(ascii: "?"))
            } else {
                if quote && (b == 0x22 || b == 0x5C) { out.append(0x5C) }
                out.append(b)
            }
        }
        if quote { out.append(0x22) }
    }

    /// `"key":"value",` with JSON string escaping.
    static func jsonField(_ out: inout [UInt8], _ key: StaticString, _ value: String, last: Bool = false) {
        out.append(0x22)
        key.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: "\":".utf8)
        JSONString.append(value, to: &out)
        if !last { out.append(UInt8(ascii: ",")) }
    }
}
