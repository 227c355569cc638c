import Foundation
import Testing
import WarrenCore

@Suite struct JSONStringTests {
    @Test(arguments: ["plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", "\u{01}\u{1F}\u{7F}", "módulo/日本", ""])
    func readsBackAsTheSameString(_ value: String) throws {
        let quoted = JSONString.quoted(value)
        #expect(!quoted.dropFirst().dropLast().contains { $0.isNewline })
        let decoded = try JSONDecoder().decode(String.self, from: Data(quoted.utf8))
        #expect(decoded == value)
    }
}
