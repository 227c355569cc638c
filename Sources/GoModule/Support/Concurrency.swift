import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A thread-safe counter that hands out consecutive indices to worker threads.
final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Returns the current value and increments it.
    func increment() -> Int {
        value.add(1, ordering: .relaxed).oldValue
    }
}

enum ProcessorCount {
    /// The number of CPUs this process may use.
    static var active: Int {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? n : 1
    }
}
