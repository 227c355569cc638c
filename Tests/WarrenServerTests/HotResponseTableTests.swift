import HTTPTypes
import NIOCore
import Testing
@testable import WarrenCore
@testable import WarrenServer

/// The fast path's table: only whole immutable answers, bounded by bytes, first in first out.
@Suite struct HotResponseTableTests {
    func served(_ text: String, policy: CachePolicy = .immutable) -> ServedArtifact {
        ServedArtifact(body: .bytes(ByteBuffer(string: text)), contentType: "application/json", etag: "\"e\"", lastModified: 0,
                       cachePolicy: policy, cacheStatus: .miss, origin: nil)
    }

    @Test func onlyImmutableAnswersAreKept() {
        let table = HotResponseTable(capacity: 1 << 20, serverName: "warren")
        table.remember(rawPath: "/a", served: served("a"), headers: HTTPFields(), endpoint: "info")
        table.remember(rawPath: "/list", served: served("v1.0.0\n", policy: .fresh(seconds: 60)), headers: HTTPFields(), endpoint: "list")
        #expect(table.get("/a") != nil)
        #expect(table.get("/list") == nil, "a list that can change was kept for the fast path")
        let head = try? #require(table.get("/a")?.head)
        #expect(head?.headers["x-warren-cache"].first == "hit")
        #expect(head?.headers["content-length"].first == "1")
        #expect(head?.headers["date"].isEmpty == true, "the Date header must be written per answer")
        table.forget("/a")
        #expect(table.get("/a") == nil)
    }

    @Test func theOldestAnswersLeaveFirstWhenFull() {
        // Each answer costs its bytes plus 512; an answer over an eighth of the capacity is not kept.
        let table = HotResponseTable(capacity: 8 * 1024, serverName: "warren")
        table.remember(rawPath: "/big", served: served(String(repeating: "x", count: 2000)), headers: HTTPFields(), endpoint: "info")
        #expect(table.get("/big") == nil)
        for i in 0..<20 {
            table.remember(rawPath: "/\(i)", served: served(String(repeating: "y", count: 100)), headers: HTTPFields(), endpoint: "info")
        }
        #expect(table.get("/0") == nil, "the first answer was not evicted")
        #expect(table.get("/19") != nil, "the newest answer was evicted")
        let kept = (0..<20).filter { table.get("/\($0)") != nil }
        #expect(kept.count * (100 + 512) <= 8 * 1024)
        #expect(kept == Array((20 - kept.count)..<20), "eviction was not first in, first out: \(kept)")
    }
}
