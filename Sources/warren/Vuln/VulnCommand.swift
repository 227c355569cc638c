import ArgumentParser
import Foundation
import WarrenCore

/// `warren vuln import DIR`: loads OSV records (the Go vulnerability database's format,
/// as vuln.go.dev publishes them, copied in offline) into the database `warren serve`
/// uses; running servers apply them within seconds (`--vulnerabilities warn|block`).
struct VulnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vuln",
        abstract: "Import known vulnerabilities (OSV records) for the supply-chain policy.",
        subcommands: [VulnImportCommand.self]
    )
}

struct VulnImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load every OSV record (*.json) under a directory; a malformed one stops the import, naming it."
    )

    @Argument(help: "A directory of OSV JSON files (a copy of the Go vulnerability database; its index/ files are skipped).")
    var directory: String

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let records: [(id: String, json: String)]
        var modules = Set<String>()
        do {
            records = try Self.read(directory, modules: &modules)
        } catch {
            throw ValidationError("\(error)")
        }
        guard !records.isEmpty else { throw ValidationError("no OSV records under \(directory)") }
        try await database.withIndex("vuln import") { index, _, _ in
            guard let store = index as? any VulnerabilityStore else { throw ValidationError("this database keeps no vulnerability records") }
            try await store.importVulnerabilities(records)
        }
        print("imported \(records.count) vulnerability records affecting \(modules.count) modules")
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// Every record under `root`, checked; the Go vulnerability database's `index/` files
    /// (not records) are skipped.
    static func read(_ root: String, modules: inout Set<String>) throws -> [(id: String, json: String)] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw Malformed(description: "cannot read \(root)") }
        var out: [(String, String)] = []
        var seen = Set<String>()
        for case let relative as String in walker where relative.hasSuffix(".json") {
            if relative.hasPrefix("index/") || relative.contains("/index/") { continue }
            let path = root + "/" + relative
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw Malformed(description: "\(path): cannot read it as UTF-8")
            }
            let record: OSVRecord
            do {
                record = try OSVRecord(json: Array(data))
            } catch {
                throw Malformed(description: "\(path): \(error)")
            }
            guard seen.insert(record.id).inserted else { throw Malformed(description: "\(path): \(record.id) appears twice") }
            modules.formUnion(record.affected.map(\.module))
            out.append((record.id, text))
        }
        return out.sorted { $0.0 < $1.0 }
    }
}
