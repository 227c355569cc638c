import Testing
@testable import WarrenCore

@Suite struct DownloadTallyTests {
    @Test func countsAddUpAndDrainOnce() {
        let tally = DownloadTally()
        tally.count(module: "example.com/a", version: "v1.0.0", at: 10)
        tally.count(module: "example.com/a", version: "v1.0.0", at: 30)
        tally.count(module: "example.com/a", version: "v1.0.0", at: 20)
        tally.count(module: "example.com/b", version: "v0.1.0", at: 5)
        let drained = tally.drain().sorted { $0.module < $1.module }
        #expect(drained == [DownloadCount(module: "example.com/a", version: "v1.0.0", count: 3, lastAccess: 30),
                            DownloadCount(module: "example.com/b", version: "v0.1.0", count: 1, lastAccess: 5)])
        #expect(tally.drain().isEmpty)
    }

    @Test func whatCouldNotBeWrittenComesBackAndItStaysBounded() {
        let tally = DownloadTally(limit: 2)
        tally.count(module: "example.com/a", version: "v1.0.0", at: 10)
        let batch = tally.drain()
        tally.count(module: "example.com/a", version: "v1.0.0", at: 40)
        tally.count(module: "example.com/b", version: "v1.0.0", at: 40)
        // Full: a third version is not counted.
        tally.count(module: "example.com/c", version: "v1.0.0", at: 40)
        #expect(tally.dropped == 1)
        tally.restore(batch)
        let drained = tally.drain().sorted { $0.module < $1.module }
        #expect(drained.map(\.count) == [2, 1])
        #expect(drained.first?.lastAccess == 40)
    }
}
