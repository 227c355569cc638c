import ArgumentParser
import AsyncHTTPClient
import Foundation
import GoModule
import NIOCore
import WarrenCore

/// `warren publish`: builds a module zip with the go command's rules and uploads it to a
/// Warren's hosted namespace.
///
///     warren publish DIR MODULE@VERSION --to URL     a directory, as `go mod` would zip it
///     warren publish --git [REF] --to URL            the module in the current directory at
///                                                    REF (default HEAD), versioned as the go
///                                                    command would: its tag, else a pseudo-version
///
/// Credentials come from .netrc (`$NETRC`, else ~/.netrc) for the URL's host, as the go
/// command finds them, or from `WARREN_TOKEN`.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish a module version to a Warren's hosted namespace."
    )

    @Argument(help: ArgumentHelp("DIR MODULE@VERSION, or with --git an optional REF.", valueName: "args"))
    var arguments: [String] = []

    @Flag(help: "Publish the module in the current directory from git, at REF (default HEAD).")
    var git = false

    @Option(help: ArgumentHelp("The Warren to publish to (its URL, with the path prefix if it has one).", valueName: "url"))
    var to: String

    @Option(help: ArgumentHelp("The version's time, RFC 3339. (default: the commit time with --git, else now)", valueName: "time"))
    var time: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("Trust the CAs in this PEM file besides the system's.", valueName: "file"))
    var caFile: String?

    @Option(help: ArgumentHelp("The .netrc to read. (default: $NETRC, else ~/.netrc)", valueName: "file"))
    var netrc: String?

    func validate() throws {
        if git {
            guard arguments.count <= 1 else { throw ValidationError("with --git, give at most a REF") }
        } else {
            guard arguments.count == 2, arguments[1].contains("@") else {
                throw ValidationError("want DIR MODULE@VERSION (or --git [REF])")
            }
        }
        guard to.hasPrefix("https://") || to.hasPrefix("http://") else { throw ValidationError("--to: want the Warren's URL") }
        if let time, ISO8601DateFormatter().date(from: time) == nil { throw ValidationError("--time: want an RFC 3339 time") }
    }

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.path + "/warren-publish-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let zipPath = scratch + "/module.zip"
        let module: String, version: String, hash: String
        var versionTime = time.flatMap { ISO8601DateFormatter().date(from: $0) }
        do {
            if git {
                let built = try await LocalRepositoryModule.build(moduleIn: FileManager.default.currentDirectoryPath, ref: arguments.first ?? "HEAD",
                                                                  scratch: scratch, zipPath: zipPath)
                (module, version, hash) = (built.module, built.version, built.zip.hash)
                versionTime = versionTime ?? built.time
            } else {
                let parts = arguments[1].split(separator: "@", maxSplits: 1).map(String.init)
                (module, version) = (parts[0], parts[1])
                let sink = try WritableFile(creating: zipPath)
                hash = try ModuleZipWriter.create(module: module, version: version, directory: arguments[0], to: sink).hash
            }
        } catch {
            printError("warren publish: \(error)")
            throw ExitCode(1)
        }
        print("built \(module)@\(version) \(hash)")
        do {
            let uploaded = try await PublishUploader(base: to, caFile: caFile, netrc: netrc).upload(zipPath: zipPath, module: module,
                                                                                                    version: version, time: versionTime)
            print(uploaded)
        } catch {
            printError("warren publish: \(error)")
            throw ExitCode(1)
        }
    }
}
