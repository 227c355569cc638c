import Synchronization
import Testing
@testable import WarrenCore

/// The circuit breaker's states and the hedging budget, on a clock the test moves.
@Suite struct UpstreamHealthUnitTests {
    @Test func theCircuitOpensProbesAndCloses() {
        let events = ProxyEvents()
        let seen = EventLog()
        events.listen { seen.append($0) }
        let h = UpstreamHealth(name: "up", settings: .init(failureThreshold: 3, cooldown: .seconds(10), maxCooldown: .seconds(40)), events: events)
        let t0 = ContinuousClock.now
        #expect(!h.failed(now: t0) && !h.failed(now: t0))
        #expect(h.failed(now: t0))  // the third in a row opens it
        #expect(!h.admits(now: t0 + .seconds(9)))
        #expect(h.snapshot(now: t0 + .seconds(9)).circuit == .open)
        // After the cool-down one caller probes; the others still skip.
        #expect(h.admits(now: t0 + .seconds(10)))
        #expect(!h.admits(now: t0 + .seconds(10)))
        // The probe fails: open again for twice as long.
        #expect(h.failed(now: t0 + .seconds(11)))
        #expect(!h.admits(now: t0 + .seconds(30)))
        #expect(h.admits(now: t0 + .seconds(31)))
        h.succeeded(latency: nil)
        #expect(h.admits(now: t0 + .seconds(31)) && h.snapshot().circuit == .closed)
        #expect(seen.types == ["upstream.down", "upstream.down", "upstream.up"])
        // A success in between resets the count.
        _ = h.failed(now: t0)
        _ = h.failed(now: t0)
        h.succeeded(latency: nil)
        #expect(!h.failed(now: t0) && h.admits(now: t0))
    }

    @Test func theHedgeDelayIsTheRecentP95() {
        let h = UpstreamHealth(name: "up", settings: .init(), events: ProxyEvents())
        for ms in 1...7 { h.succeeded(latency: .milliseconds(ms)) }
        #expect(h.hedgeDelay() == .seconds(1))  // too few to say: the initial delay
        for ms in 8...100 { h.succeeded(latency: .milliseconds(ms)) }
        // The last 64 kept: 37…100 ms; their 95th percentile.
        #expect(h.hedgeDelay() == .milliseconds(97))
    }

    @Test func hedgesStayWithinTheBudget() {
        let budget = HedgeBudget(percent: 10)
        let t0 = ContinuousClock.now
        for _ in 0..<50 { budget.countRequest(now: t0) }
        var taken = 0
        for _ in 0..<20 where budget.take(now: t0) { taken += 1 }
        #expect(taken == 5)
        // The next window still counts the last one's requests and hedges.
        #expect(!budget.take(now: t0 + .seconds(11)))
        for _ in 0..<10 { budget.countRequest(now: t0 + .seconds(11)) }
        #expect(budget.take(now: t0 + .seconds(11)))
        #expect(!HedgeBudget(percent: 0).take())
    }
}

final class EventLog: Sendable {
    private let events = Mutex<[ProxyEvent]>([])
    func append(_ e: ProxyEvent) { events.withLock { $0.append(e) } }
    var types: [String] { events.withLock { $0.map(\.type) } }
}
