import GoModule

/// What a caller may do with a module path.
///
/// `read` downloads what is cached; `fetch` also makes Warren fetch what is not (from an
/// upstream or version control: reading must not let anyone pull arbitrary code in, so
/// the two are apart); `publish` is for hosted modules; `admin` may do everything,
/// tokens and audit included. Each right includes the ones before it except `publish`,
/// which includes `read` only.
public enum AccessRight: String, Sendable, CaseIterable, Comparable {
    case read, fetch, publish, admin

    /// The rights this one grants.
    public var granted: Set<AccessRight> {
        switch self {
        case .read: return [.read]
        case .fetch: return [.read, .fetch]
        case .publish: return [.read, .publish]
        case .admin: return Set(AccessRight.allCases)
        }
    }

    public static func < (a: AccessRight, b: AccessRight) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }

    /// `read,fetch` → both (and what they include).
    static func parseList(_ text: Substring) throws(AccessRuleError) -> Set<AccessRight> {
        var rights: Set<AccessRight> = []
        for name in text.split(separator: ",") {
            guard let right = AccessRight(rawValue: String(name)) else {
                throw AccessRuleError(description: "unknown right \(GoQuote.string(String(name))) (want read, fetch, publish, admin)")
            }
            rights.formUnion(right.granted)
        }
        return rights
    }
}

/// A rule or scope that does not parse; the message says what is wrong.
public struct AccessRuleError: Error, CustomStringConvertible, Equatable {
    public let description: String
}
