import Synchronization
import Testing
@testable import WarrenCore

/// The background queue that builds direct-mode zips ahead of the client: bounded in
/// how many run, in how many wait, and emptied (not run) on shutdown.
@Suite struct ZipPrefetcherTests {
    /// A job that runs until the gate fires.
    typealias Gate = OneTimeSignal

    final class Record: Sendable {
        let running = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let done = Mutex<[String]>([])
    }

    func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }

    @Test func runsAtMostItsConcurrencyAtOnce() async throws {
        let prefetcher = ZipPrefetcher(concurrency: 2, queueLimit: 16)
        let record = Record()
        for i in 0..<6 {
            #expect(prefetcher.submit {
                let now = record.running.add(1, ordering: .relaxed).newValue
                var most = record.most.load(ordering: .relaxed)
                while now > most {
                    let (exchanged, original) = record.most.compareExchange(expected: most, desired: now, ordering: .relaxed)
                    if exchanged { break }
                    most = original
                }
                try? await Task.sleep(for: .milliseconds(30))
                record.running.subtract(1, ordering: .relaxed)
                record.done.withLock { $0.append("job \(i)") }
            })
        }
        try await waitUntil { record.done.withLock { $0.count } == 6 }
        #expect(record.most.load(ordering: .relaxed) == 2)
        await prefetcher.drain()
    }

    @Test func aFullQueueDropsAndDrainingSkipsWhatWaits() async throws {
        let prefetcher = ZipPrefetcher(concurrency: 1, queueLimit: 2)
        let gate = Gate()
        let record = Record()
        #expect(prefetcher.submit {
            record.running.add(1, ordering: .relaxed)
            await gate.wait()
            record.done.withLock { $0.append("A") }
        })
        try await waitUntil { record.running.load(ordering: .relaxed) == 1 }
        // B is taken by the queue's consumer (waiting for A's slot), C waits: two queued.
        #expect(prefetcher.submit { record.done.withLock { $0.append("B") } })
        #expect(prefetcher.submit { record.done.withLock { $0.append("C") } })
        #expect(!prefetcher.submit { record.done.withLock { $0.append("D") } }, "a third waiting job is dropped")
        // Shutdown: A finishes, B and C never start.
        async let drained: Void = prefetcher.drain()
        // A finishes only once the drain has begun (the event, not a guess at its timing).
        try await waitUntil { prefetcher.isDraining }
        gate.fire()
        await drained
        #expect(record.done.withLock { $0 } == ["A"])
        #expect(!prefetcher.submit { record.done.withLock { $0.append("E") } }, "nothing is queued after draining")
    }
}
