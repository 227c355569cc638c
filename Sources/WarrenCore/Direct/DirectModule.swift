import Foundation
import GoModule

/// One module served from its repository: versions from tags, `.info`, `.mod` and
/// `.zip` at a tagged revision, by the go command's rules (go.dev/ref/mod#vcs).
struct DirectModule: Sendable {
    let location: CodeLocation
    let mirror: GitMirror

    struct Failure: Error, CustomStringConvertible {
        /// The module or version does not exist (a 404 to the client).
        var notFound: Bool
        var description: String
    }

    /// A version and the commit its tag names.
    struct Revision: Sendable {
        var version: String
        var commit: String
    }

    // MARK: - Versions

    /// Tagged versions, as `list` shows them: canonical semver tags with this module's
    /// prefix and a compatible major version; v2+ tags of a module without a `/vN`
    /// suffix as `+incompatible`, unless go.mod files say they are not.
    func versions() async throws(Failure) -> [Revision] {
        let tags = try await git { () async throws(GitCommand.Failure) in try await mirror.tags() }
        var compatible: [Revision] = [], incompatible: [Revision] = []
        for tag in tags where tag.name.hasPrefix(location.tagPrefix) {
            let v = String(tag.name.dropFirst(location.tagPrefix.count))
            guard !v.isEmpty, SemVer.canonical(v) == v, !PseudoVersion.isPseudoVersion(v) else { continue }
            if ModulePathMajor.matches(version: v, pathMajor: location.pathMajor) {
                compatible.append(Revision(version: v, commit: tag.commit))
            } else if location.codeDir.isEmpty, location.pathMajor.isEmpty, SemVer.compare(SemVer.major(v), "v1") > 0 {
                incompatible.append(Revision(version: v, commit: tag.commit))
            }
        }
        compatible.sort { SemVer.less($0.version, $1.version) }
        incompatible.sort { SemVer.less($0.version, $1.version) }
        return compatible + (try await admittedIncompatible(incompatible, after: compatible))
    }

    /// v2+ versions without go.mod are `+incompatible`, but none is listed when the latest
    /// compatible version has a go.mod, nor any of a major whose latest version has one.
    private func admittedIncompatible(_ candidates: [Revision], after compatible: [Revision]) async throws(Failure) -> [Revision] {
        guard !candidates.isEmpty else { return [] }
        if let last = compatible.last, try await hasGoMod(last.commit) { return [] }
        var out: [Revision] = []
        var byMajor: [String: [Revision]] = [:]
        for c in candidates { byMajor[SemVer.major(c.version), default: []].append(c) }
        for major in byMajor.keys.sorted(by: SemVer.less) {
            guard let group = byMajor[major], let latest = group.last else { continue }
            if try await hasGoMod(latest.commit) { continue }
            out += group.map { Revision(version: $0.version + "+incompatible", commit: $0.commit) }
        }
        return out
    }

    private func hasGoMod(_ commit: String) async throws(Failure) -> Bool {
        let path = location.codeDir.isEmpty ? "go.mod" : location.codeDir + "/go.mod"
        return try await git { () async throws(GitCommand.Failure) in try await mirror.readFile(commit, path, limit: Int(ModuleZipRules.maxGoMod)) } != nil
    }

    /// The revision of a canonical version, or a not-found failure.
    func revision(_ version: String) async throws(Failure) -> Revision {
        guard let r = try await versions().first(where: { $0.version == version }) else {
            throw Failure(notFound: true, description: "\(location.modulePath)@\(version): unknown revision \(location.tagPrefix)\(version.replacingOccurrences(of: "+incompatible", with: ""))")
        }
        return r
    }

    // MARK: - Queries and pseudo-versions

    /// The version a query names (a branch, a tag, a commit prefix, `HEAD`), as the go
    /// command converts revisions: the highest canonical tag on the commit, else a
    /// pseudo-version based on the highest tag reachable from it. Also returns the ref
    /// that named the commit, for `.info`'s Origin.
    func resolve(query: String) async throws(Failure) -> (revision: Revision, ref: String?) {
        guard let (commit, ref) = try await git({ () async throws(GitCommand.Failure) in try await mirror.resolve(query) }) else {
            throw Failure(notFound: true, description: "\(location.modulePath)@\(query): invalid version: unknown revision \(query)")
        }
        return (try await version(of: commit), ref)
    }

    /// The version the go command gives `commit`.
    func version(of commit: String) async throws(Failure) -> Revision {
        let tags = try await git { () async throws(GitCommand.Failure) in try await mirror.tags() }
        let goMods = GoModPresence(module: self, commit: commit)
        var highest = ""
        for tag in tags where tag.commit == commit {
            guard let (v, canonical) = tagVersion(tag.name), canonical, try await allowed(v, goMods) else { continue }
            if highest.isEmpty || SemVer.compare(highest, v) < 0 { highest = v }
        }
        if !highest.isEmpty { return try await checkCanonical(highest, goMods) }
        var base = ""
        for name in try await git({ () async throws(GitCommand.Failure) in try await mirror.tagsMerged(into: commit) }) {
            guard let (v, _) = tagVersion(name), try await allowed(v, goMods) else { continue }
            if base.isEmpty || SemVer.compare(base, v) < 0 { base = v }
        }
        let seconds = try await git { () async throws(GitCommand.Failure) in try await mirror.commitTime(commit) }
        let major = location.pathMajor.isEmpty ? "" : String(location.pathMajor.dropFirst())
        let pseudo = PseudoVersion.make(major: major, older: base, time: Date(timeIntervalSince1970: TimeInterval(seconds)),
                                        rev: String(commit.prefix(12)))
        return try await checkCanonical(pseudo, goMods)
    }

    /// The revision of a pseudo-version, checked: its commit exists, and computing the
    /// commit's pseudo-version again gives the same answer.
    func pseudoRevision(_ version: String) async throws(Failure) -> Revision {
        guard let rev = try? PseudoVersion.revision(version),
              let (commit, _) = try await git({ () async throws(GitCommand.Failure) in try await mirror.resolve(rev) }) else {
            throw Failure(notFound: true, description: "\(location.modulePath)@\(version): invalid version: unknown revision")
        }
        let computed = try await self.version(of: commit)
        guard computed.version == version else {
            throw Failure(notFound: true, description: "\(location.modulePath)@\(version): invalid pseudo-version: the commit's version is \(computed.version)")
        }
        return computed
    }

    /// A tag's version for this module: nil unless it has the module's prefix and a
    /// semver version (`v1.2` is not one); `canonical` when the tag is exactly that.
    private func tagVersion(_ tag: String) -> (String, Bool)? {
        guard tag.hasPrefix(location.tagPrefix) else { return nil }
        let trimmed = String(tag.dropFirst(location.tagPrefix.count))
        guard !PseudoVersion.isPseudoVersion(trimmed) else { return nil }
        let v = SemVer.canonical(trimmed)
        guard !v.isEmpty, trimmed.hasPrefix(v) else { return nil }
        return (v, v == trimmed)
    }

    private func allowed(_ v: String, _ goMods: GoModPresence) async throws(Failure) -> Bool {
        if ModulePathMajor.matches(version: v, pathMajor: location.pathMajor) { return true }
        return try await canUseIncompatible(v, goMods)
    }

    /// v2+ without a `/vN` path is allowed (as +incompatible) only at the repository root
    /// of a tree that has no go.mod, neither at the root nor in `vN/`.
    private func canUseIncompatible(_ v: String, _ goMods: GoModPresence) async throws(Failure) -> Bool {
        guard location.codeDir.isEmpty, location.pathMajor.isEmpty else { return false }
        if try await goMods.has("go.mod") { return false }
        return try await !goMods.has(SemVer.major(v) + "/go.mod")
    }

    /// Which go.mod files a commit has, each asked of git once: deciding on a commit's
    /// version may ask about the same files for every tag reachable from it.
    final class GoModPresence {
        let module: DirectModule
        let commit: String
        private var known: [String: Bool] = [:]

        init(module: DirectModule, commit: String) {
            self.module = module
            self.commit = commit
        }

        func has(_ path: String) async throws(Failure) -> Bool {
            if let k = known[path] { return k }
            let found = try await module.read(commit, path, limit: Int(ModuleZipRules.maxGoMod)) != nil
            known[path] = found
            return found
        }
    }

    private func checkCanonical(_ v: String, _ goMods: GoModPresence) async throws(Failure) -> Revision {
        let commit = goMods.commit
        var version = v
        if !ModulePathMajor.matches(version: v, pathMajor: location.pathMajor) {
            guard try await canUseIncompatible(v, goMods) else {
                let why = location.pathMajor.isEmpty
                    ? "module contains a go.mod file, so module path must match major version (\(GoQuote.string(location.modulePath + "/" + SemVer.major(v))))"
                    : "module path includes a major version suffix, so major version must match"
                throw Failure(notFound: true, description: "\(location.modulePath)@\(v): invalid version: \(why)")
            }
            version = v + "+incompatible"
        }
        let revision = Revision(version: version, commit: commit)
        if !version.hasSuffix("+incompatible") { _ = try await moduleDirectory(revision) }
        return revision
    }

    // MARK: - Artifacts

    /// `.info`: the version, its commit time in UTC, and where it came from.
    func info(_ revision: Revision, ref: String? = nil) async throws(Failure) -> [UInt8] {
        let seconds = try await git { () async throws(GitCommand.Failure) in try await mirror.commitTime(revision.commit) }
        let time = Self.rfc3339UTC(seconds)
        let tag = location.tagPrefix + revision.version.replacingOccurrences(of: "+incompatible", with: "")
        let isTagged = !PseudoVersion.isPseudoVersion(revision.version)
        struct Origin: Encodable {
            var VCS = "git"
            var URL: String
            var Subdir: String?
            var Hash: String
            var Ref: String?
        }
        struct Info: Encodable {
            var Version: String
            var Time: String
            var Origin: Origin
        }
        let origin = Origin(URL: location.url, Subdir: location.codeDir.isEmpty ? nil : location.codeDir, Hash: revision.commit,
                            Ref: ref ?? (isTagged ? "refs/tags/" + tag : nil))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(Info(Version: revision.version, Time: time, Origin: origin)))) ?? []
    }

    /// The directory holding the module at a revision, chosen as the go command's
    /// findDir chooses it: the code directory, or for a `/vN` module its `vN/`
    /// subdirectory when that has a go.mod claiming `/vN`. go.mod files are read laxly
    /// (only the `module` line counts) and only the major version has to agree.
    /// Returns the directory and its go.mod (nil when there is none).
    func moduleDirectory(_ revision: Revision) async throws(Failure) -> (dir: String, goMod: [UInt8]?) {
        let limit = Int(ModuleZipRules.maxGoMod)
        let pathMajor = location.pathMajor
        let dir1 = location.codeDir, file1 = join(dir1, "go.mod")
        let gomod1 = try await read(revision.commit, file1, limit: limit)
        let mpath1 = gomod1.map(GoModModuleLine.modulePath) ?? ""
        let found1 = gomod1 != nil
            && (GoModModuleLine.isMajor(mpath1, pathMajor: pathMajor) || (pathMajor.isEmpty && mpath1.hasPrefix("gopkg.in/")))
        let failure = { (reason: String) in
            Failure(notFound: true, description: "\(location.modulePath)@\(revision.version): invalid version: \(reason) at revision \(revision.commit.prefix(12))")
        }
        var file2 = ""
        if !pathMajor.isEmpty, location.root != location.modulePath, !pathMajor.hasPrefix(".") {
            let dir2 = join(dir1, String(pathMajor.dropFirst()))
            file2 = join(dir2, "go.mod")
            let gomod2 = try await read(revision.commit, file2, limit: limit)
            let mpath2 = gomod2.map(GoModModuleLine.modulePath) ?? ""
            let found2 = gomod2 != nil && GoModModuleLine.isMajor(mpath2, pathMajor: pathMajor)
            if found1 && found2 {
                throw failure("\(file1) and \(file2) both have ...\(pathMajor) module paths")
            }
            if found2 { return (dir2, gomod2) }
            if gomod2 != nil {
                throw failure(mpath2.isEmpty ? "\(file2) is missing module path" : "\(file2) has non-...\(pathMajor) module path \(GoQuote.string(mpath2))")
            }
        }
        if found1 { return (dir1, gomod1) }
        if gomod1 != nil {
            let also = file2.isEmpty ? "" : " (and ...\(pathMajor)/go.mod does not exist)"
            if mpath1.isEmpty { throw failure("\(file1) is missing module path\(also)") }
            if !pathMajor.isEmpty { throw failure("\(file1) has non-...\(pathMajor) module path \(GoQuote.string(mpath1))\(also)") }
            if !ModulePathMajor.split(mpath1).ok { throw failure("\(file1) has malformed module path \(GoQuote.string(mpath1))\(also)") }
            throw failure("\(file1) has post-\(SemVer.major(revision.version)) module path \(GoQuote.string(mpath1))\(also)")
        }
        if dir1.isEmpty && (pathMajor.isEmpty || pathMajor.hasPrefix(".")) { return ("", nil) }
        if !file2.isEmpty { throw failure("missing \(file1) and ...\(pathMajor)/go.mod") }
        throw failure("missing \(file1)")
    }

    /// `.mod`: the go.mod at the revision, or the synthesized one when there is none.
    func goMod(_ revision: Revision) async throws(Failure) -> [UInt8] {
        if revision.version.hasSuffix("+incompatible") {
            // An +incompatible version ignores any go.mod (it would name another path).
            return Array(GoModFile.synthesized(modulePath: location.modulePath).utf8)
        }
        return try await moduleDirectory(revision).goMod ?? Array(GoModFile.synthesized(modulePath: location.modulePath).utf8)
    }

    /// `.zip`: the module's files at the revision, by GoModule's zip rules, written to
    /// `sink`. A subdirectory module without a LICENSE gets the repository root's.
    func zip(_ revision: Revision, to sink: WritableFile) async throws(Failure) -> ModuleZipWriter.Result {
        let dir = revision.version.hasSuffix("+incompatible") ? location.codeDir : try await moduleDirectory(revision).dir
        let entries = try await git { () async throws(GitCommand.Failure) in try await mirror.files(revision.commit, under: dir) }
        var files: [(relative: String, entry: GitMirror.TreeEntry)] = []
        for e in entries {
            let relative = dir.isEmpty ? e.path : String(e.path.dropFirst(dir.count + 1))
            files.append((relative, e))
        }
        if !dir.isEmpty, !files.contains(where: { $0.relative == "LICENSE" }),
           let root = try await git({ () async throws(GitCommand.Failure) in try await mirror.rootEntry(revision.commit, "LICENSE") }),
           root.type == "blob" {
            files.append(("LICENSE", root))
        }
        let total = files.reduce(Int64(0)) { $0 + ($1.entry.type == "blob" ? $1.entry.size : 0) }
        guard total <= ModuleZipRules.maxZipFile else {
            throw Failure(notFound: true, description: "\(location.modulePath)@\(revision.version): module source tree too large (\(total) bytes; max \(ModuleZipRules.maxZipFile))")
        }
        let module = location.modulePath, version = revision.version, readers = mirror.readers, listed = files
        let result: Result<ModuleZipWriter.Result, Failure>
        do {
            result = try await mirror.git.threadPool.runIfActive {
                do {
                    return .success(try readers.withReader { stream in
                        // Regular files are read from one cat-file process while they are
                        // compressed; symlinks and submodules are offered as what they are,
                        // so the zip rules leave them out as the go command does.
                        let sourceFiles = listed.map { f -> ModuleSourceFile in
                            if f.entry.type == "blob" && f.entry.mode != "120000" {
                                let object = f.entry.object, size = f.entry.size
                                return ModuleSourceFile(path: f.relative, kind: .regular(size: size),
                                                        contents: .reader { try stream.open(object, size: size) })
                            }
                            let kind: FileKind = f.entry.mode == "120000" ? .symlink : .other
                            return ModuleSourceFile(path: f.relative, kind: kind, contents: .bytes([]))
                        }
                        return try ModuleZipWriter.create(module: module, version: version, files: sourceFiles, to: sink)
                    })
                } catch let error as GitBlobStream.Failure {
                    return .failure(Failure(notFound: false, description: "\(module)@\(version): \(error.description)"))
                } catch {
                    return .failure(Failure(notFound: true, description: "\(module)@\(version): \(error)"))
                }
            }
        } catch {
            throw Failure(notFound: false, description: "\(module)@\(version): \(error)")
        }
        return try result.get()
    }

    // MARK: - Helpers

    /// `2006-01-02T15:04:05Z` for a Unix time, as the go command writes `.info` times.
    /// (An ISO8601DateFormatter per `.info` cost more than reading the commit.)
    static func rfc3339UTC(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil else { return "1970-01-01T00:00:00Z" }
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let year = parts.tm_year + 1900
        let y = year < 1000 ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
        return "\(y)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    fileprivate func read(_ commit: String, _ path: String, limit: Int) async throws(Failure) -> [UInt8]? {
        try await git { () async throws(GitCommand.Failure) in try await mirror.readFile(commit, path, limit: limit) }
    }

    private func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "/" + b }

    /// Runs a git step, turning its failure into a direct-mode failure.
    private func git<T>(_ body: () async throws(GitCommand.Failure) -> T) async throws(Failure) -> T {
        do {
            return try await body()
        } catch {
            throw Failure(notFound: false, description: "\(location.modulePath): \(error.summary)")
        }
    }
}
