import Foundation
import GoModule

/// Checks on what upstreams send, before anything is stored or served.
extension ModuleProxy {
    /// An `.info` (or `@latest`) must be a JSON object naming a canonical version — the
    /// requested one, when a specific version was asked for.
    static func validateInfo(_ bytes: [UInt8], expected: String?, module: String) throws(ProxyError) {
        struct Info: Decodable {
            var Version: String
            var Time: String?
        }
        let info: Info
        do {
            info = try JSONDecoder().decode(Info.self, from: Data(bytes))
        } catch {
            throw .upstreamFailed("upstream sent a malformed .info for \(module)")
        }
        if ModuleVersion.canonical(info.Version) != info.Version {
            throw .upstreamFailed("upstream .info for \(module) names an invalid version \(GoQuote.string(info.Version))")
        }
        if let expected, info.Version != expected {
            throw .upstreamFailed("upstream .info for \(module)@\(expected) names version \(info.Version)")
        }
    }

    /// A `.mod` must be UTF-8 text with a `module` line. It is read as the go command
    /// reads a dependency's go.mod in version control: a syntax error further down does
    /// not make a module unusable (Go 1.19 downloads such modules directly), but an
    /// answer without a module line (an HTML page, an error text) is not a go.mod.
    static func validateGoMod(_ bytes: [UInt8], module: String, version: String) throws(ProxyError) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .upstreamFailed("upstream .mod for \(module)@\(version) is not UTF-8 text")
        }
        if GoModModuleLine.modulePath(bytes).isEmpty {
            throw .upstreamFailed("upstream .mod for \(module)@\(version) has no module line")
        }
    }

    /// The `list` a client gets: canonical tagged versions only (pseudo-versions are not
    /// listed; retracted versions stay, the go command hides them itself), one per line,
    /// in semver order.
    static func filterList(_ bytes: [UInt8]) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        var seen = Set<String>()
        var versions: [String] = []
        for line in text.split(whereSeparator: { $0.isNewline }) {
            let v = line.trimmingCharacters(in: .whitespaces)
            guard !v.isEmpty, ModuleVersion.canonical(v) == v, !PseudoVersion.isPseudoVersion(v) else { continue }
            if seen.insert(v).inserted { versions.append(v) }
        }
        SemVer.sort(&versions)
        return versions.isEmpty ? [] : Array((versions.joined(separator: "\n") + "\n").utf8)
    }
}
