import Foundation
import GoModule

/// Writes what Warren holds as a plain GOPROXY file tree (`module/@v/list`, `.info`,
/// `.mod`, `.zip`), for `GOPROXY=file:///…` on a machine with no network, or for another
/// proxy to serve. Every file is written beside its final name and renamed into place, so
/// a tree being refreshed never shows a partial file; `list` holds every version exported
/// (and those already in the tree).
public struct GoproxyTreeExport: Sendable {
    public struct Report: Sendable, Equatable {
        public var versions = 0
        public var files = 0
        public var bytes: Int64 = 0
    }

    let storage: any ArtifactStorage
    let index: any MetadataIndex

    public init(storage: any ArtifactStorage, index: any MetadataIndex) {
        self.storage = storage
        self.index = index
    }

    /// Exports the versions first stored at or after `since` (nil: all) whose module
    /// `include` accepts.
    public func run(to directory: String, since: Double?, include: @Sendable (String) -> Bool = { _ in true }) async throws -> Report {
        var report = Report()
        var byModule: [String: [String]] = [:]
        var after: (module: String, version: String)?
        while true {
            let page = try await index.catalog(after: after, limit: 500)
            for v in page where include(v.module) && (since.map { v.storedAt >= $0 } ?? true) {
                var wrote = false
                for kind in [ArtifactKind.info, .mod, .zip] {
                    guard let stored = try await storage.open(.artifact(module: v.module, version: v.version, kind: kind)) else { continue }
                    let path = try Self.path(directory, v.module, v.version, kind)
                    report.bytes += try Self.write(stored, to: path)
                    report.files += 1
                    wrote = true
                }
                if wrote {
                    report.versions += 1
                    byModule[v.module, default: []].append(v.version)
                }
            }
            guard page.count == 500, let last = page.last else { break }
            after = (last.module, last.version)
        }
        for (module, versions) in byModule {
            let list = try PathEscaping.escapePath(module)
            let listPath = directory + "/" + list + "/@v/list"
            let existing = (try? String(contentsOfFile: listPath, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
            let all = Set(existing + versions).filter { ModuleVersion.canonical($0) == $0 }.sorted { SemVer.compare($0, $1) < 0 }
            try Self.replace(listPath, with: Array((all.joined(separator: "\n") + "\n").utf8))
            report.files += 1
        }
        return report
    }

    static func path(_ directory: String, _ module: String, _ version: String, _ kind: ArtifactKind) throws -> String {
        directory + "/" + (try PathEscaping.escapePath(module)) + "/@v/" + (try PathEscaping.escapeVersion(version)) + "." + kind.rawValue
    }

    /// Copies a stored artifact to `path` (through a temporary name); returns its size.
    static func write(_ stored: StoredArtifact, to path: String) throws -> Int64 {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = path + ".tmp-\(getpid())"
        let out = try WritableFile(creating: temporary, exclusive: false)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: Int64 = 0
        do {
            while offset < stored.metadata.size {
                let n = try buffer.withUnsafeMutableBytes { try stored.file.read(into: $0, at: offset) }
                if n == 0 { break }
                try out.write(Array(buffer.prefix(n)))
                offset += Int64(n)
            }
            try out.sync()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else { throw FileIOError("rename", path) }
        return offset
    }

    static func replace(_ path: String, with bytes: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
