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

    /// The rules and the vulnerability mode in force (a reload may replace them).
    private let settings: Mutex<(rules: [PolicyRule], vulnerabilities: VulnerabilityMode)>
    public var rules: [PolicyRule] { settings.withLock { $0.rules } }
    public var vulnerabilities: VulnerabilityMode { settings.withLock { $0.vulnerabilities } }
    let store: (any VulnerabilityStore)?
    /// Records by affected module, and the store generation they were loaded at.
    private let loaded = Mutex<(byModule: [String: [OSVRecord]], generation: Int64?)>(([:], nil))
    private let versionCounter = Atomic<Int>(0)

    public init(rules: [PolicyRule], vulnerabilities: VulnerabilityMode, store: (any VulnerabilityStore)?) {
        self.settings = Mutex((rules, vulnerabilities))
        self.store = store
    }

    /// Puts reloaded rules and mode in force: answers remembered under the old ones are
    /// decided again (the version moves), and records are loaded if they now count.
    /// Records that cannot be read now are read by the next `refresh()`.
    public func replace(rules: [PolicyRule], vulnerabilities: VulnerabilityMode) async {
        settings.withLock { $0 = (rules, vulnerabilities) }
        loaded.withLock { $0.generation = nil }
        _ = try? await refresh()
        versionCounter.add(1, ordering: .releasing)
    }

    /// Whether there is anything to decide (else requests skip it).
    public var isEmpty: Bool { settings.withLock { $0.rules.isEmpty && ($0.vulnerabilities == .off || store == nil) } }

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
        let (rules, mode) = settings.withLock { ($0.rules, $0.vulnerabilities) }
        for rule in rules where rule.kind != .allowOnly && rule.matches(module, version: version) {
            if rule.kind == .allow { return vulnerabilityDecision(module, version, mode) }
            let what = version.map { "\(module)@\($0)" } ?? module
            return .denied("\(what) is denied by policy: \(rule.reason ?? "rule \(GoQuote.string(rule.text))")")
        }
        let lists = rules.filter { $0.kind == .allowOnly }
        if !lists.isEmpty, !lists.contains(where: { $0.modules.matches(module) }) {
            return .denied("\(module) is not on the allow-only list of this proxy's policy")
        }
        return vulnerabilityDecision(module, version, mode)
    }

    func vulnerabilityDecision(_ module: String, _ version: String?, _ vulnerabilities: VulnerabilityMode) -> Decision {
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
