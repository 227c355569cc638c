import Foundation

/// What an exporting Warren has carried out in bundles before, per checksum database: the
/// tree heads, the record ids and the full tiles. A weekly bundle proves the earlier
/// records and heads against its own, newer head (clients that have seen the newer head
/// verify everything against it), and leaves out full tiles that an earlier bundle
/// carried (they never change, and the importer keeps them). Kept as JSON in the data
/// directory, replaced atomically once a bundle is complete.
public struct BundleLedger: Codable, Sendable, Equatable {
    public struct Database: Codable, Sendable, Equatable {
        public var heads: [String] = []
        public var records: [Int64] = []
        public var fullTiles: [String] = []
    }

    public var databases: [String: Database] = [:]

    public init() {}

    public static func load(path: String) throws -> BundleLedger {
        guard let data = FileManager.default.contents(atPath: path) else { return BundleLedger() }
        return try JSONDecoder().decode(BundleLedger.self, from: data)
    }

    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
