import Foundation
import Testing

/// A mirror follows its repository: new tags, deleted tags, new commits on a branch and
/// a changed default branch all reach Warren's answers (with `--list-ttl 0`, after the
/// background refresh that a stale answer starts).
@Suite(.serialized) struct DirectRefreshTests {
    let git = GitFixture.shared

    /// Asks `url` until its body satisfies `ok` (each answer may start a refresh).
    func eventually(_ url: String, _ ok: (String) -> Bool) async throws -> String {
        var last = ""
        for _ in 0..<100 {
            last = try await HTTP.get(url).text
            if ok(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        return last
    }

    @Test func theMirrorFollowsTagsBranchesAndTheDefaultBranch() async throws {
        let module = "github.com/wtest/moving"
        let git = self.git
        try await offThread {
            try git.makeRepo(module, [
                Step(files: [("go.mod", "=module github.com/wtest/moving\n"), ("a.go", "=package moving\n")],
                     tags: ["v1.0.0"], date: "2023-01-01T00:00:00Z"),
            ])
        }
        let work = git.root + "/work/" + module, bare = git.root + "/" + module + ".git"
        /// Changes the working repository (off the runtime's threads) and publishes it.
        func change(_ steps: @escaping @Sendable () throws -> Void) async throws {
            try await offThread {
                try steps()
                try git.git(["fetch", "-q", "--prune", work, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], in: bare)
            }
        }
        let warren = try await WarrenServerProcess.start(arguments: ["--upstream", "direct", "--list-ttl", "0"], environment: git.environment)
        defer { warren.stop() }
        let list = warren.url + "/" + module + "/@v/list"
        #expect(try await HTTP.get(list).text == "v1.0.0\n")

        // A new tag.
        try await change {
            try Data("package moving\n\nconst B = 1\n".utf8).write(to: URL(fileURLWithPath: work + "/b.go"))
            try git.git(["add", "-A"], in: work)
            try git.git(["commit", "-q", "-m", "b"], in: work, date: "2023-02-01T00:00:00Z")
            try git.git(["tag", "v1.1.0"], in: work)
        }
        #expect(try await eventually(list) { $0 == "v1.0.0\nv1.1.0\n" } == "v1.0.0\nv1.1.0\n")
        #expect(try await HTTP.get(warren.url + "/" + module + "/@v/v1.1.0.info").status == 200)

        // A deleted tag.
        try await change { try git.git(["tag", "-d", "v1.0.0"], in: work) }
        #expect(try await eventually(list) { $0 == "v1.1.0\n" } == "v1.1.0\n")

        // A new untagged commit on master: the branch query resolves to it.
        try await change {
            try Data("package moving\n\nconst C = 1\n".utf8).write(to: URL(fileURLWithPath: work + "/c.go"))
            try git.git(["add", "-A"], in: work)
            try git.git(["commit", "-q", "-m", "c"], in: work, date: "2023-03-01T00:00:00Z")
        }
        let master = try await eventually(warren.url + "/" + module + "/@v/master.info") { $0.contains("v1.1.1-0.20230301000000-") }
        #expect(master.contains("\"Version\":\"v1.1.1-0.20230301000000-"), "\(master)")

        // The repository's default branch changes: the mirror's HEAD follows.
        try await change { try git.git(["branch", "main"], in: work) }
        try await offThread { try git.git(["symbolic-ref", "HEAD", "refs/heads/main"], in: bare) }
        let mirrorHEAD = warren.dataDir + "/vcs/" + module + ".git/HEAD"
        for _ in 0..<100 {
            _ = try await HTTP.get(list)
            if (try? String(contentsOfFile: mirrorHEAD, encoding: .utf8)) == "ref: refs/heads/main\n" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try String(contentsOfFile: mirrorHEAD, encoding: .utf8) == "ref: refs/heads/main\n")
    }
}

typealias Step = GitFixture.Step
