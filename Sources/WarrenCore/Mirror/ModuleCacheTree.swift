import Foundation
import GoModule

/// A GOPROXY-layout tree on disk — a developer's `GOMODCACHE/cache/download`, or a
/// `file://` proxy — read as the versions it holds: those with a zip, and those with only
/// a go.mod (the go command keeps those for the module graph).
public enum ModuleCacheTree {
    public static func items(in root: String) throws -> [ModuleMirror.Item] {
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            throw ProxyError.badRequest("\(root) is not a directory")
        }
        var zips = Set<String>(), mods = Set<String>()
        while let relative = walker.nextObject() as? String {
            guard let at = relative.range(of: "/@v/") else { continue }
            let file = relative[at.upperBound...]
            let escapedModule = String(relative[..<at.lowerBound])
            for (suffix, into) in [(".zip", 0), (".mod", 1)] where file.hasSuffix(suffix) && !file.contains("/") {
                guard let module = try? PathEscaping.unescapePath(escapedModule),
                      let version = try? PathEscaping.unescapeVersion(String(file.dropLast(suffix.count))),
                      ModuleVersion.canonical(version) == version else { continue }
                if into == 0 { zips.insert(module + "@" + version) } else { mods.insert(module + "@" + version) }
            }
        }
        let split = { (key: String, zip: Bool) -> ModuleMirror.Item? in
            guard let at = key.lastIndex(of: "@") else { return nil }
            return ModuleMirror.Item(module: String(key[..<at]), version: String(key[key.index(after: at)...]), zip: zip)
        }
        return (zips.compactMap { split($0, true) } + mods.subtracting(zips).compactMap { split($0, false) })
            .sorted { ($0.module, $0.version) < ($1.module, $1.version) }
    }
}
