import Synchronization

/// An event that happens once and can be awaited by any number of tasks, before or after
/// it happens: a download's commit ending, a test's gate opening.
public final class OneTimeSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    /// Whether `fire()` has been called.
    public var hasFired: Bool { state.withLock { $0.fired } }

    /// Wakes every waiter, now and from now on.
    public func fire() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.fired = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    /// Returns once `fire()` has been called.
    public func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.fired { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
}
