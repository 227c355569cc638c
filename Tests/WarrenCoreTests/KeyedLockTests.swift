import Synchronization
import Testing
@testable import WarrenCore

/// One holder per key at a time, in arrival order; other keys are not held up.
@Suite struct KeyedLockTests {
    final class Overlap: Sendable {
        let state = Mutex((inside: 0, most: 0))
        func enter() { state.withLock { $0.inside += 1; $0.most = max($0.most, $0.inside) } }
        func leave() { state.withLock { $0.inside -= 1 } }
        var most: Int { state.withLock { $0.most } }
    }

    @Test func holdersOfOneKeyNeverOverlapAndOtherKeysRunMeanwhile() async throws {
        let lock = KeyedLock<String>()
        let overlap = Overlap()
        let gate = OneTimeSignal()
        let otherKeyRan = OneTimeSignal()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    await lock.withLock("v1.0.0") {
                        overlap.enter()
                        if i == 0 { await gate.wait() }
                        await Task.yield()
                        overlap.leave()
                    }
                }
            }
            group.addTask {
                // A different key is free while the first holder waits on the gate.
                await lock.withLock("v2.0.0") { otherKeyRan.fire() }
                gate.fire()
            }
        }
        #expect(otherKeyRan.hasFired)
        #expect(overlap.most == 1)
    }

    @Test func anErrorReleasesTheKey() async throws {
        struct Boom: Error {}
        let lock = KeyedLock<Int>()
        await #expect(throws: Boom.self) { try await lock.withLock(1) { () throws(Boom) in throw Boom() } }
        let value = await lock.withLock(1) { 42 }
        #expect(value == 42)
    }
}
