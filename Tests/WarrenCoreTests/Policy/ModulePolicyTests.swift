import Foundation
import Synchronization
import Testing
@testable import WarrenCore

/// The policy's decisions: rules in order, allow exemptions, allow-only lists, rules
/// with and without versions, and OSV ranges (introduced, fixed, last_affected).
@Suite struct ModulePolicyTests {
    final class MemoryVulnerabilities: VulnerabilityStore {
        let records = Mutex<[String]>([])
        let generation = Atomic<Int64>(0)
        func importVulnerabilities(_ records: [(id: String, json: String)]) async throws {
            self.records.withLock { $0 += records.map(\.json) }
            generation.add(1, ordering: .relaxed)
        }
        func vulnerabilityRecords() async throws -> [String] { records.withLock { $0 } }
        func vulnerabilityGeneration() async throws -> Int64 { generation.load(ordering: .relaxed) }
    }

    static func osv(_ id: String, _ module: String, _ events: String, alias: String? = nil) -> String {
        #"{"id":"\#(id)","summary":"bad things","aliases":[\#(alias.map { "\"\($0)\"" } ?? "")],"affected":[{"package":{"name":"\#(module)","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[\#(events)]}]}]}"#
    }

    @Test func constraintsAndRulesParseOrSayWhatIsWrong() throws {
        let c = try VersionConstraint(">= v1.2.0, <v1.4.0")
        #expect(c.contains("v1.2.0") && c.contains("v1.3.9-rc.1") && !c.contains("v1.4.0") && !c.contains("v1.1.9"))
        #expect(c.contains("v1.3.1-0.20240101000000-abcdefabcdef"))
        #expect(throws: PolicyRuleError.self) { try VersionConstraint("~> v1.2") }
        #expect(throws: PolicyRuleError.self) { try VersionConstraint("< 1.2") }
        let rule = try PolicyRule(#"deny golang.org/x/crypto,golang.org/x/net < v0.17.0 "CVE-2023-48795: upgrade""#)
        #expect(rule.kind == .deny && rule.reason == "CVE-2023-48795: upgrade" && rule.versions.description == "< v0.17.0")
        #expect(rule.matches("golang.org/x/net", version: "v0.16.0") && !rule.matches("golang.org/x/net", version: "v0.17.0"))
        // A rule with a version range does not refuse the module as a whole.
        #expect(!rule.matches("golang.org/x/crypto", version: nil))
        #expect(throws: PolicyRuleError.self) { try PolicyRule("block github.com/evil/*") }
        #expect(throws: PolicyRuleError.self) { try PolicyRule("allow-only github.com/* < v1.0.0") }
        #expect(throws: PolicyRuleError.self) { try PolicyRule("deny github.com/[evil") }
    }

    @Test func rulesDecideInOrderAndAllowOnlyListsCloseTheRest() throws {
        let policy = ModulePolicy(rules: try [
            "allow golang.org/x/text >= v0.7.0",
            #"deny golang.org/x/* < v0.8.0 "upgrade golang.org/x""#,
            "deny github.com/evil/*",
            "allow-only github.com/*,golang.org/x/*",
        ].map(PolicyRule.init), vulnerabilities: .off, store: nil)
        #expect(policy.decide("golang.org/x/text", version: "v0.7.0") == .allowed)
        #expect(policy.decide("golang.org/x/net", version: "v0.7.0") == .denied("golang.org/x/net@v0.7.0 is denied by policy: upgrade golang.org/x"))
        #expect(policy.decide("golang.org/x/net", version: "v0.8.0") == .allowed)
        #expect(policy.decide("golang.org/x/net", version: nil) == .allowed)
        #expect(policy.decide("github.com/evil/tool", version: nil) == .denied(#"github.com/evil/tool is denied by policy: rule "deny github.com/evil/*""#))
        #expect(policy.decide("gopkg.in/yaml.v3", version: "v3.0.1") == .denied("gopkg.in/yaml.v3 is not on the allow-only list of this proxy's policy"))
    }

    @Test func osvRangesFollowTheSchema() throws {
        let record = try OSVRecord(json: Array(Self.osv("GO-1", "example.com/m",
            #"{"introduced":"0"},{"fixed":"1.2.3"},{"introduced":"1.5.0"},{"last_affected":"1.5.2"}"#).utf8))
        for (version, affected) in [("v0.0.0-20200101000000-abcdefabcdef", true), ("v1.2.2", true), ("v1.2.3", false), ("v1.4.9", false),
                                    ("v1.5.0", true), ("v1.5.2", true), ("v1.5.3", false)] {
            #expect(record.affects("example.com/m", version: version) == affected, "\(version)")
        }
        #expect(!record.affects("example.com/other", version: "v1.0.0"))
        #expect(record.fix(for: "example.com/m", above: "v1.0.0") == "v1.2.3")
        #expect(throws: PolicyRuleError.self) { try OSVRecord(json: Array(#"{"id":"GO-2","affected":[{"package":{"name":"x","ecosystem":"npm"}}]}"#.utf8)) }
        #expect(throws: PolicyRuleError.self) { try OSVRecord(json: Array("not json".utf8)) }
    }

    @Test func vulnerabilitiesBlockOrWarnOnceLoadedAndTheVersionMoves() async throws {
        let store = MemoryVulnerabilities()
        let block = ModulePolicy(rules: [], vulnerabilities: .block, store: store)
        let warn = ModulePolicy(rules: [], vulnerabilities: .warn, store: store)
        try await block.refresh()
        #expect(block.decide("example.com/m", version: "v1.0.0") == .allowed)
        let before = block.version
        try await store.importVulnerabilities([("GO-9", Self.osv("GO-9", "example.com/m", #"{"introduced":"0"},{"fixed":"1.1.0"}"#, alias: "CVE-2099-9"))])
        #expect(try await block.refresh())
        #expect(!(try await block.refresh()))
        #expect(block.version != before)
        #expect(block.decide("example.com/m", version: "v1.0.0")
                == .denied("example.com/m@v1.0.0 has known vulnerability GO-9 (CVE-2099-9): bad things; fixed in v1.1.0"))
        #expect(block.decide("example.com/m", version: "v1.1.0") == .allowed)
        #expect(block.decide("example.com/m", version: nil) == .allowed)
        try await warn.refresh()
        #expect(warn.decide("example.com/m", version: "v1.0.0") == .warned(["GO-9"]))
    }
}
