import Foundation
import GoModule

/// One bare mirror of a repository under the data directory, fetched incrementally:
/// never a clone per request, one fetch at a time (concurrent requests wait for the
/// fetch in progress), and objects read straight from it, never from a checkout.
actor GitMirror {
    let location: CodeLocation
    let directory: String
    let git: GitCommand
    private var fetching: Task<Void, any Error>?
    private var lastFetch: ContinuousClock.Instant?
    /// Tags change only when the mirror is fetched: read once per fetch, by one git
    /// process however many requests ask at the same moment.
    private var tagsRead: Task<[Tag], any Error>?
    /// The branches and tags the remote advertised when the mirror last matched it (nil
    /// until known in this process): a refresh that sees the same skips the fetch.
    private var remoteRefs: [String: String]?
    /// Running `git cat-file` processes for every read (go.mod files, commits, trees,
    /// zip contents), replaced after each fetch; git per file cost milliseconds each.
    nonisolated let readers: GitObjectReaders

    struct Tag: Sendable, Equatable {
        /// Without `refs/tags/`.
        var name: String
        /// The commit it points at, through annotated tags.
        var commit: String
    }

    init(location: CodeLocation, directory: String, git: GitCommand) {
        self.location = location
        self.directory = directory
        self.git = git
        self.readers = GitObjectReaders(git: git, repository: directory)
    }

    /// Makes sure the mirror is at most `maxAge` old, fetching if it is older; a fetch
    /// already running is joined instead of started again.
    func refresh(maxAge: Duration) async throws(GitCommand.Failure) {
        if let last = lastFetch, ContinuousClock.now - last < maxAge { return }
        let task: Task<Void, any Error>
        if let running = fetching {
            task = running
        } else {
            task = Task { try await self.fetch() }
            fetching = task
        }
        do {
            try await task.value
        } catch let e as GitCommand.Failure {
            throw e
        } catch {
            throw GitCommand.Failure(arguments: ["fetch"], status: -1, stderr: "\(error)")
        }
    }

    private func fetch() async throws {
        defer { fetching = nil }
        if !FileManager.default.fileExists(atPath: directory + "/HEAD") {
            // The first fetch is a bare clone: one git process and one connection that
            // also set HEAD to the remote's default branch. Cloned beside the mirror and
            // renamed, so a failed clone leaves nothing behind.
            let parent = (directory as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            let scratch = directory + ".clone-" + UUID().uuidString
            do {
                // No template: its sample hooks and info files are a third of a small clone's cost.
                _ = try await git.run(["clone", "--bare", "--quiet", "--no-hardlinks", "--template=", location.url, scratch], limit: 1 << 20)
                try FileManager.default.moveItem(atPath: scratch, toPath: directory)
            } catch {
                try? FileManager.default.removeItem(atPath: scratch)
                throw error
            }
            remoteRefs = nil
        } else {
            // One connection tells whether anything changed: usually nothing has, and the
            // mirror (with its tags read and its cat-file readers running) stays as it is.
            // (Only HEAD, branches and tags are asked for: a hosting server also advertises
            // every pull request, which the server filters out with protocol v2.)
            let advertised = RemoteRefs.parse(try await git.run(["ls-remote", "--symref", location.url, "HEAD", "refs/heads/*", "refs/tags/*"],
                                                                in: directory, limit: 64 << 20))
            let known: [String: String]
            if let remoteRefs {
                known = remoteRefs
            } else {
                known = RemoteRefs.parseLocal(try await git.run(["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags"], in: directory))
            }
            // HEAD follows the remote's default branch: @latest of an untagged module is
            // its head's pseudo-version.
            if let head = advertised.head, head != Self.readHEAD(directory) {
                _ = try await git.run(["symbolic-ref", "HEAD", head], in: directory)
            }
            if advertised.refs == known {
                remoteRefs = advertised.refs
                lastFetch = ContinuousClock.now
                return
            }
            _ = try await git.run(["fetch", "--quiet", "--force", "--prune", "--no-auto-gc", location.url,
                                   "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], in: directory, limit: 1 << 20)
            remoteRefs = advertised.refs
        }
        tagsRead = nil
        let readers = self.readers
        // The old readers go; a new one starts now, while the caller reads the tags.
        _ = try? await git.threadPool.runIfActive { readers.reset() }
        git.threadPool.submit { _ in _ = try? readers.withReader { _ in } }
        lastFetch = ContinuousClock.now
    }

    /// The branch a bare repository's HEAD names (`refs/heads/main`), read from its file.
    static func readHEAD(_ directory: String) -> String? {
        guard let text = try? String(contentsOfFile: directory + "/HEAD", encoding: .utf8), text.hasPrefix("ref: ") else { return nil }
        return text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `body` with one of the mirror's cat-file readers, on the git thread pool.
    nonisolated func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (GitBlobStream) throws -> T) async throws(GitCommand.Failure) -> T {
        let readers = self.readers
        let result: Result<T, GitCommand.Failure>
        do {
            result = try await git.threadPool.runIfActive {
                do {
                    return .success(try readers.withReader(body))
                } catch is GitBlobStream.TooLarge {
                    return .failure(GitCommand.Failure(arguments: ["cat-file"], status: -1, stderr: "fatal: \(what) is too large"))
                } catch let e as GitBlobStream.Failure {
                    return .failure(GitCommand.Failure(arguments: ["cat-file"], status: -1, stderr: "fatal: \(e.description)"))
                } catch {
                    return .failure(GitCommand.Failure(arguments: ["cat-file"], status: -1, stderr: "fatal: \(error)"))
                }
            }
        } catch {
            throw GitCommand.Failure(arguments: ["cat-file"], status: -1, stderr: "fatal: \(error)")
        }
        return try result.get()
    }

    /// A whole object, or nil when it does not exist.
    private func object(_ name: String, limit: Int) async throws(GitCommand.Failure) -> (type: String, bytes: [UInt8])? {
        try await read(name) { try $0.object(name, limit: limit) }
    }

    /// A query (tag, branch, `HEAD`, or a commit hash or prefix) → its commit and the ref
    /// that named it; nil when it names nothing.
    func resolve(_ query: String) async throws(GitCommand.Failure) -> (commit: String, ref: String?)? {
        if let tag = try await tags().first(where: { $0.name == query }) { return (tag.commit, "refs/tags/" + query) }
        let heads = try await git.run(["for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"], in: directory)
        for line in String(decoding: heads, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, f[0] == "refs/heads/" + query { return (String(f[1]), String(f[0])) }
        }
        if query == "HEAD" {
            guard let out = try? await git.run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], in: directory) else { return nil }
            let ref = try? await git.run(["symbolic-ref", "--quiet", "HEAD"], in: directory)
            return (String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                    ref.map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) })
        }
        // A commit hash or a prefix of one (never an option: queries are [0-9a-f] here).
        guard query.count >= 4, query.count <= 40, query.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        guard let out = try? await git.run(["rev-parse", "--verify", "--quiet", query + "^{commit}"], in: directory) else { return nil }
        return (String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), nil)
    }

    /// Tags whose commits are ancestors of `commit` (or it), for pseudo-version bases.
    func tagsMerged(into commit: String) async throws(GitCommand.Failure) -> [String] {
        let out = try await git.run(["for-each-ref", "--format=%(refname:strip=2)", "--merged", commit, "refs/tags"], in: directory)
        return String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Every tag, with the commit it names.
    func tags() async throws(GitCommand.Failure) -> [Tag] {
        let task: Task<[Tag], any Error>
        if let tagsRead {
            task = tagsRead
        } else {
            // Before the first fetch there is no mirror to ask (and no git to start).
            guard lastFetch != nil || FileManager.default.fileExists(atPath: directory + "/HEAD") else {
                throw GitCommand.Failure(arguments: ["for-each-ref"], status: -1, stderr: "fatal: no mirror yet")
            }
            task = Task { try await Self.readTags(git: git, directory: directory) }
            tagsRead = task
        }
        do {
            return try await task.value
        } catch {
            // A failed read is not kept: the next request asks git again.
            if tagsRead == task { tagsRead = nil }
            if let failure = error as? GitCommand.Failure { throw failure }
            throw GitCommand.Failure(arguments: ["for-each-ref"], status: -1, stderr: "fatal: \(error)")
        }
    }

    private static func readTags(git: GitCommand, directory: String) async throws(GitCommand.Failure) -> [Tag] {
        let out = try await git.run(["for-each-ref", "--format=%(refname:strip=2) %(objectname) %(*objectname) %(objecttype)", "refs/tags"], in: directory)
        return String(decoding: out, as: UTF8.self).split(separator: "\n").compactMap { line -> Tag? in
            let f = line.split(separator: " ", omittingEmptySubsequences: false)
            guard f.count == 4 else { return nil }
            // Annotated tags name a tag object; %(*objectname) is what it points at.
            let commit = f[3] == "tag" ? String(f[2]) : String(f[1])
            return Tag(name: String(f[0]), commit: commit)
        }
    }

    /// The commit time (seconds since 1970, UTC) of `commit`: the committer line's
    /// timestamp, as `git show -s --format=%ct` prints it.
    func commitTime(_ commit: String) async throws(GitCommand.Failure) -> Int64 {
        guard let (type, bytes) = try await object(commit + "^{commit}", limit: 16 << 20), type == "commit" else {
            throw GitCommand.Failure(arguments: ["cat-file"], status: -1, stderr: "fatal: no commit \(commit)")
        }
        // Headers end at the first empty line; "committer NAME <EMAIL> SECONDS ZONE".
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            guard line.starts(with: Array("committer ".utf8)) else { continue }
            let fields = String(decoding: line, as: UTF8.self).split(separator: " ")
            if fields.count >= 3, let t = Int64(fields[fields.count - 2]) { return t }
        }
        throw GitCommand.Failure(arguments: ["cat-file"], status: -1, stderr: "fatal: no commit time for \(commit)")
    }

    /// A file's bytes at a commit, or nil when there is no such file.
    func readFile(_ commit: String, _ path: String, limit: Int) async throws(GitCommand.Failure) -> [UInt8]? {
        guard let (type, bytes) = try await object(commit + ":" + path, limit: limit), type == "blob" else { return nil }
        return bytes
    }

    struct TreeEntry: Sendable {
        var mode: String
        var type: String
        var object: String
        var size: Int64
        /// Relative to the repository root.
        var path: String
    }

    /// Every file under `dir` (the whole tree for "") at `commit`, recursively, in git's
    /// order, with paths relative to the repository root; trees themselves are not
    /// listed. Read through a cat-file reader where git has `--batch-command`, else
    /// with `ls-tree`.
    func files(_ commit: String, under dir: String) async throws(GitCommand.Failure) -> [TreeEntry] {
        if GitCommand.hasBatchCommand(git) {
            return try await read("tree") { try Self.walk($0, commit: commit, dir: dir) }
        }
        var args = ["ls-tree", "-z", "-l", "-r", commit]
        if !dir.isEmpty { args += ["--", dir] }
        return Self.parseListing(try await git.run(args, in: directory))
    }

    /// The entry `name` of the root tree at `commit`, if there is one.
    func rootEntry(_ commit: String, _ name: String) async throws(GitCommand.Failure) -> TreeEntry? {
        if GitCommand.hasBatchCommand(git) {
            return try await read("tree") { reader -> TreeEntry? in
                guard let record = try reader.tree(commit + "^{tree}", limit: Self.treeLimit)?.first(where: { $0.name == name }) else { return nil }
                return try Self.sized([(record, name)], reader).first
            }
        }
        return Self.parseListing(try await git.run(["ls-tree", "-z", "-l", commit, "--", name], in: directory)).first { $0.path == name }
    }

    /// Largest tree object read (a directory with tens of thousands of entries).
    static let treeLimit = 64 << 20

    private static func walk(_ reader: GitBlobStream, commit: String, dir: String) throws -> [TreeEntry] {
        var records: [(GitBlobStream.TreeRecord, String)] = []
        func visit(_ name: String, _ prefix: String) throws {
            guard let entries = try reader.tree(name, limit: treeLimit) else { return }
            for e in entries {
                let path = prefix.isEmpty ? e.name : prefix + "/" + e.name
                if e.mode == "40000" {
                    try visit(e.object, path)
                } else {
                    records.append((e, path))
                }
            }
        }
        try visit(dir.isEmpty ? commit + "^{tree}" : commit + ":" + dir, dir)
        return try sized(records, reader)
    }

    /// Tree records as entries, with blob sizes asked of git (`info`).
    private static func sized(_ records: [(GitBlobStream.TreeRecord, String)], _ reader: GitBlobStream) throws -> [TreeEntry] {
        let blobs = records.filter { $0.0.mode != "160000" }.map { $0.0.object }
        var sizes: [String: Int64] = [:]
        for (object, answer) in zip(blobs, try reader.info(blobs)) {
            guard let answer else { throw GitBlobStream.Failure(description: "git cat-file: object \(object) is missing") }
            sizes[object] = answer.size
        }
        return records.map { record, path in
            // Submodules (gitlinks) are commits; everything else in a tree is a blob.
            let isCommit = record.mode == "160000"
            return TreeEntry(mode: record.mode, type: isCommit ? "commit" : "blob", object: record.object,
                             size: isCommit ? 0 : sizes[record.object] ?? 0, path: path)
        }
    }

    static func parseListing(_ out: [UInt8]) -> [TreeEntry] {
        out.split(separator: 0).compactMap { record in
            // "<mode> <type> <object> <size>\t<path>"
            guard let tab = record.firstIndex(of: 0x09) else { return nil }
            let meta = String(decoding: record[..<tab], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: true)
            guard meta.count == 4 else { return nil }
            return TreeEntry(mode: String(meta[0]), type: String(meta[1]), object: String(meta[2]),
                             size: Int64(meta[3]) ?? 0, path: String(decoding: record[record.index(after: tab)...], as: UTF8.self))
        }
    }
}
