import Foundation
import NIOCore

/// A complete one-line `text/plain` answer that ends the connection, written as raw bytes
/// below the HTTP encoder.
///
/// Used where there is no request the framework could answer: a request that could not
/// be parsed, one refused before routing (a missing or repeated Host, CONNECT), a header
/// that never completed, a connection over the cap. Writing the bytes directly keeps the
/// encoder's pairing of requests and responses out of it (it would drop the body of an
/// answer to CONNECT, which RFC 9110 allows for error statuses).
struct PlainAnswer: Sendable {
    var status: Int
    var reason: String
    var message: String
    var extraHeaders: [(String, String)] = []
    /// Answers to HEAD carry the headers only.
    var omitBody = false

    static func badRequest(_ message: String) -> PlainAnswer {
        PlainAnswer(status: 400, reason: "Bad Request", message: message)
    }

    func bytes(serverName: String = "warren") -> ByteBuffer {
        let body = message + "\n"
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        head += "Server: \(serverName)\r\n"
        head += "Date: \(HTTPDate.format(Date().timeIntervalSince1970))\r\n"
        head += "Content-Type: text/plain; charset=utf-8\r\n"
        head += "Content-Length: \(body.utf8.count)\r\n"
        head += "Cache-Control: no-store\r\n"
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        head += "Connection: close\r\n\r\n"
        var buffer = ByteBuffer(string: head)
        if !omitBody { buffer.writeString(body) }
        return buffer
    }
}
