import Synchronization

/// The first of several racing results (an operation, its deadline, the caller's
/// cancellation), handed to the one waiter; later ones are dropped.
final class OneAnswer<T: Sendable>: Sendable {
    private let state = Mutex<(result: Result<T, any Error>?, waiter: CheckedContinuation<T, any Error>?)>((nil, nil))

    /// Settles the answer unless it is settled already.
    func give(_ result: Result<T, any Error>) {
        let waiter: CheckedContinuation<T, any Error>? = state.withLock { s in
            guard s.result == nil else { return nil }
            s.result = result
            let w = s.waiter
            s.waiter = nil
            return w
        }
        waiter?.resume(with: result)
    }

    /// Waits for the answer.
    var value: T {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<T, any Error>? = state.withLock { s in
                    if let r = s.result { return r }
                    s.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }
}
