import PostgresNIO
import WarrenCore

/// Browsing modules for the console: one row per module path, filtered by a substring.
extension PostgresMetadataIndex {
    public func modules(containing search: String, after: String?, limit: Int) async throws -> [IndexedModule] {
        // strpos() instead of LIKE: a search for "%" or "_" means those characters.
        let after = after ?? ""
        return try await bounded(deadline) { [self] in
            var out: [IndexedModule] = []
            let rows = try await client.query("""
                SELECT module, COUNT(*)::BIGINT, COALESCE(SUM(downloads), 0)::BIGINT, COALESCE(SUM(zip_size), 0)::BIGINT, MAX(stored_at)
                FROM module_versions WHERE strpos(lower(module), lower(\(search))) > 0 AND module COLLATE "C" > \(after)
                GROUP BY module ORDER BY module COLLATE "C" LIMIT \(limit)
                """, logger: logger)
            for try await (module, versions, downloads, bytes, lastStored) in rows.decode((String, Int64, Int64, Int64, Double).self) {
                out.append(IndexedModule(module: module, versions: Int(versions), downloads: downloads, zipBytes: bytes, lastStored: lastStored))
            }
            return out
        }
    }
}
