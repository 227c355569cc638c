import SQLiteNIO
import WarrenCore

/// Browsing modules for the console: one row per module path, filtered by a substring.
extension SQLiteMetadataIndex {
    public func modules(containing search: String, after: String?, limit: Int) async throws -> [IndexedModule] {
        // instr() instead of LIKE: a search for "%" or "_" means those characters.
        let rows = try await connection.query("""
            SELECT module, COUNT(*) AS versions, SUM(downloads) AS downloads, SUM(COALESCE(zip_size, 0)) AS zip_bytes,
                   MAX(stored_at) AS last_stored
            FROM module_versions WHERE instr(lower(module), lower(?)) > 0 AND module > ?
            GROUP BY module ORDER BY module LIMIT ?
            """, [.text(search), .text(after ?? ""), .integer(limit)])
        return rows.map { row in
            IndexedModule(module: row.column("module")?.string ?? "", versions: row.column("versions")?.integer ?? 0,
                          downloads: Int64(row.column("downloads")?.integer ?? 0), zipBytes: Int64(row.column("zip_bytes")?.integer ?? 0),
                          lastStored: row.column("last_stored")?.double ?? 0)
        }
    }
}
