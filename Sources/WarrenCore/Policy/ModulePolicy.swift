import Foundation
import GoModule
import Synchronization

/// The supply-chain policy, decided before anything is fetched or served: the `policy`
/// rules (deny, allow, allow-only) and known vulnerabilities (imported OSV records),
/// which either block affected versions or only warn about them.
public final class ModulePolicy: Sendable {
    public enum VulnerabilityMode: String, Sendable, CaseIterable {
        /// Records are ignored.
        case off
        /// Affected versions are served with a warning header, a log line and a metric.
        case warn
        /// Affected versions are refused (403) naming the vulnerability and the fix.
        case block
    }

    public enum Decision: Sendable, Equatable {
        case allowed
        /// Served, with these vulnerabilities named (warn mode).
        case warned([String])
        /// Refused, with the one line the go command prints.
        case denied(String)
    }

    public let rules: [PolicyRule]
    public let vulnerabilities: VulnerabilityMode
    let store: (any VulnerabilityStore)?
    /// Records by affected module, and the store generation they were loaded at.
    private let loaded = Mutex<(byModule: [String: [OSVRecord]], generation: Int64?)>(([:], nil))
    private let versionCounter = Atomic<Int>(0)

    public init(rules: [PolicyRule], vulnerabilities: VulnerabilityMode, store: (any VulnerabilityStore)?) {
        self.rules = rules
        self.vulnerabilities = vulnerabilities
        self.store = store
    }

    /// Whether there is anything to decide (else requests skip it).
    public var isEmpty: Bool { rules.isEmpty && (vulnerabilities == .off || store == nil) }

    /// Moves whenever what the policy decides may have changed (records reloaded):
    /// answers remembered under an older version must be decided again.
    public var version: Int { versionCounter.load(ordering: .acquiring) }

    /// Reloads the records if the store's generation moved; returns whether it did.
    @discardableResult
    public func refresh() async throws -> Bool {
        guard let store, vulnerabilities != .off else { return false }
        let generation = try await store.vulnerabilityGeneration()
        if loaded.withLock({ $0.generation == generation }) { return false }
        var byModule: [String: [OSVRecord]] = [:]
        for json in try await store.vulnerabilityRecords() {
            guard let record = try? OSVRecord(json: Array(json.utf8)) else { continue }
            for module in Set(record.affected.map(\.module)) { byModule[module, default: []].append(record) }
        }
        loaded.withLock { $0 = (byModule, generation) }
        versionCounter.add(1, ordering: .releasing)
        return true
    }

    /// The decision for `module` at `version` (nil: the module as a whole — `list`,
    /// `@latest`, version queries — which only whole-module rules refuse).
    public func decide(_ module: String, version: String?) -> Decision {
        for rule in rules where rule.kind != .allowOnly && rule.matches(module, version: version) {
            if rule.kind == .allow { return vulnerabilityDecision(module, version) }
            let what = version.map { "\(module)@\($0)" } ?? module
            return .denied("\(what) is denied by policy: \(rule.reason ?? "rule \(GoQuote.string(rule.text))")")
        }
        let lists = rules.filter { $0.kind == .allowOnly }
        if !lists.isEmpty, !lists.contains(where: { $0.modules.matches(module) }) {
            return .denied("\(module) is not on the allow-only list of this proxy's policy")
        }
        return vulnerabilityDecision(module, version)
    }

    func vulnerabilityDecision(_ module: String, _ version: String?) -> Decision {
        guard vulnerabilities != .off, let version else { return .allowed }
        let affecting = loaded.withLock { $0.byModule[module] ?? [] }.filter { $0.affects(module, version: version) }
        guard !affecting.isEmpty else { return .allowed }
        if vulnerabilities == .warn { return .warned(affecting.map(\.id)) }
        let first = affecting[0]
        let fix = affecting.compactMap { $0.fix(for: module, above: version) }.sorted(by: SemVer.less).last
        return .denied("\(module)@\(version) has known vulnerability \(first.label)\(first.summary.map { ": " + $0 } ?? "")"
                       + (affecting.count > 1 ? " (and \(affecting.count - 1) more)" : "")
                       + (fix.map { "; fixed in \($0)" } ?? "; no fixed version"))
    }
}
