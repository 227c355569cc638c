import GoModule

/// A token scope, `RIGHT:PATTERNS` (`read:git.corp.example.com/backend/*`): a token with
/// scopes grants its holder at most these rights, and only where a scope's patterns
/// match; it never grants more than the owner has.
public struct AccessScope: Sendable, Equatable, CustomStringConvertible {
    public let rights: Set<AccessRight>
    public let modules: ModulePathPatterns
    /// As written, for listings.
    public let text: String

    public init(_ text: String) throws(AccessRuleError) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw AccessRuleError(description: "scope \(GoQuote.string(text)): want RIGHT:PATTERNS, such as read:git.corp.example.com/*")
        }
        rights = try AccessRight.parseList(text[..<colon])
        let patterns = String(text[text.index(after: colon)...])
        guard !patterns.isEmpty else { throw AccessRuleError(description: "scope \(GoQuote.string(text)): no module pattern") }
        modules = ModulePathPatterns(patterns)
        self.text = text
    }

    public var description: String { text }
}
