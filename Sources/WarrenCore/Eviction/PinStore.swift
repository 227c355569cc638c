/// Module path patterns an operator pinned (`warren cache pin`): eviction never removes
/// them. Kept in the metadata index's database, so every replica honours them.
public protocol PinStore: Sendable {
    func pins() async throws -> [String]
    func pin(_ pattern: String) async throws
    /// False when it was not pinned.
    func unpin(_ pattern: String) async throws -> Bool
}
