import PostgresNIO
import WarrenCore

/// Imported vulnerability records shared by replicas, one transaction per import.
extension PostgresMetadataIndex: VulnerabilityStore {
    public func importVulnerabilities(_ records: [(id: String, json: String)]) async throws {
        let ids = records.map(\.id), texts = records.map(\.json)
        try await bounded(deadline * 4) { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("""
                    INSERT INTO vulnerabilities (id, record) SELECT * FROM UNNEST(\(ids)::TEXT[], \(texts)::TEXT[])
                    ON CONFLICT (id) DO UPDATE SET record = excluded.record
                    """, logger: self.logger)
                try await connection.query("UPDATE vulnerability_generation SET generation = generation + 1 WHERE id = 1", logger: self.logger)
            }
        }
    }

    public func vulnerabilityRecords() async throws -> [String] {
        try await bounded(deadline) { [self] in
            var out: [String] = []
            for try await record in try await client.query("SELECT record FROM vulnerabilities ORDER BY id", logger: logger).decode(String.self) {
                out.append(record)
            }
            return out
        }
    }

    public func vulnerabilityGeneration() async throws -> Int64 {
        try await bounded(deadline) { [self] in
            var generation: Int64 = 0
            for try await g in try await client.query("SELECT generation FROM vulnerability_generation WHERE id = 1", logger: logger)
                .decode(Int64.self) { generation = g }
            return generation
        }
    }
}
