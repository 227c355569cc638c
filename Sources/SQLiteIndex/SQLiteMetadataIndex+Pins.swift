import SQLiteNIO
import WarrenCore

/// Pinned module patterns in the same file.
extension SQLiteMetadataIndex: PinStore {
    public func pins() async throws -> [String] {
        try await connection.query("SELECT pattern FROM pinned_modules ORDER BY pattern", []).compactMap { $0.column("pattern")?.string }
    }

    public func pin(_ pattern: String) async throws {
        _ = try await connection.query("INSERT INTO pinned_modules (pattern) VALUES (?) ON CONFLICT (pattern) DO NOTHING", [.text(pattern)])
    }

    public func unpin(_ pattern: String) async throws -> Bool {
        let had = try await connection.query("SELECT pattern FROM pinned_modules WHERE pattern = ?", [.text(pattern)]).isEmpty == false
        _ = try await connection.query("DELETE FROM pinned_modules WHERE pattern = ?", [.text(pattern)])
        return had
    }
}
