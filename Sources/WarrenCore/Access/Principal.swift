/// Who is asking: nobody in particular, or the holder of a token (a user, with the
/// groups the token or the login provider gave, and the token's scopes).
public enum Principal: Sendable, Equatable {
    case anonymous
    case user(UserIdentity)

    /// For logs, audit and error messages: `anonymous` or the user's name (never a
    /// secret).
    public var displayName: String {
        switch self {
        case .anonymous: return "anonymous"
        case .user(let identity): return identity.name
        }
    }
}

/// An authenticated caller.
public struct UserIdentity: Sendable, Equatable {
    public var name: String
    public var groups: [String]
    /// The token's scopes; empty: the user's full rights.
    public var scopes: [AccessScope]
    /// The token's ID (not its secret), for audit.
    public var tokenID: String?

    public init(name: String, groups: [String] = [], scopes: [AccessScope] = [], tokenID: String? = nil) {
        self.name = name
        self.groups = groups
        self.scopes = scopes
        self.tokenID = tokenID
    }
}
