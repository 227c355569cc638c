import SQLiteNIO
import WarrenCore

/// Imported vulnerability records in the same file, one transaction per import.
extension SQLiteMetadataIndex: VulnerabilityStore {
    public func importVulnerabilities(_ records: [(id: String, json: String)]) async throws {
        try await transaction {
            for r in records {
                _ = try await connection.query("INSERT INTO vulnerabilities (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                                                [.text(r.id), .text(r.json)])
            }
            _ = try await connection.query("UPDATE vulnerability_generation SET generation = generation + 1 WHERE id = 1", [])
        }
    }

    public func vulnerabilityRecords() async throws -> [String] {
        try await connection.query("SELECT record FROM vulnerabilities ORDER BY id", []).compactMap { $0.column("record")?.string }
    }

    public func vulnerabilityGeneration() async throws -> Int64 {
        Int64(try await connection.query("SELECT generation FROM vulnerability_generation WHERE id = 1", []).first?.column("generation")?.integer ?? 0)
    }
}
