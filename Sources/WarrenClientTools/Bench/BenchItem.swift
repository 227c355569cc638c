import Foundation
import GoModule

/// One module version to download through every proxy, with the hashes a go.sum
/// expects for it when the input was a go.sum.
public struct BenchItem: Sendable, Hashable, Codable {
    public var path: String
    public var version: String
    /// False for go.sum lines that only name `/go.mod`: the go command needs just the .mod.
    public var wantZip: Bool
    public var goSumZipHash: String?
    public var goSumModHash: String?

    public var id: String { "\(path)@\(version)" }
}

/// Turns `warren bench` arguments into items: `module@version`, a go.mod (its
/// requirements) or a go.sum (its lines, with their hashes).
public enum BenchInput {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func items(from arguments: [String]) throws(Failure) -> [BenchItem] {
        var items: [BenchItem] = []
        for argument in arguments {
            if argument.hasSuffix("go.sum") || argument.hasSuffix("go.mod") {
                guard let text = try? String(contentsOfFile: argument, encoding: .utf8) else {
                    throw Failure(description: "cannot read \(argument)")
                }
                items += try argument.hasSuffix("go.sum") ? fromGoSum(text) : fromGoMod(text, file: argument)
                continue
            }
            guard let at = argument.lastIndex(of: "@") else {
                throw Failure(description: "\(argument): want module@version, a go.mod or a go.sum")
            }
            let path = String(argument[..<at]), version = String(argument[argument.index(after: at)...])
            try check(path, version, argument)
            items.append(BenchItem(path: path, version: version, wantZip: true))
        }
        var seen = Set<String>()
        return items.filter { seen.insert($0.id).inserted }
    }

    static func check(_ path: String, _ version: String, _ context: String) throws(Failure) {
        do { try PathRules.checkModulePath(path) } catch { throw Failure(description: "\(context): \(error.description)") }
        guard SemVer.isValid(version), SemVer.canonical(version) == version || version.hasSuffix("+incompatible") else {
            throw Failure(description: "\(context): \(version) is not a canonical semantic version")
        }
    }

    static func fromGoSum(_ text: String) throws(Failure) -> [BenchItem] {
        var byID: [String: BenchItem] = [:]
        var order: [String] = []
        for (n, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 3 else {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                throw Failure(description: "go.sum line \(n + 1): want \"path version hash\"")
            }
            let path = String(fields[0])
            var version = String(fields[1])
            let isMod = version.hasSuffix("/go.mod")
            if isMod { version = String(version.dropLast(7)) }
            try check(path, version, "go.sum line \(n + 1)")
            let id = "\(path)@\(version)"
            if byID[id] == nil {
                byID[id] = BenchItem(path: path, version: version, wantZip: false)
                order.append(id)
            }
            if isMod { byID[id]?.goSumModHash = String(fields[2]) } else {
                byID[id]?.goSumZipHash = String(fields[2])
                byID[id]?.wantZip = true
            }
        }
        return order.compactMap { byID[$0] }
    }

    static func fromGoMod(_ text: String, file: String) throws(Failure) -> [BenchItem] {
        let mod: GoModFile
        do { mod = try GoModParser.parse(text, fileName: file) } catch { throw Failure(description: error.description) }
        return mod.requirements.map { BenchItem(path: $0.path, version: $0.version, wantZip: true) }
    }
}
