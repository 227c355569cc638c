import Foundation
import GoModule

/// A commit of a local git repository, versioned and zipped exactly as the go command's
/// direct mode would (the same code Warren uses for `direct`): the highest canonical tag
/// on the commit (with the module's subdirectory prefix), else a pseudo-version based on
/// the highest tag reachable from it. What `warren publish --git` publishes.
public enum LocalRepositoryModule {
    public struct Built: Sendable {
        public var module: String
        public var version: String
        /// The commit time: the `.info` time the go command would give the version.
        public var time: Date
        public var commit: String
        public var zip: ModuleZipWriter.Result
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The module whose go.mod is in `directory` (inside a git work tree), at `ref`.
    public static func build(moduleIn directory: String, ref: String, scratch: String, zipPath: String) async throws -> Built {
        let git = GitCommand()
        let top: String, prefix: String
        do {
            let out = String(decoding: try await git.run(["rev-parse", "--show-toplevel", "--show-prefix"], in: directory), as: UTF8.self)
            let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            top = lines.first ?? directory
            prefix = lines.count > 1 ? lines[1] : ""
        } catch {
            throw Failure(description: "\(directory) is not in a git work tree")
        }
        guard let text = try? String(contentsOfFile: directory + "/go.mod", encoding: .utf8),
              let modulePath = GoModParser.modulePath(text) else {
            throw Failure(description: "no go.mod with a module line in \(directory)")
        }
        // A /vN module in a vN/ subdirectory is tagged as its parent directory's module.
        var codeDir = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let (_, pathMajor, _) = ModulePathMajor.split(modulePath)
        if !pathMajor.isEmpty, codeDir == String(pathMajor.dropFirst()) || codeDir.hasSuffix(pathMajor) {
            codeDir = String(codeDir.dropLast(pathMajor.count - 1))
            if codeDir.hasSuffix("/") { codeDir.removeLast() }
        }
        return try await build(repository: top, modulePath: modulePath, codeDir: codeDir, ref: ref, scratch: scratch, zipPath: zipPath)
    }

    /// - Parameters:
    ///   - repository: the repository's work tree (or a bare repository).
    ///   - modulePath: the module's path (its go.mod's `module` line).
    ///   - codeDir: the module's directory in the repository without a major-version
    ///     subdirectory (`sub` for tags `sub/v1.2.3`), empty at the root.
    ///   - ref: a branch, tag, commit, or `HEAD`.
    ///   - scratch: a directory this call may use (a bare clone is made in it).
    ///   - zipPath: where the zip is written.
    public static func build(repository: String, modulePath: String, codeDir: String, ref: String, scratch: String,
                             zipPath: String) async throws -> Built {
        let git = GitCommand()
        let commit: String
        do {
            let out = try await git.run(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], in: repository)
            commit = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw Failure(description: "\(ref) is not a commit of \(repository)")
        }
        let (_, pathMajor, _) = ModulePathMajor.split(modulePath)
        let location = CodeLocation(modulePath: modulePath, root: modulePath, url: repository, codeDir: codeDir, pathMajor: pathMajor)
        let mirror = GitMirror(location: location, directory: scratch + "/repository.git", git: git)
        do {
            try await mirror.refresh(maxAge: .zero)
        } catch {
            throw Failure(description: "could not read \(repository): \(error.summary)")
        }
        // The clone has the repository's branches and tags; a commit on neither is fetched too.
        if (try? await mirror.commitTime(commit)) == nil {
            _ = try? await git.run(["fetch", "--quiet", repository, commit], in: scratch + "/repository.git")
        }
        let module = DirectModule(location: location, mirror: mirror)
        do {
            let revision = try await module.version(of: commit)
            let seconds = try await mirror.commitTime(commit)
            let sink = try WritableFile(creating: zipPath, exclusive: false)
            let zip = try await module.zip(revision, to: sink)
            return Built(module: modulePath, version: revision.version, time: Date(timeIntervalSince1970: TimeInterval(seconds)), commit: commit, zip: zip)
        } catch let failure as DirectModule.Failure {
            throw Failure(description: failure.description)
        } catch let failure as GitCommand.Failure {
            throw Failure(description: failure.summary)
        }
    }
}
