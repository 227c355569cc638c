import GoModule

/// Which versions a policy rule covers: comparisons joined by commas, all of which must
/// hold (`< v0.17.0`, `>= v1.2.0, < v1.4.0`), in semantic-version order (pre-releases
/// and pseudo-versions included). No comparison: every version.
public struct VersionConstraint: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "="
    }

    public let terms: [(comparison: Comparison, version: String)]

    public static let any = VersionConstraint(terms: [])

    init(terms: [(comparison: Comparison, version: String)]) {
        self.terms = terms
    }

    /// `< v0.17.0` or `>=v1.0.0, <v1.2.0`.
    public init(_ text: String) throws(PolicyRuleError) {
        var terms: [(Comparison, String)] = []
        for part in text.split(separator: ",") {
            let term = part.trimmingCharacters(in: .whitespaces)
            guard let comparison = Comparison.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count })
                .first(where: { term.hasPrefix($0.rawValue) }) else {
                throw PolicyRuleError(description: "want a comparison such as < v1.2.3, not \(GoQuote.string(term))")
            }
            let version = term.dropFirst(comparison.rawValue.count).trimmingCharacters(in: .whitespaces)
            guard ModuleVersion.canonical(version) == version, !version.isEmpty else {
                throw PolicyRuleError(description: "\(GoQuote.string(version)) is not a canonical version (such as v1.2.3)")
            }
            terms.append((comparison, version))
        }
        self.terms = terms
    }

    public func contains(_ version: String) -> Bool {
        terms.allSatisfy { term in
            let c = SemVer.compare(version, term.version)
            switch term.comparison {
            case .less: return c < 0
            case .lessOrEqual: return c <= 0
            case .greater: return c > 0
            case .greaterOrEqual: return c >= 0
            case .equal: return c == 0
            }
        }
    }

    public var isAny: Bool { terms.isEmpty }

    public var description: String { terms.map { "\($0.comparison.rawValue) \($0.version)" }.joined(separator: ", ") }

    public static func == (a: VersionConstraint, b: VersionConstraint) -> Bool { a.description == b.description }
}

/// A policy rule or vulnerability record that does not parse; says what is wrong.
public struct PolicyRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
