import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP client on loopback that behaves as badly as a test needs: sends partial
/// requests, never reads, shrinks its receive window. Blocking calls: use from
/// `offThread`.
final class TestSocket: @unchecked Sendable {
    let fd: Int32

    enum Received: Equatable {
        case data([UInt8])
        /// The server closed the connection (FIN).
        case closed
        /// The server reset the connection.
        case reset
        case timeout
    }

    /// Connects to 127.0.0.1:`port`. `receiveBuffer` is set before connecting, so the
    /// advertised window stays small (a client that reads slowly or not at all).
    /// `connectTimeout` bounds a connect the server's full backlog leaves hanging.
    init(port: Int, receiveBuffer: Int? = nil, connectTimeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var timeout = timeval(tv_sec: Int(connectTimeout), tv_usec: Int((connectTimeout - Double(Int(connectTimeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends everything, blocking as long as the server reads.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            offset += n
        }
    }

    /// Sends what the socket takes without blocking; returns how much that was.
    func sendWithoutBlocking(_ bytes: [UInt8]) -> Int {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if n <= 0 { break }
            offset += n
        }
        return offset
    }

    /// One read, waiting at most `timeout` seconds.
    func receive(timeout: Double) -> Received {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(timeout * 1000))
        guard ready > 0 else { return .timeout }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { return .data(Array(buffer[..<n])) }
        if n == 0 { return .closed }
        return errno == ECONNRESET ? .reset : .closed
    }

    /// Reads until the server closes the connection or `timeout` seconds pass; `ended`
    /// tells which.
    func readToEnd(timeout: Double) -> (bytes: [UInt8], ended: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var out: [UInt8] = []
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return (out, false) }
            switch receive(timeout: left) {
            case .data(let d): out += d
            case .closed, .reset: return (out, true)
            case .timeout: return (out, false)
            }
        }
    }

    /// Reads one response whose body is framed by Content-Length.
    func readResponse(timeout: Double) -> RawHTTP.Reply? {
        let deadline = Date().addingTimeInterval(timeout)
        var out: [UInt8] = []
        var headEnd: Int?
        var scanned = 0
        var head: (status: Int, headers: [String: String], length: Int)?
        while true {
            // Look for the blank line only in what is new (tests run unoptimised).
            if headEnd == nil, out.count >= 4 {
                var i = max(3, scanned)
                while i < out.count {
                    if out[i] == 10, out[i - 1] == 13, out[i - 2] == 10, out[i - 3] == 13 {
                        headEnd = i + 1
                        break
                    }
                    i += 1
                }
                scanned = i
                if let end = headEnd {
                    let (status, headers) = RawHTTP.parseHead(Substring(String(decoding: out[..<(end - 4)], as: UTF8.self)))
                    head = (status, headers, Int(headers["content-length"] ?? "0") ?? 0)
                }
            }
            if let end = headEnd, let head, out.count - end >= head.length {
                return RawHTTP.Reply(status: head.status, headers: head.headers, bytes: Array(out[end..<(end + head.length)]))
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0, case .data(let d) = receive(timeout: left) else { return nil }
            out.append(contentsOf: d)
        }
    }
}

/// What a test can read about a running process from /proc.
enum ProcessProbe {
    /// Open file descriptors.
    static func descriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// CPU time used so far (user + system), in seconds.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return -1 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return -1 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Polls `condition` until it holds or `timeout` seconds pass; false on timeout.
/// For conditions with no event to wait on (a descriptor count, a closed socket).
/// Blocks its thread: only inside `offThread`. Async code uses `eventuallyAsync`.
func eventually(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// `eventually` for async code: sleeps between polls without holding one of the
/// concurrency runtime's few threads (servers in this process need them).
func eventuallyAsync(timeout: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
