import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Conditional requests, ranges, HEAD and error bodies, answered by the HTTP layer in
/// this process.
@Suite struct ResponseSemanticsTests {
    static let zip = "/example.com/m/@v/v1.0.0.zip"
    static let info = "/example.com/m/@v/v1.0.0.info"

    @Test func notModifiedRangesAndHead() async throws {
        let server = try InProcessServer()
        defer { server.remove() }
        let size = server.zipSize, hash = server.zipHash
        try await server.run { client in
            let whole = try await client.execute(uri: Self.zip, method: .get)
            #expect(whole.status == .ok)
            #expect(whole.body.readableBytes == size)
            // Streamed while it arrived: its h1: is known only once it is verified.
            #expect(whole.headers[.init("X-Warren-Cache")!] == "miss")
            let stored = try await client.execute(uri: Self.zip, method: .get)
            let storedTag = try #require(stored.headers[.eTag])
            #expect(storedTag == "\"\(hash)\"")
            #expect(stored.headers[.cacheControl] == "public, max-age=31536000, immutable")

            // 304 for a matching If-None-Match, also against a list of tags.
            let notModified = try await client.execute(uri: Self.zip, method: .get, headers: [.ifNoneMatch: "\"x\", \(storedTag)"])
            #expect(notModified.status == .notModified)
            #expect(notModified.body.readableBytes == 0)

            // 206 with Content-Range for a satisfiable range; 416 for one beyond the end.
            let partial = try await client.execute(uri: Self.zip, method: .get, headers: [.range: "bytes=100-199"])
            #expect(partial.status == .partialContent)
            #expect(partial.headers[.contentRange] == "bytes 100-199/\(size)")
            #expect(partial.body.readableBytes == 100)
            #expect(Array(partial.body.readableBytesView) == Array(stored.body.readableBytesView[100..<200]))
            let suffix = try await client.execute(uri: Self.zip, method: .get, headers: [.range: "bytes=-10"])
            #expect(suffix.status == .partialContent && suffix.body.readableBytes == 10)
            let beyond = try await client.execute(uri: Self.zip, method: .get, headers: [.range: "bytes=\(size + 10)-"])
            #expect(beyond.status == .rangeNotSatisfiable)
            #expect(beyond.headers[.contentRange] == "bytes */\(size)")

            // If-Range: the range only while the validator still matches.
            let current = try await client.execute(uri: Self.zip, method: .get, headers: [.range: "bytes=0-9", .ifRange: storedTag])
            #expect(current.status == .partialContent && current.body.readableBytes == 10)
            let changed = try await client.execute(uri: Self.zip, method: .get, headers: [.range: "bytes=0-9", .ifRange: "\"other\""])
            #expect(changed.status == .ok && changed.body.readableBytes == size)

            // HEAD: the headers of a GET, no body.
            let head = try await client.execute(uri: Self.zip, method: .head)
            #expect(head.status == .ok && head.body.readableBytes == 0)
            #expect(head.headers[.contentLength] == String(size))
        }
    }

    @Test func errorsAreOneLineOfText() async throws {
        let server = try InProcessServer()
        defer { server.remove() }
        try await server.run { client in
            let cases: [(String, HTTPRequest.Method, HTTPResponse.Status)] = [
                ("/example.com/missing/@v/list", .get, .notFound),
                ("/example.com/m/@v/v1.0.zip", .get, .badRequest),
                ("/example.com/m/@v/..%2f..%2fetc.info", .get, .badRequest),
                ("/example.com/m/@v/list", .post, .methodNotAllowed),
                ("/example.com/m/@v/v1.0.0.info", .delete, .methodNotAllowed),
            ]
            for (uri, method, status) in cases {
                let r = try await client.execute(uri: uri, method: method)
                #expect(r.status == status, "\(method) \(uri)")
                #expect(r.headers[.contentType] == "text/plain; charset=utf-8")
                let text = String(buffer: r.body)
                #expect(text.hasSuffix("\n") && !text.dropLast().contains("\n"), "\(uri): \(text)")
            }
            let allowed = try await client.execute(uri: "/example.com/m/@v/list", method: .post)
            #expect(allowed.headers[.allow] == "GET, HEAD")
            let future = try await client.execute(uri: Self.info, method: .get, headers: [.ifModifiedSince: "Fri, 01 Jan 2100 00:00:00 GMT"])
            #expect(future.status == .ok, "a date in the future is not a valid If-Modified-Since")
            let failed = try await client.execute(uri: Self.info, method: .get, headers: [.ifMatch: "\"nope\""])
            #expect(failed.status == .preconditionFailed)
        }
    }
}
