/// The record a deleted hosted version leaves in storage: enough to refuse the same
/// version with other bytes for ever, and to tell clients why it is gone.
public struct Tombstone: Codable, Sendable, Equatable {
    /// The `h1:` of the deleted zip and go.mod.
    public var zipHash: String
    public var modHash: String?
    /// When (seconds since 1970), and by whom (a user name, never a credential).
    public var deletedAt: Double
    public var deletedBy: String
    public var reason: String?

    public init(zipHash: String, modHash: String?, deletedAt: Double, deletedBy: String, reason: String?) {
        self.zipHash = zipHash
        self.modHash = modHash
        self.deletedAt = deletedAt
        self.deletedBy = deletedBy
        self.reason = reason
    }
}
