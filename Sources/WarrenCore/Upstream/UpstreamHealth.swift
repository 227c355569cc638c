import Synchronization

/// How one upstream has been doing lately — the "credit" of an upstream: its recent
/// outcomes and latencies — and the circuit breaker that follows from it.
///
/// After `failureThreshold` failures in a row (connection errors, 5xx, timeouts; a 404 or
/// a refusal is an answer, not a failure) the circuit opens: in a `|` chain the upstream
/// is skipped for the cool-down, so a dead first mirror costs nothing once it is known to
/// be dead. When the cool-down ends, one request probes it (half-open): success closes
/// the circuit, failure opens it again for twice as long (at most `maxCooldown`).
public final class UpstreamHealth: Sendable {
    public struct Settings: Sendable, Equatable {
        public var failureThreshold: Int
        public var cooldown: Duration
        public var maxCooldown: Duration

        public init(failureThreshold: Int = 5, cooldown: Duration = .seconds(30), maxCooldown: Duration = .seconds(300)) {
            self.failureThreshold = failureThreshold
            self.cooldown = cooldown
            self.maxCooldown = maxCooldown
        }

        /// Never opens.
        public static let off = Settings(failureThreshold: .max)
    }

    public enum Circuit: String, Sendable {
        case closed, open, halfOpen = "half-open"
    }

    /// What the status page and `/readyz` show.
    public struct Snapshot: Sendable {
        public var name: String
        public var circuit: Circuit
        public var consecutiveFailures: Int
        /// Failures among the last outcomes kept, and how many are kept.
        public var recentFailures: Int
        public var recentOutcomes: Int
        /// The recent 95th percentile of answers to small requests, if enough are known.
        public var p95: Duration?
    }

    struct State {
        var consecutiveFailures = 0
        var openUntil: ContinuousClock.Instant?
        var probing = false
        var cooldown: Duration
        var outcomes: [Bool] = []
        var latencies: [Duration] = []
    }

    public let name: String
    let settings: Settings
    private let state: Mutex<State>
    /// Told when the circuit opens and when it closes again.
    let events: ProxyEvents
    static let keptOutcomes = 50
    static let keptLatencies = 64
    static let minimumLatencies = 8

    init(name: String, settings: Settings, events: ProxyEvents) {
        self.name = name
        self.settings = settings
        self.events = events
        self.state = Mutex(State(cooldown: settings.cooldown))
    }

    /// Whether a request may go to this upstream now. Once the cool-down is over, the first
    /// caller gets the probe; the others keep skipping it until the probe has answered.
    func admits(now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { s in
            guard let until = s.openUntil else { return true }
            if now < until || s.probing { return false }
            s.probing = true
            return true
        }
    }

    /// When the circuit is open, how long until a probe may go.
    public func openFor(now: ContinuousClock.Instant = .now) -> Duration? {
        state.withLock { s in
            guard let until = s.openUntil else { return nil }
            return until > now ? until - now : .zero
        }
    }

    /// Records an answer (`latency` of a small request feeds the hedging delay).
    func succeeded(latency: Duration?) {
        let closed = state.withLock { s -> Bool in
            let wasOpen = s.openUntil != nil
            s.consecutiveFailures = 0
            s.openUntil = nil
            s.probing = false
            s.cooldown = settings.cooldown
            Self.keep(&s.outcomes, true, Self.keptOutcomes)
            if let latency { Self.keep(&s.latencies, latency, Self.keptLatencies) }
            return wasOpen
        }
        if closed {
            MetricHandles.gauge("warren_upstream_circuit_open", [("upstream", name)]).record(0)
            events.emit(.upstreamUp(upstream: name))
        }
    }

    /// Records a failure; returns true when it opened the circuit.
    @discardableResult
    func failed(now: ContinuousClock.Instant = .now) -> Bool {
        let opened = state.withLock { s -> Bool in
            s.consecutiveFailures += 1
            Self.keep(&s.outcomes, false, Self.keptOutcomes)
            if s.probing {
                // The probe failed: open again, for longer.
                s.probing = false
                s.cooldown = min(s.cooldown * 2, settings.maxCooldown)
                s.openUntil = now + s.cooldown
                return true
            }
            guard s.openUntil == nil, s.consecutiveFailures >= settings.failureThreshold else { return false }
            s.openUntil = now + s.cooldown
            return true
        }
        if opened {
            MetricHandles.gauge("warren_upstream_circuit_open", [("upstream", name)]).record(1)
            MetricHandles.counter("warren_upstream_circuit_openings_total", [("upstream", name)]).increment()
            events.emit(.upstreamDown(upstream: name, failures: state.withLock { $0.consecutiveFailures }))
        }
        return opened
    }

    /// A probe that ended without an answer either way (cancelled): another may go.
    func abandoned() {
        state.withLock { $0.probing = false }
    }

    /// The recent 95th percentile of small answers: how long to wait before hedging. With
    /// too few answers to tell (a fresh start), `initialHedgeDelay`: a small answer later
    /// than that is worth asking elsewhere for.
    func hedgeDelay() -> Duration {
        state.withLock { s in Self.percentile(s.latencies, 0.95) ?? Self.initialHedgeDelay }
    }

    static let initialHedgeDelay: Duration = .seconds(1)

    public func snapshot(now: ContinuousClock.Instant = .now) -> Snapshot {
        state.withLock { s in
            let circuit: Circuit = s.openUntil == nil ? .closed : (s.probing || s.openUntil.map { $0 <= now } == true) ? .halfOpen : .open
            return Snapshot(name: name, circuit: circuit, consecutiveFailures: s.consecutiveFailures,
                            recentFailures: s.outcomes.filter { !$0 }.count, recentOutcomes: s.outcomes.count,
                            p95: Self.percentile(s.latencies, 0.95))
        }
    }

    static func percentile(_ values: [Duration], _ p: Double) -> Duration? {
        guard values.count >= minimumLatencies else { return nil }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded(.up)))]
    }

    static func keep<T>(_ array: inout [T], _ value: T, _ limit: Int) {
        array.append(value)
        if array.count > limit { array.removeFirst(array.count - limit) }
    }
}

/// Every upstream's health, by name, kept across reloads (a rebuilt chain finds the
/// same records), and the hedging budget they share.
public final class UpstreamHealthBook: Sendable {
    let settings: UpstreamHealth.Settings
    public let hedging: HedgeBudget
    /// Circuits opening and closing.
    public let events = ProxyEvents()
    private let byName = Mutex<[String: UpstreamHealth]>([:])

    public init(settings: UpstreamHealth.Settings = .init(), hedging: HedgeBudget = HedgeBudget()) {
        self.settings = settings
        self.hedging = hedging
    }

    func health(_ name: String) -> UpstreamHealth {
        byName.withLock { m in
            if let h = m[name] { return h }
            let h = UpstreamHealth(name: name, settings: settings, events: events)
            m[name] = h
            return h
        }
    }

    /// The records of these upstreams, in this order.
    public func snapshots(_ names: [String]) -> [UpstreamHealth.Snapshot] {
        names.map { health($0).snapshot() }
    }
}

/// Hedged requests, bounded: at most `percent` of the small requests sent to upstreams in
/// the current ten-second window (and the one before) are extra.
public final class HedgeBudget: Sendable {
    public let percent: Double
    private let windows = Mutex<(start: ContinuousClock.Instant, requests: Int, hedges: Int, previousRequests: Int, previousHedges: Int)>(
        (.now, 0, 0, 0, 0))
    static let window: Duration = .seconds(10)

    /// - Parameter percent: 0 turns hedging off.
    public init(percent: Double = 10) {
        self.percent = percent
    }

    public var isEnabled: Bool { percent > 0 }

    func roll(_ w: inout (start: ContinuousClock.Instant, requests: Int, hedges: Int, previousRequests: Int, previousHedges: Int),
              now: ContinuousClock.Instant) {
        if now - w.start >= Self.window {
            w = (now, 0, 0, now - w.start >= Self.window * 2 ? 0 : w.requests, now - w.start >= Self.window * 2 ? 0 : w.hedges)
        }
    }

    /// Counts a small request sent to the chain.
    func countRequest(now: ContinuousClock.Instant = .now) {
        windows.withLock { w in
            roll(&w, now: now)
            w.requests += 1
        }
    }

    /// Takes one hedge from the budget, if there is one left.
    func take(now: ContinuousClock.Instant = .now) -> Bool {
        guard isEnabled else { return false }
        return windows.withLock { w in
            roll(&w, now: now)
            let requests = w.requests + w.previousRequests, hedges = w.hedges + w.previousHedges
            guard Double(hedges + 1) <= Double(requests) * percent / 100 else { return false }
            w.hedges += 1
            return true
        }
    }
}
