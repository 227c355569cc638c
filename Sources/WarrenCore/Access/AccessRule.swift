import GoModule

/// One line of the `permissions` setting: `WHO RIGHTS PATTERNS`, such as
/// `group:corp/backend read,fetch git.corp.example.com/backend/*`.
///
/// WHO is `anonymous` (every caller, with or without a token), `authenticated` (any
/// valid token), `user:NAME` or `group:NAME`; RIGHTS a comma-separated list of `read`,
/// `fetch`, `publish`, `admin`; PATTERNS GOPRIVATE-style module path patterns.
public struct AccessRule: Sendable, Equatable, CustomStringConvertible {
    public enum Who: Sendable, Equatable {
        case anonymous, authenticated
        case user(String)
        case group(String)

        func includes(_ principal: Principal) -> Bool {
            switch (self, principal) {
            case (.anonymous, _): return true
            case (.authenticated, .user): return true
            case (.user(let name), .user(let identity)): return identity.name == name
            case (.group(let name), .user(let identity)): return identity.groups.contains(name)
            default: return false
            }
        }
    }

    public let who: Who
    public let rights: Set<AccessRight>
    public let modules: ModulePathPatterns
    public let description: String
    /// The patterns other than `*`: what the rule closes to others (see `AccessPolicy`).
    let claimed: ModulePathPatterns

    /// Whether a pattern other than `*` names `module`.
    func claims(_ module: String) -> Bool {
        !claimed.isEmpty && claimed.matches(module)
    }

    public init(_ line: String) throws(AccessRuleError) {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 3 else {
            throw AccessRuleError(description: "permission \(GoQuote.string(line)): want WHO RIGHTS PATTERNS, "
                                  + "such as group:corp/backend read,fetch git.corp.example.com/backend/*")
        }
        let whoText = String(fields[0])
        switch whoText {
        case "anonymous": who = .anonymous
        case "authenticated": who = .authenticated
        default:
            if whoText.hasPrefix("user:"), whoText.count > 5 {
                who = .user(String(whoText.dropFirst(5)))
            } else if whoText.hasPrefix("group:"), whoText.count > 6 {
                who = .group(String(whoText.dropFirst(6)))
            } else {
                throw AccessRuleError(description: "permission \(GoQuote.string(line)): unknown WHO \(GoQuote.string(whoText)) "
                                      + "(want anonymous, authenticated, user:NAME or group:NAME)")
            }
        }
        rights = try AccessRight.parseList(fields[1])
        modules = ModulePathPatterns(String(fields[2]))
        claimed = ModulePathPatterns(modules.patterns.filter { $0 != "*" }.joined(separator: ","))
        description = fields.joined(separator: " ")
    }
}
