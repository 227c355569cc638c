import NIOCore
import Synchronization

/// Builds zips ahead of the client, for versions that direct mode has just resolved.
///
/// `go mod download` (and every build that fills a module cache) first asks for the
/// `.info` and `.mod` of each module one after another, and only then for the zips, two
/// at a time. From a proxy that is a fast file read; from direct mode each zip is built
/// from git, and building it only when it is asked for leaves the CPU idle through the
/// whole first phase. So once direct mode has answered a `.info`, the zip is queued
/// here: by the time the client asks, it is stored or already being built (the request
/// joins that build, as concurrent requests for one zip always do).
///
/// At most `concurrency` builds run at once and at most `queueLimit` wait; beyond that a
/// prefetch is dropped (the client's own request still builds the zip). Draining drops
/// whatever has not started.
final class ZipPrefetcher: Sendable {
    typealias Job = @Sendable () async -> Void

    private let continuation: AsyncStream<Job>.Continuation
    private let consumer: Task<Void, Never>
    private let state = State()
    let queueLimit: Int

    /// Shared with the consumer task, which must not hold the prefetcher itself.
    private final class State: Sendable {
        let queued = Atomic<Int>(0)
        let draining = Atomic<Bool>(false)
    }

    init(concurrency: Int = max(2, System.coreCount), queueLimit: Int = 256) {
        self.queueLimit = queueLimit
        let (stream, continuation) = AsyncStream.makeStream(of: Job.self)
        self.continuation = continuation
        let state = self.state
        self.consumer = Task {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for await job in stream {
                    if running >= concurrency {
                        await group.next()
                        running -= 1
                    }
                    state.queued.subtract(1, ordering: .relaxed)
                    if state.draining.load(ordering: .relaxed) { continue }
                    group.addTask { await job() }
                    running += 1
                }
            }
        }
    }

    deinit {
        continuation.finish()
    }

    /// Queues `job`; false when the queue is full or the prefetcher is draining.
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        guard !state.draining.load(ordering: .relaxed) else { return false }
        guard state.queued.add(1, ordering: .relaxed).newValue <= queueLimit else {
            state.queued.subtract(1, ordering: .relaxed)
            return false
        }
        if case .enqueued = continuation.yield(job) { return true }
        state.queued.subtract(1, ordering: .relaxed)
        return false
    }

    /// Whether `drain()` has begun: nothing more is queued or started.
    var isDraining: Bool { state.draining.load(ordering: .relaxed) }

    /// Drops queued jobs and waits for the running ones.
    func drain() async {
        state.draining.store(true, ordering: .relaxed)
        continuation.finish()
        await consumer.value
    }
}
