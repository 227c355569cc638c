/// Which version control systems direct fetches may use for which modules: the GOVCS
/// setting (go.dev/ref/mod#vcs-govcs), `pattern:vcs|vcs,...`.
///
/// A pattern is a module path pattern (as in GOPRIVATE) or `public` / `private`; the
/// systems are names (`git`, `hg`, …), `all` or `off`. The first rule whose pattern
/// matches decides; when none matches, the go command's default decides
/// (`public:git|hg,private:all`). Warren itself only speaks git, so any other answer
/// still ends in a refusal, but with the right reason.
public struct VCSRules: Sendable, Equatable, CustomStringConvertible {
    public struct Rule: Sendable, Equatable {
        /// A module path pattern, or "public" / "private".
        public var pattern: String
        /// Allowed systems; empty means `off`, ["all"] everything.
        public var allowed: [String]
    }

    public struct Malformed: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let rules: [Rule]
    public let text: String

    public static let defaultRules = [Rule(pattern: "public", allowed: ["git", "hg"]), Rule(pattern: "private", allowed: ["all"])]

    /// The go command's default alone (what an empty GOVCS means).
    public static let fallback = VCSRules(rules: [], text: "")

    private init(rules: [Rule], text: String) {
        self.rules = rules
        self.text = text
    }

    public init(_ text: String) throws(Malformed) {
        self.text = text
        var rules: [Rule] = []
        var seen: Set<String> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = Self.trim(Substring(item))
            if entry.isEmpty { continue }
            guard let colon = entry.lastIndex(of: ":") else {
                throw Malformed(description: "malformed entry \(GoQuote.string(entry)): no colon")
            }
            let pattern = Self.trim(entry[..<colon])
            let list = Self.trim(entry[entry.index(after: colon)...])
            guard !pattern.isEmpty, !list.isEmpty else {
                throw Malformed(description: "malformed entry \(GoQuote.string(entry)): empty pattern or list")
            }
            guard seen.insert(pattern).inserted else {
                throw Malformed(description: "unreachable pattern \(GoQuote.string(pattern)): it appears twice")
            }
            let systems = list.split(separator: "|").map(String.init)
            if systems.contains("off") || systems.contains("all") {
                guard systems.count == 1 else {
                    throw Malformed(description: "malformed entry \(GoQuote.string(entry)): \(systems.contains("off") ? "off" : "all") must stand alone")
                }
            }
            rules.append(Rule(pattern: pattern, allowed: systems == ["off"] ? [] : systems))
        }
        self.rules = rules
    }

    public var description: String { text.isEmpty ? "public:git|hg,private:all (default)" : text }

    /// Whether `vcs` may be used for `module`, and the rule that decided.
    public func allows(_ vcs: String, module: String, isPrivate: Bool) -> (allowed: Bool, rule: String) {
        for rule in rules + Self.defaultRules {
            let applies: Bool
            switch rule.pattern {
            case "public": applies = !isPrivate
            case "private": applies = isPrivate
            default: applies = ModulePathPatterns(rule.pattern).matches(module)
            }
            guard applies else { continue }
            let text = rule.pattern + ":" + (rule.allowed.isEmpty ? "off" : rule.allowed.joined(separator: "|"))
            return (rule.allowed == ["all"] || rule.allowed.contains(vcs), text)
        }
        return (false, "none")
    }

    private static func trim(_ s: Substring) -> String {
        String(s.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
