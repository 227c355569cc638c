import PostgresNIO
import WarrenCore

/// Pinned module patterns, shared by replicas.
extension PostgresMetadataIndex: PinStore {
    public func pins() async throws -> [String] {
        try await bounded(deadline) { [self] in
            var out: [String] = []
            for try await p in try await client.query("SELECT pattern FROM pinned_modules ORDER BY pattern", logger: logger).decode(String.self) {
                out.append(p)
            }
            return out
        }
    }

    public func pin(_ pattern: String) async throws {
        try await bounded(deadline) { [self] in
            try await client.query("INSERT INTO pinned_modules (pattern) VALUES (\(pattern)) ON CONFLICT (pattern) DO NOTHING", logger: logger)
        }
    }

    public func unpin(_ pattern: String) async throws -> Bool {
        try await bounded(deadline) { [self] in
            var removed = false
            for try await _ in try await client.query("DELETE FROM pinned_modules WHERE pattern = \(pattern) RETURNING pattern", logger: logger)
                .decode(String.self) { removed = true }
            return removed
        }
    }
}
