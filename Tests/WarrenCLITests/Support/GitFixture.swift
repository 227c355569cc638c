import Foundation
import TestServers

/// Bare git repositories built by the tests from real module sources (Debian's
/// golang-*-dev packages), with deterministic commits and tags, and a git config whose
/// `url.<base>.insteadOf` rewrites send `https://github.com/OWNER/REPO` to them: both
/// the go command (GOPROXY=direct) and Warren's direct mode reach them as if online.
final class GitFixture: @unchecked Sendable {
    let root: String
    var gitconfig: String { root + "/gitconfig" }
    /// The environment that points git at the fixture.
    var environment: [String: String] { ["GIT_CONFIG_GLOBAL": gitconfig, "GIT_CONFIG_NOSYSTEM": "1"] }

    static let shared: GitFixture = {
        do {
            return try GitFixture()
        } catch {
            fatalError("cannot build the git fixture (is git installed? scripts/install-deps.sh test): \(error)")
        }
    }()

    struct Step {
        /// Destination path in the repository → source file or directory (copied), or
        /// literal contents when the source starts with "=".
        var files: [(String, String)]
        var tags: [String] = []
        var annotated = false
        var date: String
    }

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/warren-git-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let src = "/usr/share/gocode/src/"
        let kr = src + "github.com/kr/text"
        // Tagged releases, an annotated tag, and an untagged head.
        try makeRepo("github.com/kr/text", [
            Step(files: [("", kr)], tags: ["v0.1.0"], date: "2019-01-02T10:00:00Z"),
            Step(files: [("doc.go", kr + "/doc.go"), ("extra.go", "=package text\n\n// Extra is new in v0.2.0.\nconst Extra = 1\n")],
                 tags: ["v0.2.0"], annotated: true, date: "2020-02-03T11:00:00Z"),
            Step(files: [("later.go", "=package text\n\nconst Later = 2\n")], date: "2021-03-04T12:30:45Z"),
        ])
        // A module in a subdirectory with prefixed tags and only a root LICENSE; CRLF kept.
        try makeRepo("github.com/wtest/multi", [
            Step(files: [("LICENSE", "=Copyright the authors. All rights reserved.\n"),
                         ("sub/go.mod", "=module github.com/wtest/multi/sub\n\ngo 1.16\n"),
                         ("sub/wrap.go", kr + "/wrap.go"), ("sub/doc.go", kr + "/doc.go"),
                         ("sub/crlf.txt", "=line one\r\nline two\r\n"),
                         ("root.go", "=package multi\n")],
                 tags: ["sub/v1.0.0", "v0.5.0"], date: "2022-05-06T07:08:09Z"),
            Step(files: [("sub/more.go", "=package text\n")], date: "2022-06-07T08:09:10Z"),
        ])
        // v1 at the root, v2 in a major subdirectory.
        try makeRepo("github.com/wtest/major", [
            Step(files: [("go.mod", "=module github.com/wtest/major\n\ngo 1.16\n"), ("m.go", "=package major\n")],
                 tags: ["v1.0.0"], date: "2022-01-01T00:00:00Z"),
            Step(files: [("v2/go.mod", "=module github.com/wtest/major/v2\n\ngo 1.16\n"), ("v2/m.go", "=package major\n\nconst V = 2\n")],
                 tags: ["v2.0.0"], date: "2022-02-01T00:00:00Z"),
        ])
        // No go.mod and v3 tags: +incompatible.
        try makeRepo("github.com/dgrijalva/jwt-go", [
            Step(files: [("", src + "github.com/dgrijalva/jwt-go")], tags: ["v3.1.0"], date: "2017-01-01T00:00:00Z"),
            Step(files: [("VERSION_HISTORY.md", "=history\n")], tags: ["v3.2.0"], annotated: true, date: "2018-03-08T23:13:08Z"),
        ])
        // go.mod files the go command reads laxly: a syntax error after the module line
        // (fine), no module line (an error), another module's path (fine: only the major
        // version has to agree).
        try makeRepo("github.com/wtest/badmod", [
            Step(files: [("go.mod", "=module github.com/wtest/badmod\n\nrequire (\n"), ("a.go", "=package badmod\n")],
                 tags: ["v1.0.0"], date: "2023-01-01T00:00:00Z"),
            Step(files: [("go.mod", "=modul github.com/wtest/badmod\n")], tags: ["v1.1.0"], date: "2023-02-01T00:00:00Z"),
            Step(files: [("go.mod", "=module github.com/wtest/other // a fork\n")], tags: ["v1.2.0"], date: "2023-03-01T00:00:00Z"),
        ])
        // A file large enough to be streamed from git into the zip rather than batched.
        let big = (0..<150_000).map { "line \($0) \(($0 &* 2_654_435_761) % 1_000_003)\n" }.joined()
        try makeRepo("github.com/wtest/big", [
            Step(files: [("go.mod", "=module github.com/wtest/big\n"), ("big.txt", "=" + big), ("b.go", "=package big\n")],
                 tags: ["v1.0.0"], date: "2023-04-01T00:00:00Z"),
        ])
        // Repositories behind the vanity domain vanity.test (see VanityServer).
        try makeRepo("git.vanity.test/lib", [
            Step(files: [("go.mod", "=module vanity.test/lib\n\ngo 1.18\n"), ("lib.go", kr + "/wrap.go")], tags: ["v1.0.0"], date: "2023-05-01T00:00:00Z"),
            Step(files: [("more.go", "=package text\n")], tags: ["v1.1.0"], date: "2023-06-01T00:00:00Z"),
            Step(files: [("head.go", "=package text\n\nconst Head = true\n")], date: "2023-07-01T00:00:00Z"),
        ])
        try makeRepo("git.vanity.test/tools", [
            Step(files: [("LICENSE", "=Tools licence.\n"), ("sub/go.mod", "=module vanity.test/tools/sub\n"), ("sub/s.go", "=package sub\n")],
                 tags: ["sub/v1.0.0"], date: "2023-08-01T00:00:00Z"),
        ])
        // A private repository, published over authenticated HTTP by the tests.
        try makeRepo("git.corp.test/secret", [
            Step(files: [("go.mod", "=module github.com/corp/secret\n"), ("s.go", "=package secret\n")], tags: ["v1.0.0"], date: "2023-09-01T00:00:00Z"),
        ])
        try addMissingRepo("github.com/wtest/absent")
    }

    /// A repository that is gone: its rewrite points at nothing.
    func addMissingRepo(_ path: String) throws {
        let rule = "[url \"file://\(root)/missing/\(path).git\"]\n\tinsteadOf = https://\(path)\n"
        let existing = (try? String(contentsOfFile: gitconfig, encoding: .utf8)) ?? ""
        try (existing + rule).write(toFile: gitconfig, atomically: true, encoding: .utf8)
    }

    /// Builds `root/<path>.git` from the steps, and adds its insteadOf rewrite.
    func makeRepo(_ path: String, _ steps: [Step]) throws {
        let work = root + "/work/" + path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "master"], in: work)
        for (i, step) in steps.enumerated() {
            for (dest, source) in step.files {
                let target = dest.isEmpty ? work : work + "/" + dest
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                if source.hasPrefix("=") {
                    try Data(source.dropFirst().utf8).write(to: URL(fileURLWithPath: target))
                } else if dest.isEmpty {
                    for item in try FileManager.default.contentsOfDirectory(atPath: source) {
                        try FileManager.default.copyItem(atPath: source + "/" + item, toPath: work + "/" + item)
                    }
                } else {
                    try? FileManager.default.removeItem(atPath: target)
                    try FileManager.default.copyItem(atPath: source, toPath: target)
                }
            }
            try git(["add", "-A"], in: work)
            try git(["commit", "-q", "-m", "step \(i)"], in: work, date: step.date)
            for tag in step.tags {
                try git(step.annotated ? ["tag", "-a", "-m", tag, tag] : ["tag", tag], in: work, date: step.date)
            }
        }
        let bare = root + "/" + path + ".git"
        try git(["clone", "-q", "--bare", work, bare], in: root)
        let rule = "[url \"file://\(bare)\"]\n\tinsteadOf = https://\(path)\n"
        let existing = (try? String(contentsOfFile: gitconfig, encoding: .utf8)) ?? ""
        try (existing + rule).write(toFile: gitconfig, atomically: true, encoding: .utf8)
    }

    func git(_ args: [String], in dir: String, date: String = "2020-01-01T00:00:00Z") throws {
        let result = try TestProcess.run(
            "/usr/bin/git", ["-c", "user.name=Warren Tests", "-c", "user.email=tests@warren.invalid", "-c", "core.autocrlf=false"] + args,
            environment: ["PATH": "/usr/bin:/bin", "HOME": root, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
                          "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "TZ": "UTC"], directory: dir)
        guard result.status == 0 else {
            throw GitFailed(description: "git \(args.joined(separator: " ")): " + result.stderr)
        }
    }

    struct GitFailed: Error, CustomStringConvertible { let description: String }
}
