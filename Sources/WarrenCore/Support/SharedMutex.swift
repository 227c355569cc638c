import Synchronization

/// A `Mutex` behind a reference, for a value that copies of a struct share (a `Mutex` is
/// non-copyable, so a struct cannot hold one directly and stay copyable).
public final class SharedMutex<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) {
        mutex = Mutex(value)
    }

    public func withLock<T>(_ body: (inout sending Value) throws -> sending T) rethrows -> sending T {
        try mutex.withLock(body)
    }
}
