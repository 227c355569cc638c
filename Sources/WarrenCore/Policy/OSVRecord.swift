import Foundation
import GoModule

/// A vulnerability in the OSV format the Go vulnerability database publishes
/// (vuln.go.dev, ossf.github.io/osv-schema): an ID, aliases (CVEs, GHSAs), a summary, and
/// for each affected Go module the SEMVER ranges of affected versions as events
/// (`introduced`, `fixed`, `last_affected`; versions without the `v`, "0" for the start).
public struct OSVRecord: Sendable, Equatable {
    public var id: String
    public var modified: String?
    public var aliases: [String]
    public var summary: String?
    public var affected: [Affected]

    public struct Affected: Sendable, Equatable {
        public var module: String
        /// Each range: its events in the order given.
        public var ranges: [[Event]]
    }

    public enum Event: Sendable, Equatable {
        case introduced(String)
        case fixed(String)
        case lastAffected(String)
    }

    /// Parses one record; the error names what is missing or malformed.
    public init(json: [UInt8]) throws(PolicyRuleError) {
        struct Wire: Decodable {
            struct Package: Decodable { var name: String?; var ecosystem: String? }
            struct Range: Decodable { var type: String?; var events: [[String: String]]? }
            struct Affected: Decodable { var package: Package?; var ranges: [Range]? }
            var id: String?
            var modified: String?
            var aliases: [String]?
            var summary: String?
            var details: String?
            var affected: [Affected]?
        }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(json))
        } catch {
            throw PolicyRuleError(description: "not an OSV record: \(error)")
        }
        guard let id = wire.id, !id.isEmpty, !id.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw PolicyRuleError(description: "OSV record without an id")
        }
        var affected: [Affected] = []
        for a in wire.affected ?? [] {
            guard a.package?.ecosystem == "Go", let module = a.package?.name else { continue }
            var ranges: [[Event]] = []
            for r in a.ranges ?? [] where r.type == "SEMVER" {
                var events: [Event] = []
                for e in r.events ?? [] {
                    if let v = e["introduced"] { events.append(.introduced(v)) }
                    else if let v = e["fixed"] { events.append(.fixed(v)) }
                    else if let v = e["last_affected"] { events.append(.lastAffected(v)) }
                    else { throw PolicyRuleError(description: "\(id): an event that is none of introduced, fixed, last_affected") }
                }
                ranges.append(events)
            }
            // No ranges: every version is affected.
            affected.append(Affected(module: module, ranges: ranges.isEmpty ? [[.introduced("0")]] : ranges))
        }
        guard !affected.isEmpty else { throw PolicyRuleError(description: "\(id): affects no Go module") }
        self.id = id
        self.modified = wire.modified
        self.aliases = wire.aliases ?? []
        self.summary = (wire.summary ?? wire.details).map { ProxyError.oneLine($0) }
        self.affected = affected
    }

    /// Whether `version` of `module` is affected: inside some range, between an
    /// `introduced` and the next `fixed` (or up to and including a `last_affected`).
    public func affects(_ module: String, version: String) -> Bool {
        let v = SemVer.canonical(version)
        guard !v.isEmpty else { return false }
        for a in affected where a.module == module {
            for events in a.ranges where Self.inRange(v, events) { return true }
        }
        return false
    }

    static func inRange(_ v: String, _ events: [Event]) -> Bool {
        // Events by version; at equal versions, introduced before fixed.
        func key(_ e: Event) -> (String, Int) {
            switch e {
            case .introduced(let x): return (semver(x), 0)
            case .lastAffected(let x): return (semver(x), 1)
            case .fixed(let x): return (semver(x), 2)
            }
        }
        let sorted = events.sorted { a, b in
            let (va, ka) = key(a), (vb, kb) = key(b)
            let c = SemVer.compare(va, vb)
            return c != 0 ? c < 0 : ka < kb
        }
        var affected = false
        for e in sorted {
            let (at, _) = key(e)
            switch e {
            case .introduced:
                if SemVer.compare(at, v) <= 0 { affected = true }
            case .fixed:
                if SemVer.compare(at, v) <= 0 { affected = false }
            case .lastAffected:
                if SemVer.compare(at, v) < 0 { affected = false }
            }
        }
        return affected
    }

    /// OSV writes Go versions without the `v`; "0" is the beginning of time.
    static func semver(_ x: String) -> String {
        x == "0" ? "v0.0.0-0" : (x.hasPrefix("v") ? x : "v" + x)
    }

    /// `GO-2023-2402 (CVE-2023-48795)`
    public var label: String { aliases.isEmpty ? id : "\(id) (\(aliases.prefix(2).joined(separator: ", ")))" }

    /// The first fixed version of `module` above `version`, if any: the refusal's advice.
    public func fix(for module: String, above version: String) -> String? {
        var fixes: [String] = []
        for a in affected where a.module == module {
            for events in a.ranges {
                for case .fixed(let x) in events where SemVer.compare(Self.semver(x), version) > 0 { fixes.append(Self.semver(x)) }
            }
        }
        SemVer.sort(&fixes)
        return fixes.first
    }
}
