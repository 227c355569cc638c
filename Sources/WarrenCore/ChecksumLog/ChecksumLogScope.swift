/// What Warren's own checksum database records besides published versions (which it
/// always records): with `private`, also versions fetched direct from version control
/// (the private patterns); with `all`, also public versions once verified against the
/// checksum database they belong to. So a team can point GOSUMDB at Warren alone.
public enum ChecksumLogScope: String, Sendable, Equatable, CaseIterable {
    case hosted, `private`, all
}
