import Foundation
import Testing

/// HTTP/1 connection rules and request limits, as a strict client or an attacker sees
/// them: every refusal is a status with one line of text, on the fast path too.
@Suite struct ConnectionSemanticsTests {
    let fixture = ModuleFixture.shared

    func start() async throws -> (FaultyUpstream, WarrenServerProcess) {
        try await startProxyOnFixture()
    }

    /// Sends `request` on a new connection and reads until the server closes it.
    static func exchange(_ port: Int, _ request: String) async throws -> (text: String, closed: Bool) {
        try await offThread {
            let socket = try TestSocket(port: port)
            try socket.send(request)
            let (bytes, ended) = socket.readToEnd(timeout: 8)
            return (String(decoding: bytes, as: UTF8.self), ended)
        }
    }

    @Test func closeRulesAreHonoured() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let info = "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "info")
        for _ in 0..<2 { _ = try await HTTP.get(warren.url + info) }  // cached: the fast path answers it

        let cases = [
            "GET /healthz HTTP/1.0\r\n\r\n",
            "GET \(info) HTTP/1.0\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: Close\r\n\r\n",
            "GET \(info) HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, close\r\n\r\n",
            "GET \(info) HTTP/1.1\r\nHost: t\r\nconnection: CLOSE\r\n\r\n",
        ]
        for request in cases {
            let (text, closed) = try await Self.exchange(warren.port, request)
            #expect(closed, "left open after: \(request.debugDescription)")
            #expect(text.contains(" 200 OK\r\n"), "\(request.debugDescription): \(text)")
            #expect(text.lowercased().contains("\r\nconnection: close\r\n"), "\(request.debugDescription): \(text)")
        }
        // Requests pipelined behind `Connection: close` are not answered.
        let (text, closed) = try await Self.exchange(warren.port,
            "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(closed)
        #expect(text.components(separatedBy: "HTTP/1.1 200").count == 2, "\(text)")

        // Without any of that the connection stays open for the next request.
        try await offThread {
            let socket = try TestSocket(port: warren.port)
            for _ in 0..<3 {
                try socket.send("GET \(info) HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(socket.readResponse(timeout: 5)?.status == 200)
            }
        }
    }

    /// An upload that waits for `100 Continue` (as curl does for bodies over 1 MiB) gets it
    /// before it sends its body, and then the final answer.
    @Test func expectContinueIsAnsweredBeforeTheBody() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let (interim, rest) = try await offThread { () throws -> (String, String) in
            let socket = try TestSocket(port: warren.port)
            try socket.send("PUT /api/v1/modules/example.com/m/@v/v1.0.0.zip HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            guard case .data(let first) = socket.receive(timeout: 5) else { return ("", "") }
            // The final answer may follow at once (this one needs no body to refuse it).
            try? socket.send("hello")
            let more = socket.readToEnd(timeout: 2).bytes
            return (String(decoding: first, as: UTF8.self), String(decoding: more, as: UTF8.self))
        }
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n\r\n"), "no 100 Continue before the body: \(interim)")
        // No access control here: publishing is refused, with the reason.
        #expect((interim + rest).contains("HTTP/1.1 403 Forbidden"), "\(interim)\(rest)")
    }

    @Test func malformedRequestsGetAStatusAndAReason() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let cases: [(String, String, String)] = [
            ("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400 Bad Request", "more than one Host header"),
            ("GET /healthz HTTP/1.1\r\n\r\n", "400 Bad Request", "missing Host header (required in HTTP/1.1)"),
            ("CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\n\r\n", "405 Method Not Allowed",
             "method CONNECT not allowed: use GET or HEAD"),
            ("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 20000))\r\n\r\n",
             "431 Request Header Fields Too Large", "request line or header too large"),
            ("GET /\(String(repeating: "a", count: 20000)) HTTP/1.1\r\nHost: t\r\n\r\n",
             "431 Request Header Fields Too Large", "request line or header too large"),
            ("GARBAGE\r\n\r\n", "400 Bad Request", "malformed HTTP request (invalid method)"),
            ("GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n", "400 Bad Request", "malformed HTTP request (invalid HTTP version)"),
        ]
        for (request, status, reason) in cases {
            let (text, closed) = try await Self.exchange(warren.port, request)
            #expect(closed, "left open: \(request.prefix(60).debugDescription)")
            #expect(text.hasPrefix("HTTP/1.1 \(status)\r\n"), "\(request.prefix(60).debugDescription): \(text.prefix(200))")
            #expect(text.contains("\r\nContent-Type: text/plain; charset=utf-8\r\n"), "\(text.prefix(300))")
            #expect(text.hasSuffix("\r\n\r\n\(reason)\n"), "\(text.suffix(200))")
        }
        // HTTP/1.0 needs no Host.
        #expect(try await Self.exchange(warren.port, "GET /healthz HTTP/1.0\r\n\r\n").text.hasPrefix("HTTP/1.0 200 OK"))
        #expect(warren.process.isRunning)
    }

    @Test func preconditionsAndFutureDates() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let url = warren.url + "/" + ModuleFixture.artifactPath("github.com/kr/text", "v0.2.0", "info")
        let first = try await HTTP.get(url)
        let etag = try #require(first.headers.first(name: "etag"))
        let lastModified = try #require(first.headers.first(name: "last-modified"))
        let future = "Fri, 01 Jan 2100 00:00:00 GMT", past = "Mon, 01 Jan 2001 00:00:00 GMT"
        // Twice each: the second answer may come from the fast path.
        for _ in 0..<2 {
            #expect(try await HTTP.get(url, headers: [("If-Match", "\"wrong\"")]).status == 412)
            #expect(try await HTTP.get(url, headers: [("If-Match", "W/\(etag)")]).status == 412)
            #expect(try await HTTP.get(url, headers: [("If-Match", etag)]).status == 200)
            #expect(try await HTTP.get(url, headers: [("If-Match", "*")]).status == 200)
            #expect(try await HTTP.get(url, headers: [("If-Unmodified-Since", past)]).status == 412)
            #expect(try await HTTP.get(url, headers: [("If-Unmodified-Since", lastModified)]).status == 200)
            #expect(try await HTTP.get(url, headers: [("If-Modified-Since", future)]).status == 200)
            #expect(try await HTTP.get(url, headers: [("If-Modified-Since", lastModified)]).status == 304)
            #expect(try await HTTP.get(url, headers: [("If-Modified-Since", past)]).status == 200)
        }
        let refused = try await HTTP.get(url, headers: [("If-Match", "\"wrong\"")])
        #expect(refused.headers.first(name: "content-type") == "text/plain; charset=utf-8")
        #expect(refused.text.hasPrefix("precondition failed"))
    }

    @Test func oversizedElementsAndVersionsAre400BeforeStorage() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let longElement = "example.com/" + String(repeating: "a", count: 256)
        let longVersion = "v1.0.0-" + String(repeating: "a", count: 246)
        let paths = [
            "/\(longElement)/@v/list", "/\(longElement)/@latest", "/\(longElement)/@v/v1.0.0.info",
            "/\(longElement)/@v/v1.0.0.zip", "/github.com/kr/text/@v/\(longVersion).info",
            "/github.com/kr/text/@v/\(longVersion).mod", "/github.com/kr/text/@v/\(longVersion).zip",
        ]
        for path in paths {
            for _ in 0..<2 {
                let r = try await RawHTTP.get(port: warren.port, rawPath: path)
                #expect(r.status == 400, "\(path.prefix(60)): \(r.status) \(r.body)")
                #expect(r.body.contains("too long") && r.body.hasSuffix("\n"), "\(r.body)")
                #expect(r.headers["content-type"] == "text/plain; charset=utf-8")
            }
        }
        // The longest accepted element still gets an ordinary answer (404 from the upstream).
        let longest = "/example.com/" + String(repeating: "a", count: 200) + "/@v/list"
        #expect(try await RawHTTP.get(port: warren.port, rawPath: longest).status == 404)
        #expect(!warren.stderr.contains("request failed") && !warren.stderr.contains("upstream failed"),
                "bad input was logged as a server problem: \(warren.stderr)")
        #expect(!warren.stderr.contains("status=500") && !warren.stderr.contains("status=502"))
    }
}
