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
        var bytes: [UInt8]
        var body: String { String(decoding: bytes, as: UTF8.self) }

        init(status: Int, headers: [String: String], bytes: [UInt8]) {
            self.status = status
            self.headers = headers
            self.bytes = bytes
        }

        init(status: Int, headers: [String: String], body: String) {
            self.init(status: status, headers: headers, bytes: Array(body.utf8))
        }
    }

    /// On a thread of its own: the upstream it may make Warren ask can be a server in
    /// this process, which needs the concurrency runtime's threads.
    static func get(port: Int, rawPath: String) async throws -> Reply {
        try await offThread { try getBlocking(port: port, rawPath: rawPath) }
    }

    static func getBlocking(port: Int, rawPath: String) throws -> Reply {
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
            replies.append(Reply(status: status, headers: headers, bytes: Array(body)))
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

    /// Writes `request` on a new connection and reads until the server closes it (30 s
    /// at most: never hang a test run).
    static func exchange(port: Int, _ request: [UInt8]) throws -> [UInt8] {
        let socket = try TestSocket(port: port)
        try socket.send(request)
        return socket.readToEnd(timeout: 30).bytes
    }
}
