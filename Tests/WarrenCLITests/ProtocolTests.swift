import Foundation
import GoModule
import Testing

/// The GOPROXY protocol details a CDN, the go command and operators rely on.
@Suite struct ProtocolTests {
    let fixture = ModuleFixture.shared

    func start(_ extra: [String] = []) async throws -> (FaultyUpstream, WarrenServerProcess) {
        let upstream = FaultyUpstream(root: fixture.root)
        try await upstream.start()
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", upstream.url, "--retries", "0"] + extra)
        return (upstream, warren)
    }

    @Test func artifactsAndHeaders() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let toml = try #require(fixture.module("github.com/BurntSushi/toml", "v1.2.1"))
        let base = warren.url + "/github.com/!burnt!sushi/toml/@v/v1.2.1"

        let info = try await HTTP.get(base + ".info")
        #expect(info.status == 200)
        #expect(info.headers.first(name: "content-type") == "application/json")
        #expect(info.headers.first(name: "cache-control") == "public, max-age=31536000, immutable")
        #expect(info.text.contains("\"Version\":\"v1.2.1\""))

        let mod = try await HTTP.get(base + ".mod")
        #expect(mod.headers.first(name: "content-type") == "text/plain; charset=utf-8")
        #expect(mod.headers.first(name: "etag") == "\"\(toml.modHash)\"")

        let zip = try await HTTP.get(base + ".zip")
        #expect(zip.status == 200)
        #expect(zip.body.count == toml.zipSize)
        #expect(zip.headers.first(name: "content-type") == "application/zip")
        // A second request is a hit, with the zip's go.sum hash as its strong ETag.
        let again = try await HTTP.get(base + ".zip")
        #expect(again.headers.first(name: "x-warren-cache") == "hit")
        #expect(again.headers.first(name: "etag") == "\"\(toml.zipHash)\"")
        #expect(again.body == zip.body)
        #expect(again.headers.first(name: "last-modified") != nil)

        // Percent-encoded "!" as the go command sends it.
        let encoded = try await HTTP.get(warren.url + "/github.com/%21burnt%21sushi/toml/@v/v1.2.1.info")
        #expect(encoded.status == 200)

        // HEAD: same headers, no body.
        let head = try await HTTP.get(base + ".zip", method: .HEAD)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.headers.first(name: "content-length") == String(toml.zipSize))
    }

    @Test func conditionalAndRangeRequests() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let url = warren.url + "/github.com/kr/text/@v/v0.2.0.zip"
        let full = try await HTTP.get(url)
        let etag = try #require(full.headers.first(name: "etag"))
        let lastModified = try #require(full.headers.first(name: "last-modified"))

        #expect(try await HTTP.get(url, headers: [("If-None-Match", etag)]).status == 304)
        #expect(try await HTTP.get(url, headers: [("If-None-Match", "\"other\", " + etag)]).status == 304)
        #expect(try await HTTP.get(url, headers: [("If-None-Match", "\"other\"")]).status == 200)
        #expect(try await HTTP.get(url, headers: [("If-Modified-Since", lastModified)]).status == 304)

        let part = try await HTTP.get(url, headers: [("Range", "bytes=100-199")])
        #expect(part.status == 206)
        #expect(part.body == Array(full.body[100...199]))
        #expect(part.headers.first(name: "content-range") == "bytes 100-199/\(full.body.count)")
        let tail = try await HTTP.get(url, headers: [("Range", "bytes=-50")])
        #expect(tail.body == Array(full.body.suffix(50)))
        let open = try await HTTP.get(url, headers: [("Range", "bytes=1000-")])
        #expect(open.body == Array(full.body[1000...]))
        // If-Range with the current ETag resumes; with a stale one it sends everything.
        #expect(try await HTTP.get(url, headers: [("Range", "bytes=0-9"), ("If-Range", etag)]).status == 206)
        #expect(try await HTTP.get(url, headers: [("Range", "bytes=0-9"), ("If-Range", "\"stale\"")]).status == 200)
        let bad = try await HTTP.get(url, headers: [("Range", "bytes=\(full.body.count + 10)-")])
        #expect(bad.status == 416)
        #expect(bad.headers.first(name: "content-range") == "bytes */\(full.body.count)")
        // A range on a cold zip waits for the verified file.
        let cold = try await HTTP.get(warren.url + "/github.com/google/go-cmp/@v/v0.5.9.zip", headers: [("Range", "bytes=0-3")])
        #expect(cold.status == 206)
        #expect(cold.body == [0x50, 0x4B, 0x03, 0x04])
    }

    @Test func listsLatestAndQueries() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let list = try await HTTP.get(warren.url + "/github.com/kr/text/@v/list")
        #expect(list.status == 200)
        #expect(list.text == "v0.1.0\nv0.2.0\n")
        #expect(list.headers.first(name: "cache-control") == "public, max-age=60")
        let latest = try await HTTP.get(warren.url + "/github.com/kr/text/@latest")
        #expect(latest.status == 200)
        #expect(latest.text.contains("v0.2.0"))
        // A version query (non-canonical) is passed upstream, answered, and not stored as immutable.
        try fixture.write("github.com/kr/text/@v/master.info", #"{"Version":"v0.2.0","Time":"2020-02-14T20:31:06Z"}"#)
        let query = try await HTTP.get(warren.url + "/github.com/kr/text/@v/master.info")
        #expect(query.status == 200)
        #expect(query.headers.first(name: "cache-control") == "public, max-age=60")
        let missing = try await HTTP.get(warren.url + "/example.com/nothing/@v/list")
        #expect(missing.status == 404)
        #expect(missing.headers.first(name: "content-type") == "text/plain; charset=utf-8")
        #expect(missing.text.hasSuffix("\n") && missing.text.dropLast().contains("\n") == false)
    }

    @Test func disableModuleFetch() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        let url = warren.url + "/gopkg.in/yaml.v3/@v/v3.0.1.mod"
        let refused = try await HTTP.get(url, headers: [("Disable-Module-Fetch", "true")])
        #expect(refused.status == 404)
        #expect(refused.text.contains("not cached"))
        #expect(upstream.count("gopkg.in/yaml.v3/@v/v3.0.1.mod") == 0)
        #expect(try await HTTP.get(url).status == 200)
        #expect(try await HTTP.get(url, headers: [("Disable-Module-Fetch", "true")]).status == 200)
    }

    /// Asking for .mod never downloads the zip.
    @Test func modDoesNotFetchZip() async throws {
        let (upstream, warren) = try await start()
        defer { warren.stop(); upstream.stop() }
        #expect(try await HTTP.get(warren.url + "/golang.org/x/text/@v/v0.7.0.mod").status == 200)
        #expect(upstream.count("golang.org/x/text/@v/v0.7.0.zip") == 0)
    }

    @Test func pathPrefixAndOperationsEndpoints() async throws {
        let (upstream, warren) = try await start(["--path-prefix", "/goproxy/"])
        defer { warren.stop(); upstream.stop() }
        #expect(try await HTTP.get(warren.url + "/goproxy/github.com/kr/text/@v/list").status == 200)
        #expect(try await HTTP.get(warren.url + "/github.com/kr/text/@v/list").status == 404)
        #expect(try await HTTP.get(warren.url + "/healthz").text == "ok\n")
        #expect(try await HTTP.get(warren.url + "/readyz").status == 200)
        let post = try await HTTP.get(warren.url + "/goproxy/github.com/kr/text/@v/list", method: .POST)
        #expect(post.status == 405)
        #expect(post.headers.first(name: "allow") == "GET, HEAD")
        let metrics = try await HTTP.get(warren.url + "/metrics")
        #expect(metrics.status == 200)
        for name in ["warren_http_requests_total", "warren_http_request_duration_seconds", "warren_cache_misses_total",
                     "warren_upstream_requests_total", "warren_upstream_request_duration_seconds", "warren_http_bytes_served_total"] {
            #expect(metrics.text.contains(name), "missing metric \(name)")
        }
        #expect(metrics.text.contains("endpoint=\"list\""))
        // One log line per request (written in batches, at least every 100 ms).
        let line = "path=/goproxy/github.com/kr/text/@v/list status=200"
        let log = try await offThread { warren.process.stderr.waitFor(timeout: 10) { $0.contains(line) } }
        #expect(log.contains(line), "\(log)")
    }
}
