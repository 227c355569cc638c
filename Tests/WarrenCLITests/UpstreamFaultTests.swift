import Foundation
import Testing

/// Each upstream fault gives the right status, falls through (or not) exactly as the go
/// command's GOPROXY rules say, and leaves nothing in the cache.
@Suite struct UpstreamFaultTests {
    let fixture = ModuleFixture.shared
    /// Generous timeouts: the suite runs beside heavy tests on two cores, and only the
    /// timeout case should ever time out.
    static let fastTimeouts = ["--retries", "0", "--connect-timeout", "5s", "--header-timeout", "15s", "--total-timeout", "30s"]
    /// The timeout case: the first upstream answers after 20 s, past the 6 s limit; the
    /// second (after `|`, served from this test process) has those 6 s, time enough
    /// while the rest of the suite loads both cores.
    static let shortTimeouts = ["--retries", "0", "--connect-timeout", "5s", "--header-timeout", "6s", "--total-timeout", "30s"]
    let infoPath = "github.com/kr/text/@v/v0.2.0.info"
    let zipPath = "github.com/kr/text/@v/v0.2.0.zip"

    func upstreams(_ n: Int) async throws -> [FaultyUpstream] {
        var out: [FaultyUpstream] = []
        for _ in 0..<n {
            let u = FaultyUpstream(root: fixture.root)
            try await u.start()
            out.append(u)
        }
        return out
    }

    func stored(_ warren: WarrenServerProcess, _ path: String) -> Bool {
        FileManager.default.fileExists(atPath: warren.dataDir + "/modules/" + path)
    }

    /// (fault on the first upstream, separator, expected status, whether the second is asked)
    static let fallThroughCases: [(String, String, Int, Bool)] = [
        ("404", ",", 200, true), ("410", ",", 200, true), ("404", "|", 200, true),
        ("500", ",", 502, false), ("500", "|", 200, true),
        ("403", ",", 403, false), ("403", "|", 200, true),
        ("timeout", ",", 504, false), ("timeout", "|", 200, true),
        ("badinfo", ",", 502, false), ("badinfo", "|", 200, true),
    ]

    @Test(arguments: fallThroughCases)
    func fallThrough(fault: String, separator: String, status: Int, secondAsked: Bool) async throws {
        let ups = try await upstreams(2)
        defer { ups.forEach { $0.stop() } }
        switch fault {
        case "timeout": ups[0].setFault(infoPath, .delay(20))
        case "badinfo": ups[0].setFault(infoPath, .replace(Array(#"{"Version":"v0.1.0"}"#.utf8)))
        default: ups[0].setFault(infoPath, .status(Int(fault) ?? 500, "upstream says \(fault)"))
        }
        let timeouts = fault == "timeout" ? Self.shortTimeouts : Self.fastTimeouts
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", ups[0].url + separator + ups[1].url] + timeouts)
        defer { warren.stop() }
        let r = try await HTTP.get(warren.url + "/" + infoPath)
        #expect(r.status == status, "\(fault) \(separator): \(r.text)")
        #expect(ups[0].count(infoPath) == 1)
        #expect((ups[1].count(infoPath) == 1) == secondAsked)
        #expect(stored(warren, infoPath) == (status == 200))
        if status != 200 {
            #expect(r.headers.first(name: "content-type") == "text/plain; charset=utf-8")
        }
    }

    @Test func notFoundEverywhere() async throws {
        let ups = try await upstreams(2)
        defer { ups.forEach { $0.stop() } }
        ups[0].setFault(infoPath, .status(404, "no"))
        ups[1].setFault(infoPath, .status(410, "gone"))
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", ups[0].url + "," + ups[1].url] + Self.fastTimeouts)
        defer { warren.stop() }
        // The last "not found" is reported, as the go command does.
        let r = try await HTTP.get(warren.url + "/" + infoPath)
        #expect(r.status == 410)
        #expect(r.text.contains("gone"))
    }

    @Test func connectionRefused() async throws {
        let ups = try await upstreams(1)
        defer { ups.forEach { $0.stop() } }
        let dead = "http://127.0.0.1:9"  // discard port: nothing listens
        let hard = try await WarrenServerProcess.start(arguments: ["--upstream", dead + "," + ups[0].url] + Self.fastTimeouts)
        defer { hard.stop() }
        #expect(try await HTTP.get(hard.url + "/" + infoPath).status == 502)
        #expect(ups[0].count(infoPath) == 0)
        let soft = try await WarrenServerProcess.start(arguments: ["--upstream", dead + "|" + ups[0].url] + Self.fastTimeouts)
        defer { soft.stop() }
        #expect(try await HTTP.get(soft.url + "/" + infoPath).status == 200)
    }

    @Test func directAndOffEndTheChain() async throws {
        let ups = try await upstreams(1)
        defer { ups.forEach { $0.stop() } }
        ups[0].setFault(infoPath, .status(404, "no"))
        // After the proxy's 404, direct fetches from the repository (the tests' git fixture).
        let direct = try await WarrenServerProcess.start(arguments: ["--upstream", ups[0].url + ",direct"] + Self.fastTimeouts,
                                             environment: GitFixture.shared.environment)
        defer { direct.stop() }
        let r = try await HTTP.get(direct.url + "/" + infoPath)
        #expect(r.status == 200, "\(r.text)")
        #expect(r.text.contains("\"Version\":\"v0.2.0\"") && r.text.contains("\"VCS\":\"git\""), "\(r.text)")
        #expect(ups[0].count(infoPath) == 1)
        let off = try await WarrenServerProcess.start(arguments: ["--upstream", "off"] + Self.fastTimeouts)
        defer { off.stop() }
        #expect(try await HTTP.get(off.url + "/" + infoPath).status == 403)
    }

    /// Broken zips: never stored, never delivered complete; the next good answer is served.
    @Test(arguments: ["truncate", "corrupt", "huge", "wrongmod", "notzip"])
    func badZips(kind: String) async throws {
        let ups = try await upstreams(1)
        defer { ups.forEach { $0.stop() } }
        let good = try Array(Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + zipPath)))
        switch kind {
        case "truncate": ups[0].setFault(zipPath, .truncate(good.count / 2))
        case "corrupt":
            var bad = good
            bad[good.count / 3] ^= 0xFF
            bad[good.count / 3 + 1] ^= 0xFF
            ups[0].setFault(zipPath, .replace(bad))
        case "huge": ups[0].setFault(zipPath, .hugeLength)
        case "wrongmod":
            let other = try Array(Data(contentsOf: URL(fileURLWithPath: fixture.root + "/github.com/kr/text/@v/v0.1.0.zip")))
            ups[0].setFault(zipPath, .replace(other))
        default: ups[0].setFault(zipPath, .replace(Array("<html>not a zip</html>".utf8)))
        }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", ups[0].url] + Self.fastTimeouts)
        defer { warren.stop() }
        do {
            let r = try await HTTP.get(warren.url + "/" + zipPath)
            #expect(r.status != 200 || r.body != good, "\(kind): a bad zip was served as good")
            if r.status == 200 { #expect(r.body.count < good.count, "\(kind): a complete bad zip was delivered") }
            if r.status != 200 { #expect(r.status == 502, "\(kind): \(r.status) \(r.text)") }
        } catch {
            // The connection was cut mid-body: the client never got a complete zip.
        }
        #expect(!stored(warren, zipPath), "\(kind): stored")
        ups[0].clearFaults()
        let again = try await HTTP.get(warren.url + "/" + zipPath)
        #expect(again.status == 200)
        #expect(again.body == good)
        #expect(stored(warren, zipPath))
    }
}
