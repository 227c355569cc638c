import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Sends a request line exactly as given — no client-side normalisation or escaping —
/// so that hostile paths reach the server byte for byte.
enum RawHTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    static func get(port: Int, rawPath: String) throws -> Reply {
        let request = "GET \(rawPath) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        let text = String(decoding: try exchange(port: port, Array(request.utf8)), as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw POSIXError(.EPROTO) }
        let (status, headers) = parseHead(text[..<split.lowerBound])
        return Reply(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    /// Sends several GET requests in one write (HTTP/1.1 pipelining), the last with
    /// `Connection: close`, and splits the answers by Content-Length, in arrival order.
    ///
    /// The socket is read on a Dispatch thread, not the test's cooperative pool: the
    /// upstream being waited for runs on that pool, in this same process.
    static func pipelined(port: Int, paths: [String]) async throws -> [Reply] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try pipelinedBlocking(port: port, paths: paths) })
            }
        }
    }

    private static func pipelinedBlocking(port: Int, paths: [String]) throws -> [Reply] {
        var request = ""
        for (i, path) in paths.enumerated() {
            request += "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (i == paths.count - 1 ? "Connection: close\r\n" : "") + "\r\n"
        }
        var rest = try exchange(port: port, Array(request.utf8))[...]
        var replies: [Reply] = []
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while !rest.isEmpty {
            guard let end = rest.firstRange(of: separator) else { throw POSIXError(.EPROTO) }
            let (status, headers) = parseHead(Substring(String(decoding: rest[..<end.lowerBound], as: UTF8.self)))
            let length = Int(headers["content-length"] ?? "0") ?? 0
            let body = rest[end.upperBound...].prefix(length)
            replies.append(Reply(status: status, headers: headers, body: String(decoding: body, as: UTF8.self)))
            rest = rest[(end.upperBound + body.count)...]
        }
        return replies
    }

    static func parseHead(_ head: Substring) -> (Int, [String: String]) {
        let lines = head.components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (status, headers)
    }

    /// Writes `request` on a new connection and reads until the server closes it.
    static func exchange(port: Int, _ request: [UInt8]) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)  // never hang a test run
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: buffer[..<n])
        }
        return response
    }
}
