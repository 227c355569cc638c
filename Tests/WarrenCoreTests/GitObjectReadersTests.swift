import Foundation
import Testing
@testable import WarrenCore
import GoModule

/// The mirror's long-lived cat-file readers: file lists read from tree objects must be
/// exactly what `git ls-tree -r -l` lists, and readers are reused only while sound.
@Suite struct GitObjectReadersTests {
    /// A repository with nested directories, an executable, a symlink, a submodule
    /// entry, an empty file and a name with spaces; returns its git directory and commit.
    static func makeRepository() throws -> (gitDir: String, commit: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("warren-readers-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: root + "/a/b", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/z", withIntermediateDirectories: true)
        try Data("package b\n".utf8).write(to: URL(fileURLWithPath: root + "/a/b/c.go"))
        try Data("module example.com/m\n".utf8).write(to: URL(fileURLWithPath: root + "/go.mod"))
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: root + "/run.sh"))
        try Data().write(to: URL(fileURLWithPath: root + "/z/empty"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/a/with space.txt"))
        chmod(root + "/run.sh", 0o755)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "go.mod")
        func git(_ args: [String]) throws -> String {
            let child = try ChildProcess.start("/usr/bin/git", ["-c", "user.name=t", "-c", "user.email=t@t", "-C", root] + args,
                                               environment: ["PATH": "/usr/bin:/bin", "HOME": root, "GIT_CONFIG_NOSYSTEM": "1"])
            let (out, err, _) = child.collect(limit: 1 << 20)
            let status = child.wait()
            guard status == 0 else { throw ChildProcess.Failure(description: "git \(args): \(String(decoding: err, as: UTF8.self))") }
            return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git(["init", "-q"])
        _ = try git(["add", "-A"])
        _ = try git(["update-index", "--add", "--cacheinfo", "160000,1111111111111111111111111111111111111111,a/sub"])
        _ = try git(["commit", "-q", "-m", "one"])
        return (root + "/.git", try git(["rev-parse", "HEAD"]))
    }

    static func mirror(_ gitDir: String) -> GitMirror {
        let location = CodeLocation(modulePath: "example.com/m", root: "example.com/m", url: "file://" + gitDir, codeDir: "", pathMajor: "")
        return GitMirror(location: location, directory: gitDir, git: GitCommand())
    }

    func lsTree(_ gitDir: String, _ args: [String]) async throws -> [GitMirror.TreeEntry] {
        try await offThread {
            let child = try ChildProcess.start("/usr/bin/git", ["ls-tree", "-z", "-l"] + args, environment: ["PATH": "/usr/bin:/bin"], directory: gitDir)
            let out = child.collect(limit: 1 << 20).output
            guard child.wait() == 0 else { throw ChildProcess.Failure(description: "git ls-tree failed") }
            return GitMirror.parseListing(out)
        }
    }

    func same(_ a: [GitMirror.TreeEntry], _ b: [GitMirror.TreeEntry]) -> Bool {
        a.map { "\($0.mode) \($0.type) \($0.object) \($0.size) \($0.path)" } == b.map { "\($0.mode) \($0.type) \($0.object) \($0.size) \($0.path)" }
    }

    @Test func treesReadThroughCatFileMatchLsTree() async throws {
        let (gitDir, commit) = try await offThread { try Self.makeRepository() }
        defer { try? FileManager.default.removeItem(atPath: (gitDir as NSString).deletingLastPathComponent) }
        let mirror = Self.mirror(gitDir)
        let whole = try await mirror.files(commit, under: "")
        #expect(same(whole, try await lsTree(gitDir, ["-r", commit])), "\(whole.map(\.path))")
        #expect(whole.contains { $0.path == "a/sub" && $0.type == "commit" })
        #expect(whole.contains { $0.path == "link" && $0.mode == "120000" })
        #expect(whole.contains { $0.path == "run.sh" && $0.mode == "100755" })
        let sub = try await mirror.files(commit, under: "a")
        #expect(same(sub, try await lsTree(gitDir, ["-r", commit, "--", "a"])), "\(sub.map(\.path))")
        #expect(try await mirror.files(commit, under: "nowhere").isEmpty)
        let license = try await mirror.rootEntry(commit, "go.mod")
        #expect(license?.size == 21 && license?.path == "go.mod")
        #expect(try await mirror.rootEntry(commit, "LICENSE") == nil)
    }

    /// What the reader pool did, step by step (observed on a thread of its own).
    struct PoolObservations: Sendable {
        var reusedIdle = false
        var blob = ""
        var brokenAfterDrop = false
        var brokenReaderWasTheIdleOne = false
        var lentAfterBreak: Bool?
        var soundAfterReset = false
        var keptWhileYoung = false
        var idleLeftYoung = -1
        var idleLeftOld = -1
        var newAfterExpiry = false
    }

    @Test func readersAreReusedUntilBrokenOrReset() async throws {
        let seen = try await offThread { () -> PoolObservations in
            let (gitDir, commit) = try Self.makeRepository()
            defer { try? FileManager.default.removeItem(atPath: (gitDir as NSString).deletingLastPathComponent) }
            var seen = PoolObservations()
            let readers = GitObjectReaders(git: GitCommand(), repository: gitDir)
            let first = try readers.withReader { r in r.pid }
            seen.reusedIdle = try readers.withReader { r in r.pid } == first
            seen.blob = try readers.withReader { r in try r.object(commit + ":go.mod", limit: 1024) }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
            // A reader dropped in the middle of a blob leaves the stream out of step.
            let (brokenPid, broken) = try readers.withReader { r -> (Int32, Bool) in
                guard let size = try r.info([commit + ":go.mod"]).first??.size,
                      let id = try r.tree(commit + "^{tree}", limit: 1 << 20)?.first(where: { $0.name == "go.mod" })?.object else { return (r.pid, false) }
                var reader: (any SequentialByteReader)? = try r.open(id, size: size)
                var one = [UInt8](repeating: 0, count: 1)
                _ = try one.withUnsafeMutableBytes { try reader?.read(into: $0) }
                reader = nil
                return (r.pid, r.isBroken)
            }
            seen.brokenAfterDrop = broken
            seen.brokenReaderWasTheIdleOne = brokenPid == first
            seen.lentAfterBreak = try readers.withReader { r in r.pid == brokenPid || r.isBroken }
            readers.reset()
            seen.soundAfterReset = try readers.withReader { r in !r.isBroken }
            // Idle readers are kept for a while, then closed.
            let kept = try readers.withReader { r in r.pid }
            seen.idleLeftYoung = readers.closeIdle(olderThan: .seconds(60))
            seen.keptWhileYoung = try readers.withReader { r in r.pid } == kept
            seen.idleLeftOld = readers.closeIdle(olderThan: .zero)
            seen.newAfterExpiry = try readers.withReader { r in r.pid } != kept
            return seen
        }
        #expect(seen.reusedIdle, "an idle reader is reused")
        #expect(seen.blob == "module example.com/m\n")
        #expect(seen.brokenAfterDrop && seen.brokenReaderWasTheIdleOne)
        #expect(seen.lentAfterBreak == false, "a broken reader is never lent again")
        #expect(seen.soundAfterReset)
        #expect(seen.idleLeftYoung == 1 && seen.keptWhileYoung)
        #expect(seen.idleLeftOld == 0 && seen.newAfterExpiry)
    }

    @Test func gitVersionsWithBatchCommand() {
        #expect(GitCommand.versionAtLeast("git version 2.39.5", 2, 36))
        #expect(GitCommand.versionAtLeast("git version 2.36.0.windows.1", 2, 36))
        #expect(GitCommand.versionAtLeast("git version 3.0", 2, 36))
        #expect(!GitCommand.versionAtLeast("git version 2.34.1", 2, 36))
        #expect(!GitCommand.versionAtLeast("not git", 2, 36))
    }

    @Test func infoTimesAreTheGoCommandsRFC3339() {
        #expect(DirectModule.rfc3339UTC(0) == "1970-01-01T00:00:00Z")
        #expect(DirectModule.rfc3339UTC(1_651_820_889) == "2022-05-06T07:08:09Z")
        #expect(DirectModule.rfc3339UTC(1_709_251_199) == "2024-02-29T23:59:59Z")
    }
}

/// `git ls-remote --symref` as a mirror compares it with its own refs.
@Suite struct RemoteRefsTests {
    @Test func branchesTagsAndHEADOnly() {
        let output = """
        ref: refs/heads/main\tHEAD
        1111111111111111111111111111111111111111\tHEAD
        1111111111111111111111111111111111111111\trefs/heads/main
        2222222222222222222222222222222222222222\trefs/pull/7/head
        3333333333333333333333333333333333333333\trefs/tags/v1.0.0
        4444444444444444444444444444444444444444\trefs/tags/v1.0.0^{}
        5555555555555555555555555555555555555555\trefs/tags/v1.1.0

        """
        let parsed = RemoteRefs.parse(Array(output.utf8))
        #expect(parsed.head == "refs/heads/main")
        #expect(parsed.refs == ["refs/heads/main": String(repeating: "1", count: 40),
                                "refs/tags/v1.0.0": String(repeating: "3", count: 40),
                                "refs/tags/v1.1.0": String(repeating: "5", count: 40)])
        let local = "1111111111111111111111111111111111111111 refs/heads/main\n3333333333333333333333333333333333333333 refs/tags/v1.0.0\n5555555555555555555555555555555555555555 refs/tags/v1.1.0\n"
        #expect(RemoteRefs.parseLocal(Array(local.utf8)) == parsed.refs)
    }
}
