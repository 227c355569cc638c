import Foundation
import TestServers
import Testing
import WarrenCore

/// Upstream health with three upstreams on loopback — one dead (it accepts and never
/// answers), one slow (every 25th answer takes 20 s), one good — behind `|`: the circuit
/// of the dead one opens after its failures so that requests stop waiting for it, and
/// closes again once it answers a probe; hedging takes the good upstream's answer when
/// the slow one is late, within the budget; after `,` nothing is skipped.
@Suite struct UpstreamHealthTests {
    /// A GOPROXY tree of `count` small modules (a go.mod and an .info each).
    static func tree(_ root: String, count: Int) throws {
        for n in 0..<count {
            let dir = root + "/example.com/m\(n)/@v"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data(#"{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/v1.0.0.info"))
            try Data("module example.com/m\(n)\n".utf8).write(to: URL(fileURLWithPath: dir + "/v1.0.0.mod"))
        }
    }

    static func upstreams(_ root: String) async throws -> (dead: FaultyUpstream, slow: FaultyUpstream, good: FaultyUpstream) {
        let dead = FaultyUpstream(root: root), slow = FaultyUpstream(root: root), good = FaultyUpstream(root: root)
        for u in [dead, slow, good] { try await u.start() }
        return (dead, slow, good)
    }

    static func timed(_ url: String) async throws -> (status: Int, seconds: Double) {
        let start = ContinuousClock.now
        let r = try await HTTP.get(url)
        let elapsed = ContinuousClock.now - start
        return (r.status, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    @Test func aDeadUpstreamIsSkippedOnceKnownDeadAndProbedBackIn() async throws {
        let scratch = ScratchDirectory()
        try await offThread { try Self.tree(scratch.path, count: 400) }
        let (dead, slow, good) = try await Self.upstreams(scratch.path)
        defer { for u in [dead, slow, good] { u.stop() } }
        let gate = OneTimeSignal()
        dead.setDefaultFault(.gated(gate))
        // The good upstream is a file tree in Warren's own process: its answers never come
        // near the timeout, however busy this machine is.
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "\(dead.url)|file://\(scratch.path)", "--retries", "0", "--header-timeout", "3s",
            "--upstream-failures", "3", "--upstream-cooldown", "10s", "--hedge-budget", "0",
        ])
        defer { warren.stop() }
        // The first three wait out the dead upstream's timeout, then get the good one's answer.
        for n in 0..<3 {
            let r = try await Self.timed(warren.url + "/example.com/m\(n)/@v/v1.0.0.info")
            #expect(r.status == 200 && r.seconds >= 2.9, "\(n): \(r)")
        }
        let ready = try await HTTP.get(warren.url + "/readyz?verbose").text
        #expect(ready.contains("upstream \(dead.url): open"), "\(ready)")
        // Now the dead one is skipped for the cool-down: no request reaches it (so none
        // waits for its timeout).
        let deadBefore = dead.totalCount
        for n in 3..<7 {
            #expect(try await HTTP.get(warren.url + "/example.com/m\(n)/@v/v1.0.0.info").status == 200)
        }
        #expect(dead.totalCount == deadBefore, "requests reached an upstream whose circuit is open")
        let metrics = try await HTTP.get(warren.url + "/metrics").text
        #expect(metrics.contains("warren_upstream_circuit_open{upstream=\"\(dead.url)\"} 1"), "\(metrics.split(separator: "\n").filter { $0.contains("circuit") })")
        #expect(metrics.contains("warren_upstream_skipped_total{upstream=\"\(dead.url)\"} 4"))

        // It comes back: after the cool-down one request probes it, and the circuit closes.
        // On a loaded machine a probe can itself miss the 3 s deadline; the circuit then
        // opens again for twice as long and the next probe closes it, so the clients keep
        // going until the circuit reads closed.
        gate.fire()
        dead.clearFaults()
        var n = 7
        var closed = ""
        let deadline = ContinuousClock.now + .seconds(75)
        while ContinuousClock.now < deadline, n < 390 {
            #expect(try await HTTP.get(warren.url + "/example.com/m\(n)/@v/v1.0.0.info").status == 200)
            n += 1
            closed = try await HTTP.get(warren.url + "/readyz?verbose").text
            if closed.contains("upstream \(dead.url): closed") { break }
            try await Task.sleep(for: .milliseconds(100))  // a client's pace, not a wait for the probe
        }
        #expect(dead.totalCount > deadBefore, "the upstream was never probed again")
        #expect(closed.contains("upstream \(dead.url): closed"), "\(closed)")
        // Every request goes to it first again.
        let probed = dead.totalCount
        for m in n..<(n + 5) {
            #expect(try await HTTP.get(warren.url + "/example.com/m\(m)/@v/v1.0.0.info").status == 200)
        }
        #expect(dead.totalCount == probed + 5, "requests still go past the first upstream once it answers again")
    }

    @Test func afterACommaADeadUpstreamIsNeverSkipped() async throws {
        let scratch = ScratchDirectory()
        try Self.tree(scratch.path, count: 8)
        let (dead, slow, good) = try await Self.upstreams(scratch.path)
        defer { for u in [dead, slow, good] { u.stop() } }
        dead.setDefaultFault(.status(502, "bad gateway"))
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "\(dead.url),\(good.url)", "--retries", "0", "--upstream-failures", "2", "--upstream-cooldown", "60s",
        ])
        defer { warren.stop() }
        // The go command's ',': an error stops the chain — every time, circuit or not.
        for n in 0..<5 {
            #expect(try await HTTP.get(warren.url + "/example.com/m\(n)/@v/v1.0.0.info").status == 502)
        }
        #expect(dead.totalCount == 5 && good.totalCount == 0, "dead \(dead.totalCount), good \(good.totalCount)")
    }

    @Test func hedgingTakesTheGoodAnswerWhenTheSlowOneIsLateWithinTheBudget() async throws {
        let scratch = ScratchDirectory()
        try await offThread { try Self.tree(scratch.path, count: 120) }
        let (dead, slow, good) = try await Self.upstreams(scratch.path)
        defer { for u in [dead, slow, good] { u.stop() } }
        slow.setDefaultFault(.slowEvery(25, 20))
        let warren = try await WarrenServerProcess.start(arguments: [
            "--upstream", "\(slow.url)|\(good.url)", "--retries", "0", "--hedge-budget", "50",
        ])
        defer { warren.stop() }
        var slowest = 0.0
        for n in 0..<100 {
            let r = try await Self.timed(warren.url + "/example.com/m\(n)/@v/v1.0.0.info")
            #expect(r.status == 200)
            if n >= 10 { slowest = max(slowest, r.seconds) }  // after the first p95 is known
        }
        // The slow upstream held back four answers for 20 s; none of those waited for it
        // (on a machine busy with other tests an answer may take seconds, never twenty).
        #expect(slowest < 15, "a request waited \(slowest) s for the slow upstream")
        let metrics = try await HTTP.get(warren.url + "/metrics").text
        func value(_ prefix: String) -> Double {
            metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }
        let hedges = value("warren_upstream_hedges_total{upstream=\"\(good.url)\"}")
        let won = value("warren_upstream_hedges_won_total{upstream=\"\(good.url)\"}")
        #expect(won >= 3, "hedges won: \(won)")
        // Extra load within the budget (HedgeBudgetTests holds it to the percent).
        #expect(hedges >= won && hedges <= 50, "hedges: \(hedges)")
        // Only hedges reached it (one cancelled as it left, when the slow answer came first, may not).
        #expect(good.totalCount >= 1 && Double(good.totalCount) <= hedges, "good answered \(good.totalCount) requests for \(hedges) hedges")
    }
}
