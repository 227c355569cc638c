import Foundation
import Testing
@testable import WarrenCore

@Suite struct IndexFeedFormatTests {
    @Test func timestampsAreRFC3339WithMicrosecondsAndReadBack() throws {
        #expect(IndexFeed.timestamp(1_554_923_332.997_264_5) == "2019-04-10T19:08:52.997264Z")
        #expect(IndexFeed.timestamp(0) == "1970-01-01T00:00:00.000000Z")
        let t = try #require(IndexFeed.parseTimestamp("2019-04-10T19:08:52.997264Z"))
        #expect(abs(t - 1_554_923_332.997264) < 0.000_001)
        #expect(IndexFeed.parseTimestamp("2019-04-10T19:08:52Z") == 1_554_923_332)
        // A timestamp given back never excludes its own entry (cut, not rounded).
        let stored = 1_700_000_000.123_456_9
        #expect(try #require(IndexFeed.parseTimestamp(IndexFeed.timestamp(stored))) <= stored)
    }

    @Test(arguments: ["", "yesterday", "2019-04-10", "2019-04-10T19:08:52", "2019-04-10T19:08:52+01:00", "2019-13-10T19:08:52Z",
                      "2019-04-10T19:08:52.Z", "2019-04-10T19:08:52.5ZZ"])
    func malformedTimesAreRefused(_ text: String) {
        #expect(IndexFeed.parseTimestamp(text) == nil)
    }

    @Test func linesAndCatalogAreJSON() throws {
        let v = [IndexedVersion(module: "example.com/\"q\"", version: "v1.0.0", storedAt: 1)]
        let line = IndexFeed.indexLines(v)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(object?["Path"] == "example.com/\"q\"")
        let catalog = IndexFeed.catalogJSON(v, pageSize: 1)
        #expect(catalog.contains("\"next\":\"example.com/\\\"q\\\"@v1.0.0\""))
        #expect(IndexFeed.parseCatalogToken("example.com/m@v1.0.0")! == ("example.com/m", "v1.0.0"))
        #expect(IndexFeed.catalogJSON(v, pageSize: 5).contains("\"next\":\"\""))
    }
}
