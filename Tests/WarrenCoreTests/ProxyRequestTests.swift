import Testing
@testable import WarrenCore

@Suite struct ProxyRequestTests {
    @Test func parsesEveryEndpoint() throws {
        #expect(try ProxyRequest.parse(rawPath: "github.com/!burnt!sushi/toml/@v/list") == .list(module: "github.com/BurntSushi/toml"))
        #expect(try ProxyRequest.parse(rawPath: "github.com/%21burnt%21sushi/toml/@latest") == .latest(module: "github.com/BurntSushi/toml"))
        #expect(try ProxyRequest.parse(rawPath: "gopkg.in/yaml.v3/@v/v3.0.1.zip") == .artifact(module: "gopkg.in/yaml.v3", version: "v3.0.1", kind: .zip))
        #expect(try ProxyRequest.parse(rawPath: "example.com/m/@v/v1.0.0-!r!c1.mod") == .artifact(module: "example.com/m", version: "v1.0.0-RC1", kind: .mod))
        #expect(try ProxyRequest.parse(rawPath: "example.com/m/@v/master.info") == .artifact(module: "example.com/m", version: "master", kind: .info))
        #expect(try ProxyRequest.parse(rawPath: "example.com/m/@v/v2.0.0+incompatible.info") == .artifact(module: "example.com/m", version: "v2.0.0+incompatible", kind: .info))
    }

    static let refused: [(String, ProxyError.Kind)] = [
        ("example.com/m/@v/v1.0.mod", .badRequest),           // not canonical
        ("example.com/m/@v/master.zip", .badRequest),         // queries only through .info
        ("example.com/m/@v/v2.0.0.zip", .badRequest),         // major version does not fit the path
        ("example.com/m/@v/v1.0.0.txt", .badRequest),
        ("example.com%2fm/@v/list", .badRequest),
        ("example.com/m/@v/%2e%2e.info", .badRequest),
        ("example.com/m/@v/v1%00.info", .badRequest),
        ("example.com/m/@v/%e2%28%a1.info", .badRequest),     // invalid UTF-8
        ("example.com/m/@v/%4.info", .badRequest),
        ("Example.com/m/@v/list", .badRequest),
        ("example.com/m", .notFound),
        ("", .notFound),
    ]

    @Test(arguments: refused)
    func refusesBadPaths(path: String, kind: ProxyError.Kind) {
        do {
            let r = try ProxyRequest.parse(rawPath: path)
            Issue.record("\(path) parsed as \(r)")
        } catch {
            #expect(error.kind == kind, "\(path): \(error)")
            #expect(!error.message.contains("\n"))
        }
    }
}

@Suite struct UpstreamRankingTests {
    @Test func theGoCommandsErrorRanking() {
        let nf = UpstreamFailure.notFound(status: 404, message: "a")
        let gone = UpstreamFailure.notFound(status: 410, message: "b")
        let failed = UpstreamFailure.failed(message: "c")
        #expect(UpstreamChain.explainsMore(nf, than: nil))
        #expect(UpstreamChain.explainsMore(gone, than: nf))      // a later not-found replaces an earlier one
        #expect(UpstreamChain.explainsMore(failed, than: nf))    // a real error beats not-found
        #expect(!UpstreamChain.explainsMore(nf, than: failed))
        #expect(!UpstreamChain.explainsMore(.disabled, than: nf)) // off never hides an answer
        #expect(UpstreamChain.explainsMore(.disabled, than: nil))
    }
}

@Suite struct ValidationTests {
    @Test func listsKeepOnlyTaggedVersionsInOrder() {
        let raw = Array("v1.10.0\nv1.2.0\r\nv1.2.0\nv0.0.0-20200101000000-abcdefabcdef\nbanana\n v1.3.0-rc.1 \nv2.0.0+incompatible\n\n".utf8)
        #expect(String(decoding: ModuleProxy.filterList(raw), as: UTF8.self) == "v1.2.0\nv1.3.0-rc.1\nv1.10.0\nv2.0.0+incompatible\n")
        #expect(ModuleProxy.filterList(Array("\n".utf8)).isEmpty)
    }

    @Test func infoMustNameTheRequestedVersion() throws {
        try ModuleProxy.validateInfo(Array(#"{"Version":"v1.2.3","Time":"2020-01-01T00:00:00Z"}"#.utf8), expected: "v1.2.3", module: "m")
        #expect(throws: ProxyError.self) { try ModuleProxy.validateInfo(Array(#"{"Version":"v1.2.4"}"#.utf8), expected: "v1.2.3", module: "m") }
        #expect(throws: ProxyError.self) { try ModuleProxy.validateInfo(Array(#"{"Version":"1.2.3"}"#.utf8), expected: nil, module: "m") }
        #expect(throws: ProxyError.self) { try ModuleProxy.validateInfo(Array("<html>".utf8), expected: nil, module: "m") }
    }
}

@Suite struct CacheTests {
    @Test func memoryCacheEvictsLeastRecentlyUsed() {
        let cache = MemoryCache<String, Int>(capacity: 800)
        for i in 0..<10 { cache.put("k\(i)", i, cost: 100) }
        #expect(cache.totalCost <= 800)
        #expect(cache.get("k9") == 9)
        #expect(cache.get("k0") == nil)
        cache.put("huge", 1, cost: 500)  // over an eighth of the capacity: never cached
        #expect(cache.get("huge") == nil)
    }

    @Test func singleFlightRunsOnce() async throws {
        let flights = SingleFlight<String, Int>()
        let runs = Counter()
        // The work cannot finish before all 50 callers have joined it: no timing involved.
        let gate = OneTimeSignal()
        let callers = 50
        let results = try await withThrowingTaskGroup(of: (value: Int, started: Bool).self) { group in
            for _ in 0..<callers {
                group.addTask {
                    try await flights.run("key") {
                        runs.increment()
                        await gate.wait()
                        return 42
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while flights.callers(of: "key") < callers, ContinuousClock.now < deadline { await Task.yield() }
            #expect(flights.callers(of: "key") == callers)
            gate.fire()
            var all: [(value: Int, started: Bool)] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.map(\.value) == Array(repeating: 42, count: callers))
        #expect(results.filter(\.started).count == 1)
        #expect(runs.value == 1)
        #expect(flights.count == 0)
        #expect(flights.callers(of: "key") == 0)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLockLike()
        private var n = 0
        func increment() { lock.withLock { n += 1 } }
        var value: Int { lock.withLock { n } }
    }
}

@Suite struct RequestLimitTests {
    @Test func elementsAndVersionsLongerThanStorageAllowsAre400() {
        let element = String(repeating: "a", count: ProxyRequest.maxElementLength)
        #expect((try? ProxyRequest.parse(rawPath: "example.com/\(element)/@v/list")) != nil)
        for path in ["example.com/\(element)a/@v/list", "example.com/\(element)a/@latest",
                     "example.com/m/@v/v1.0.0-\(element).info", "example.com/m/@v/v1.0.0-\(element).zip"] {
            #expect(throws: ProxyError.self) { try ProxyRequest.parse(rawPath: path) }
            do {
                _ = try ProxyRequest.parse(rawPath: path)
            } catch {
                #expect(error.kind == .badRequest)
                #expect(error.message.contains("too long"), "\(error.message)")
            }
        }
    }

    @Test func aBaseURLQueryStaysAfterThePath() {
        #expect(HTTPProxyUpstream.join("https://h.example/goproxy", "m/@v/list") == "https://h.example/goproxy/m/@v/list")
        #expect(HTTPProxyUpstream.join("https://h.example/?token=T", "m/@v/list") == "https://h.example/m/@v/list?token=T")
        #expect(HTTPProxyUpstream.join("https://h.example/g?token=T&x=1", "m/@latest") == "https://h.example/g/m/@latest?token=T&x=1")
    }
}

@Suite struct ProxyPathTests {
    /// What HTTP and file:// upstreams are asked for: the request, case-encoded, and
    /// parsing it back gives the same request.
    @Test func typedRequestsBecomeEscapedPathsAndBack() throws {
        let requests: [ProxyRequest] = [
            .list(module: "github.com/BurntSushi/toml"),
            .latest(module: "github.com/Azure/go-autorest/autorest"),
            .artifact(module: "github.com/BurntSushi/toml", version: "v1.2.1", kind: .zip),
            .artifact(module: "example.com/m", version: "v1.0.0-RC1", kind: .mod),
            .artifact(module: "example.com/m", version: "master", kind: .info),
        ]
        #expect(requests[0].proxyPath == "github.com/!burnt!sushi/toml/@v/list")
        #expect(requests[1].proxyPath == "github.com/!azure/go-autorest/autorest/@latest")
        #expect(requests[3].proxyPath == "example.com/m/@v/v1.0.0-!r!c1.mod")
        for request in requests {
            #expect(try ProxyRequest.parse(rawPath: request.proxyPath) == request)
        }
    }
}
